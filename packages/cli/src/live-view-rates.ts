// Totals and per-second rates of one map's keys, from the dumps bpftrace prints: a cumulative map's increments are
// differences between dumps (a drop is a restart, counted from zero), a cleared map's dumps are increments already.
// Which of the two a map is, the exporter decides (its series store's mode); this only follows it.
import type { MapEntry, MapKind, MapSample } from '@ktrace/parser';
import { visible } from './live-view-text.js';

export type MapMode = 'cumulative' | 'delta';

export interface KeyRow {
  /** The key as drawn (parts joined by ', ', control characters escaped). */
  key: string;
  entry: MapEntry;
  /** Events counted for this key since the view started (count, sum, hist samples, stats count). */
  total: number;
  /** Per second over the last interval; undefined before the second dump, and for min, max, avg and values. */
  rate: number | undefined;
  /** What the key holds now: the count or sum, a histogram's samples, a stats average, a plain value. */
  value: number | string;
}

export interface MapRows {
  name: string;
  kind: MapKind;
  /** Sorted: by rate when there is one (highest first), else by total or value; ties by key. */
  rows: KeyRow[];
  /** Keys in the latest dump. */
  keys: number;
  /** True for the kinds that count (count, sum, hist, lhist, stats): they have totals and rates. */
  counted: boolean;
  total: number;
  rate: number | undefined;
  dumps: number;
}

/** Keys missing from this many dumps in a row are dropped from the rows (their events stay in the map's total). */
const KEEP_ABSENT_DUMPS = 60;

const COUNTED: ReadonlySet<MapKind> = new Set<MapKind>(['count', 'sum', 'hist', 'lhist', 'stats']);

export function keyText(entry: MapEntry): string {
  return visible(entry.key.join(', '));
}

function counted(entry: MapEntry): number {
  if (typeof entry.value === 'number') return entry.value;
  if (entry.stats !== undefined) return entry.stats.count;
  if (entry.buckets !== undefined) return entry.buckets.reduce((a, b) => a + b.count, 0);
  return 0;
}

function current(entry: MapEntry): number | string {
  if (entry.stats !== undefined) return entry.stats.average;
  if (entry.buckets !== undefined) return entry.buckets.reduce((a, b) => a + b.count, 0);
  if (typeof entry.value === 'number' || typeof entry.value === 'string') return entry.value;
  return JSON.stringify(entry.value ?? null);
}

interface KeyState {
  entry: MapEntry;
  last: number;
  total: number;
  rate: number | undefined;
  seen: number;
}

export function compareRows(a: KeyRow, b: KeyRow): number {
  const byRate = (b.rate ?? -Infinity) - (a.rate ?? -Infinity);
  if (byRate !== 0 && !Number.isNaN(byRate)) return byRate;
  const av = typeof a.value === 'number' ? a.value : -Infinity;
  const bv = typeof b.value === 'number' ? b.value : -Infinity;
  return b.total - a.total || bv - av || 0 || a.key.localeCompare(b.key);
}

export class MapTracker {
  private readonly keys = new Map<string, KeyState>();
  private lastAt: number | undefined;
  private dumps = 0;
  private total = 0;
  private rate: number | undefined;
  private kind: MapKind;
  private sorted: KeyRow[] = [];
  private present = 0;

  constructor(
    readonly name: string,
    kind: MapKind,
  ) {
    this.kind = kind;
  }

  /** One dump of the map, taken at `atMillis` (a monotonic clock). */
  ingest(sample: MapSample, atMillis: number, mode: MapMode): void {
    this.kind = sample.kind;
    const seconds = this.lastAt === undefined ? undefined : (atMillis - this.lastAt) / 1000;
    const dt = seconds !== undefined && seconds > 0 ? seconds : undefined;
    this.lastAt = atMillis;
    this.dumps++;
    let increase = 0;
    for (const entry of sample.entries) {
      const key = keyText(entry);
      const n = counted(entry);
      const state = this.keys.get(key);
      const inc = mode === 'delta' || state === undefined || n < state.last ? n : n - state.last;
      increase += inc;
      if (state === undefined) {
        this.keys.set(key, {
          entry,
          last: n,
          total: inc,
          rate: dt === undefined ? undefined : inc / dt,
          seen: this.dumps,
        });
      } else {
        state.entry = entry;
        state.last = n;
        state.total += inc;
        state.rate = dt === undefined ? undefined : inc / dt;
        state.seen = this.dumps;
      }
    }
    for (const [key, state] of this.keys) {
      if (state.seen === this.dumps) continue;
      if (this.dumps - state.seen > KEEP_ABSENT_DUMPS) this.keys.delete(key);
      // Gone from a cumulative map means cleared: it counts from zero when it comes back.
      state.last = 0;
      state.rate = dt === undefined ? undefined : 0;
    }
    this.total += increase;
    this.rate = dt === undefined ? undefined : increase / dt;
    this.present = sample.entries.length;
    const isCounted = COUNTED.has(this.kind);
    this.sorted = [...this.keys].map(([key, s]) => ({
      key,
      entry: s.entry,
      total: isCounted ? s.total : 0,
      rate: isCounted ? s.rate : undefined,
      value: current(s.entry),
    }));
    if (!isCounted) this.sorted = this.sorted.filter((r) => this.keys.get(r.key)?.seen === this.dumps);
    this.sorted.sort(compareRows);
  }

  rows(): MapRows {
    const isCounted = COUNTED.has(this.kind);
    return {
      name: this.name,
      kind: this.kind,
      rows: this.sorted,
      keys: this.present,
      counted: isCounted,
      total: isCounted ? this.total : 0,
      rate: isCounted ? this.rate : undefined,
      dumps: this.dumps,
    };
  }
}
