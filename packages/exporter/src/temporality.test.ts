// Property test of the store's temporality: a simulated bpftrace (seeded PRNG) counts events into keyed maps,
// prints them (cumulative or clear()ed after each print), restarts and deletes keys at random. Whatever the
// sequence, every exported counter (and histogram bucket, and stats count/total) never decreases, and ends equal
// to the sum of every increment bpftrace printed.

import type { HistogramBucket, MapEntry, MapKind, ProgramInfo } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { SeriesStore } from './index.js';
import { prng } from '../../../test/support/prng.js';

/** hist() bucket index: 0 negatives, 1 zero, k+2 for [2^k, 2^(k+1)-1]. */
function log2Index(value: number): number {
  if (value < 0) return 0;
  if (value === 0) return 1;
  return Math.floor(Math.log2(value)) + 2;
}

function log2Bucket(index: number, count: number): HistogramBucket {
  if (index === 0) return { min: null, max: -1, count };
  if (index === 1) return { min: 0, max: 0, count };
  const low = 2 ** (index - 2);
  return { min: low, max: low * 2 - 1, count };
}

/** What bpftrace prints for a hist: buckets from the first to the last non-empty one. */
function printHist(counts: number[]): HistogramBucket[] {
  const first = counts.findIndex((c) => c > 0);
  let last = -1;
  counts.forEach((c, i) => {
    if (c > 0) last = i;
  });
  if (first < 0) return [];
  const out: HistogramBucket[] = [];
  for (let i = first; i <= last; i++) out.push(log2Bucket(i, counts[i] ?? 0));
  return out;
}

type Kind = 'count' | 'hist' | 'stats';
const SLOTS = 24;

/** One key's state in the kernel: counter value, or hist bucket counts, or stats count/total. */
interface KernelValue {
  count: number;
  total: number;
  buckets: number[];
}

function emptyValue(): KernelValue {
  return { count: 0, total: 0, buckets: new Array<number>(SLOTS).fill(0) };
}

/** Components of a key that must be monotonic: [counter] / [count, total] / per-bucket. */
function components(kind: Kind, value: KernelValue): number[] {
  if (kind === 'count') return [value.count];
  if (kind === 'stats') return [value.count, value.total];
  return value.buckets;
}

function add(a: number[], b: number[]): number[] {
  return a.map((x, i) => x + (b[i] ?? 0));
}

/** Exported components per label value of key0, read back from the store's own text. */
function exported(store: SeriesStore, kind: Kind): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const cumulatives = new Map<string, number>();
  const text = store.prometheusText();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match =
      /^bpftrace_m(_total|_count_total|_sum_total|_bucket|_count|_average)\{(?:key0="([^"]*)"|otel_metric_overflow="true")(?:,le="([^"]+)")?\} (\S+)$/.exec(
        line,
      );
    if (match === null) throw new Error(`unexpected line ${line}`);
    const [, suffix, key = '__overflow', le, raw] = match;
    const value = Number(raw);
    const list = out.get(key) ?? [];
    if (kind === 'count' && suffix === '_total') list[0] = value;
    if (kind === 'stats' && suffix === '_count_total') list[0] = value;
    if (kind === 'stats' && suffix === '_sum_total') list[1] = value;
    if (kind === 'hist' && suffix === '_bucket') {
      // cumulative in le order → per-bucket counts at the kernel's log2 index (le = 2^k - 1 ↔ index k + 1)
      const cumulative = cumulatives.get(key) ?? 0;
      cumulatives.set(key, value);
      if (le === '+Inf') {
        if (value !== cumulative) throw new Error(`counts above the top finite bucket: ${line}`);
      } else {
        const bound = Number(le);
        const index = bound === -1 ? 0 : Math.log2(bound + 1) + 1;
        while (list.length < SLOTS) list.push(0);
        list[index] = value - cumulative;
      }
    }
    out.set(key, list);
  }
  return out;
}

interface Scenario {
  seed: number;
  kind: Kind;
  cleared: boolean;
  maxSeriesPerMap?: number;
}

