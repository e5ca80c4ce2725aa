// How one printed entry moves one series, by export shape and mode (map-plan.ts): a delta adds, a total replaces
// and a fall within one bpftrace life carries forward; a key past the cap moves the overflow series by what it
// gained. Values the shape cannot show are reported back to the store, which counts and explains them.

import type { HistogramBucket, MapEntry, StatsValue } from '@ktrace/parser';
import { bucketBound, slotOf } from './histogram.js';
import type { BucketLayout } from './histogram.js';
import { toNumber } from './map-entries.js';
import type { MapState } from './map-state.js';
import { carryForward } from './series.js';
import type { Series } from './series.js';

/** A value the series could not follow exactly, with what it held before (for the store's warning). */
export type UpdateProblem =
  | { readonly problem: 'sum-decreased'; readonly from: number; readonly to: number }
  | {
      readonly problem: 'stats-total';
      readonly reason: 'negative' | 'decreased';
      readonly from: number;
      readonly to: number;
    };

/** Updates one series from one printed entry that `unusable` accepted; `length` is the layout's bucket count. */
export function updateSeries(
  state: MapState,
  series: Series,
  entry: MapEntry,
  length: number,
): UpdateProblem | undefined {
  switch (state.shape) {
    case 'counter': {
      const value = toNumber(entry.value) as number;
      if (state.mode === 'delta') {
        series.carried += value;
        return undefined;
      }
      let problem: UpdateProblem | undefined;
      if (value < series.printed) {
        // Restarts are carried forward before their first dump, so a fall here is within one bpftrace run: a key
        // deleted and re-created between two prints, or a sum() of signed values, which no counter can show.
        if (state.kind === 'sum') problem = { problem: 'sum-decreased', from: series.printed, to: value };
        carryForward(series);
      }
      series.printed = value;
      return problem;
    }
    case 'gauge': {
      series.gauge = toNumber(entry.value) as number;
      return undefined;
    }
    case 'stats':
      return updateStats(state, series, entry.stats as StatsValue);
    case 'histogram': {
      updateHistogram(state, series, entry.buckets as HistogramBucket[], length);
      return undefined;
    }
  }
}

function updateStats(state: MapState, series: Series, stats: StatsValue): UpdateProblem | undefined {
  series.gauge = stats.average;
  const fell = (reason: 'negative' | 'decreased'): UpdateProblem => ({
    problem: 'stats-total',
    reason,
    from: series.printedSum,
    to: stats.total,
  });
  if (state.mode === 'delta') {
    series.carried += stats.count;
    if (stats.total < 0) return fell('negative');
    series.carriedSum += stats.total;
    return undefined;
  }
  if (stats.count < series.printed) carryForward(series);
  series.printed = stats.count;
  // Within one life the count only grows; a total that falls (or is below zero) adds negative values: no
  // counter can show that, so `_sum` holds its highest value until the total passes it again.
  if (stats.total < 0) return fell('negative');
  if (stats.total < series.printedSum) return fell('decreased');
  series.printedSum = stats.total;
  return undefined;
}

/** Reused by every updateHistogram call: a dump moves its keys without allocating a bucket array each. */
let scratch = new Float64Array(64);

function updateHistogram(state: MapState, series: Series, buckets: HistogramBucket[], length: number): void {
  const layout = state.layout as BucketLayout;
  if (scratch.length < length) scratch = new Float64Array(length * 2);
  const counts = scratch;
  counts.fill(0, 0, length);
  for (const bucket of buckets) {
    const slot = slotOf(layout, bucketBound(layout.kind, bucket));
    counts[slot] = (counts[slot] as number) + bucket.count;
  }
  if (state.mode === 'delta') {
    if (series.carriedBuckets === undefined || series.carriedBuckets.length !== length)
      series.carriedBuckets = new Float64Array(length);
    for (let i = 0; i < length; i++)
      series.carriedBuckets[i] = (series.carriedBuckets[i] as number) + (counts[i] as number);
    return;
  }
  if (series.printedBuckets === undefined || series.printedBuckets.length !== length)
    series.printedBuckets = new Float64Array(length);
  const printed = series.printedBuckets;
  for (let i = 0; i < length; i++) {
    if ((counts[i] as number) < (printed[i] as number)) {
      carryForward(series);
      break;
    }
  }
  // a loop, not set(subarray()): no typed-array view allocated per key and dump
  for (let i = 0; i < length; i++) printed[i] = counts[i] as number;
}

/** A key past the cap: updates its own (never exported) series, and adds what its value gained to `overflow`. */
export function updateFolded(
  state: MapState,
  own: Series,
  overflow: Series,
  entry: MapEntry,
  length: number,
): UpdateProblem | undefined {
  const before0 = own.total;
  const before1 = own.sumTotal;
  const beforeBuckets = state.shape === 'histogram' ? own.bucketCounts(length) : undefined;
  const problem = updateSeries(state, own, entry, length);
  overflow.carried += own.total - before0;
  overflow.carriedSum += own.sumTotal - before1;
  if (state.shape === 'gauge' || state.shape === 'stats') overflow.gauge = own.gauge;
  if (beforeBuckets !== undefined) {
    const after = own.bucketCounts(length);
    overflow.carriedBuckets ??= new Float64Array(length);
    for (let i = 0; i < length; i++) {
      overflow.carriedBuckets[i] =
        (overflow.carriedBuckets[i] as number) + (after[i] as number) - (beforeBuckets[i] as number);
    }
  }
  return problem;
}
