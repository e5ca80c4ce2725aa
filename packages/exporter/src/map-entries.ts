// What the store reads from one printed entry: its key, its number (or why it has none: made-up values are
// skipped, never exported), keys printed twice in one dump added up, and the exit-dump divisor applied.
import type { MapEntry } from '@ktrace/parser';
import type { ExportShape } from './metric-names.js';

/**
 * Why a printed value was not exported (ktrace_values_skipped_total{reason}): not a finite number (`1e309`,
 * `true`, `null`, an array), a negative count, sum or bucket count, or a stats() total that went down.
 */
export type SkipReason = 'not_a_number' | 'negative' | 'decreased';
export const SKIP_REASONS: readonly SkipReason[] = ['not_a_number', 'negative', 'decreased'];

export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Why an entry cannot be exported as it stands, or undefined when it can. */
export function unusable(shape: ExportShape, entry: MapEntry): SkipReason | undefined {
  switch (shape) {
    case 'counter': {
      const value = toNumber(entry.value);
      return value === undefined ? 'not_a_number' : value < 0 ? 'negative' : undefined;
    }
    case 'gauge':
      return toNumber(entry.value) === undefined ? 'not_a_number' : undefined;
    case 'stats': {
      const stats = entry.stats;
      if (stats === undefined || ![stats.count, stats.total, stats.average].every(Number.isFinite))
        return 'not_a_number';
      return stats.count < 0 ? 'negative' : undefined;
    }
    case 'histogram': {
      const buckets = entry.buckets;
      if (buckets === undefined || !buckets.every((b) => typeof b.count === 'number' && Number.isFinite(b.count)))
        return 'not_a_number';
      return buckets.some((b) => b.count < 0) ? 'negative' : undefined;
    }
  }
}

export function keyOf(entry: MapEntry): string {
  return entry.key.length === 0 ? '' : entry.key.length === 1 ? String(entry.key[0]) : entry.key.join('\u0000');
}

/**
 * One entry per key. bpftrace's JSON keys are lossy (0.24+ deletes spaces, ≤0.21 joins parts with a bare `,`), so
 * two bpftrace keys can print as one: both are the same series, so their values add up (counters, stats, buckets)
 * before they are compared with the previous dump. Applied one after the other, the second looked like a restart
 * and the series grew on every dump. Gauges keep the last value.
 */
export function entriesByKey(entries: MapEntry[]): { entries: MapEntry[]; keys: string[] } {
  const keys: string[] = [];
  const merged: MapEntry[] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const key = keyOf(entry);
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, merged.length);
      keys.push(key);
      merged.push(entry);
    } else {
      merged[at] = addEntries(merged[at] as MapEntry, entry);
    }
  }
  return { entries: merged, keys };
}

function addEntries(first: MapEntry, entry: MapEntry): MapEntry {
  const sum: MapEntry = { key: first.key };
  const a = toNumber(first.value);
  const b = toNumber(entry.value);
  if (a !== undefined && b !== undefined) sum.value = a + b;
  else if (first.value !== undefined) sum.value = first.value;
  if (first.stats !== undefined && entry.stats !== undefined) {
    const count = first.stats.count + entry.stats.count;
    const total = first.stats.total + entry.stats.total;
    sum.stats = { count, total, average: count === 0 ? 0 : Math.trunc(total / count) };
  } else if (first.stats !== undefined) sum.stats = first.stats;
  if (first.buckets !== undefined || entry.buckets !== undefined)
    sum.buckets = [...(first.buckets ?? []), ...(entry.buckets ?? [])];
  return sum;
}

/** Entries divided as bpftrace's `print(@m, top, div)` divides them: integer division, toward zero. */
export function divided(entries: MapEntry[], divisor: number): MapEntry[] {
  return entries.map((entry) => {
    const value = toNumber(entry.value);
    return value === undefined ? entry : { ...entry, value: Math.trunc(value / divisor) };
  });
}