function run({ seed, kind, cleared, maxSeriesPerMap }: Scenario): void {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const mapKind: MapKind = kind;
  const program: ProgramInfo = {
    printsMaps: true,
    maps: [
      {
        name: '@m',
        kind: mapKind,
        args: [],
        keyArity: 1,
        keyNames: ['key0'],
        keyTypes: ['int'],
        cleared,
        line: 1,
        column: 1,
      },
    ],
  };
  const store = new SeriesStore({
    program,
    expireAfterDumps: 0,
    onWarning: () => {},
    ...(maxSeriesPerMap === undefined ? {} : { maxSeriesPerMap }),
  });
  const keys = 1 + int(6);
  const kernel = new Map<number, KernelValue>();
  /** What bpftrace printed, per key, summed over its lives (the exact expected export). */
  const printed = new Map<number, number[]>();
  /** The last print of each key in its current life (cumulative maps). */
  const lastPrint = new Map<number, number[]>();
  /**
   * Keys deleted since the last print. A key deleted and re-created between two prints, printed with a value at
   * least its old one, is indistinguishable in the output from a key that kept counting: no exporter can see that
   * life end (docs/metrics.md, Limits). The simulation lets such a key come back only after a print.
   */
  const deleted = new Set<number>();
  let previous = new Map<string, number[]>();

  const endLife = (key: number): void => {
    const last = lastPrint.get(key);
    if (last !== undefined)
      printed.set(key, add(printed.get(key) ?? components(kind, emptyValue()).map(() => 0), last));
    lastPrint.delete(key);
  };

  const steps = 20 + int(60);
  for (let step = 0; step < steps; step++) {
    const action = random();
    if (action < 0.55) {
      // events
      for (let n = int(20); n > 0; n--) {
        const key = int(keys);
        if (deleted.has(key)) continue;
        const value = kernel.get(key) ?? emptyValue();
        const sample = int(3) === 0 ? int(5) : int(100_000);
        value.count += 1;
        value.total += sample;
        const index = log2Index(sample);
        value.buckets[index] = (value.buckets[index] ?? 0) + 1;
        kernel.set(key, value);
      }
    } else if (action < 0.85) {
      // a print of the whole map (keys in random order, as bpftrace sorts by value)
      const entries: MapEntry[] = [];
      for (const [key, value] of [...kernel].sort(() => random() - 0.5)) {
        if (kind === 'count') entries.push({ key: [key], value: value.count });
        if (kind === 'stats')
          entries.push({
            key: [key],
            stats: {
              count: value.count,
              total: value.total,
              average: value.count === 0 ? 0 : Math.floor(value.total / value.count),
            },
          });
        if (kind === 'hist') entries.push({ key: [key], buckets: printHist(value.buckets) });
        if (cleared) {
          printed.set(key, add(printed.get(key) ?? components(kind, value).map(() => 0), components(kind, value)));
        } else {
          lastPrint.set(key, [...components(kind, value)]);
        }
      }
      store.ingest({ type: 'map', name: '@m', kind: mapKind, entries });
      deleted.clear();
      if (cleared) kernel.clear();
      const now = exported(store, kind);
      for (const [key, values] of now) {
        const before = previous.get(key) ?? [];
        values.forEach((v, i) => {
          if (v < (before[i] ?? 0)) throw new Error(`seed ${seed}: ${key}[${i}] went down from ${before[i]} to ${v}`);
        });
      }
      previous = now;
    } else if (action < 0.93) {
      // bpftrace restarts: its maps are gone; what it never printed is lost to everyone
      for (const key of [...lastPrint.keys()]) endLife(key);
      kernel.clear();
      store.recordRestart();
    } else if (!cleared) {
      // delete(@m[key]): the key vanishes from the map and may come back from zero
      const key = int(keys);
      kernel.delete(key);
      endLife(key);
      deleted.add(key);
    }
  }
  for (const key of [...lastPrint.keys()]) endLife(key);

  const final = exported(store, kind);
  let exportedSum = 0;
  let printedSum = 0;
  for (const values of final.values()) for (const v of values) exportedSum += v;
  for (const values of printed.values()) for (const v of values) printedSum += v;
  expect(exportedSum, `seed ${seed}: everything printed is exported exactly`).toBe(printedSum);
  if (maxSeriesPerMap === undefined) {
    for (const [key, values] of printed) {
      const mine = final.get(String(key)) ?? [];
      values.forEach((v, i) => expect(mine[i] ?? 0, `seed ${seed} key ${key} component ${i}`).toBe(v));
    }
  }
}

describe('temporality (property, seeded)', () => {
  const kinds: Kind[] = ['count', 'hist', 'stats'];
  for (const kind of kinds) {
    for (const cleared of [false, true]) {
      it(`${kind}, ${cleared ? 'clear()ed' : 'cumulative'}: monotonic and exact over 300 random sequences`, () => {
        for (let seed = 1; seed <= 300; seed++) run({ seed: seed * 7919 + kinds.indexOf(kind), kind, cleared });
      }, 60_000); // bounded work, but two shared cores can be slow
    }
    it(`${kind}: exact in total when keys fold into the overflow series (caps of 2–3 keys)`, () => {
      // the cap counts Prometheus series: a stats key prints 3, a hist key its buckets + 2 (here up to SLOTS + 2)
      const cap = kind === 'count' ? 2 : kind === 'stats' ? 6 : 3 * (SLOTS + 2);
      for (let seed = 1; seed <= 200; seed++)
        run({ seed: seed * 104729, kind, cleared: seed % 2 === 0, maxSeriesPerMap: cap });
    }, 60_000);
  }
});
