// Bucket layouts: bpftrace's inclusive integer buckets ({min,max,count}, trimmed to the non-empty range on every
// print) mapped onto one fixed, growing list of `le` bounds per metric, so every dump lands in the same buckets.

import type { HistogramBucket } from '@ktrace/parser';

/**
 * Inclusive upper bounds, ascending and finite; the open top (`+Inf`) is implicit at index `bounds.length`.
 * A layout only grows: a bound, once served, stays, so `le` series never vanish between scrapes.
 */
export interface BucketLayout {
  readonly kind: 'hist' | 'lhist';
  bounds: number[];
  index: Map<number, number>;
}

/** log2 hist() bounds: -1 (negatives), 0, 1, 3, 7, … 2^k-1. */
export function nextLog2Bound(bound: number): number {
  if (bound < 0) return 0;
  if (bound === 0) return 1;
  return bound * 2 + 1;
}

function isLog2Bound(bound: number): boolean {
  if (bound === -1 || bound === 0) return true;
  if (bound < 0 || !Number.isFinite(bound)) return false;
  const plusOne = bound + 1;
  return Number.isInteger(Math.log2(plusOne));
}

/**
 * The layout lhist(min, max, step) implies: underflow ≤ min-1, then each whole step's last integer, overflow in +Inf.
 * When step does not divide max-min, bpftrace has no bucket for the last partial step: those values land in the
 * overflow bucket (0.17 prints them under `[max, ...)`), so no bound is made up for them.
 */
export function lhistBounds(min: number, max: number, step: number): number[] {
  if (!(step > 0) || !(max > min) || (max - min) / step > 10_000) return [];
  const bounds = [min - 1];
  for (let low = min; low + step <= max; low += step) bounds.push(low + step - 1);
  return bounds;
}

/**
 * The hist() bounds that cover values in [low, high] from the start: from the lower edge of the bucket holding
 * `low` (so a quantile in that bucket is interpolated from its real edge) to the upper bound of the one holding
 * `high`.
 */
export function log2RangeBounds(low: number, high: number): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high) || high < low) return [];
  const upper = (v: number): number => (v < 0 ? -1 : v < 1 ? 0 : 2 ** (Math.floor(Math.log2(v)) + 1) - 1);
  let bound = low < 1 ? -1 : 2 ** Math.floor(Math.log2(low)) - 1;
  const last = upper(high);
  const bounds: number[] = [];
  for (; bound <= last && bounds.length < 130; bound = nextLog2Bound(bound)) bounds.push(bound);
  return bounds;
}

/**
 * The layout a histogram starts with: lhist(min, max, step)'s whole layout when the program gives it, or the
 * log2 buckets of a declared `range` (maps['@m'].range) for hist(), so Prometheus sees every bucket from the first
 * scrape; otherwise empty, and it grows as buckets are printed.
 */
export function createLayout(
  kind: 'hist' | 'lhist',
  args: readonly number[],
  range?: readonly [number, number],
): BucketLayout {
  let bounds: number[] = [];
  if (kind === 'lhist' && args.length >= 3) {
    const [min, max, step] = args as [number, number, number];
    bounds = lhistBounds(min, max, step);
  } else if (kind === 'hist' && range !== undefined) {
    bounds = log2RangeBounds(range[0], range[1]);
  }
  return { kind, bounds, index: indexOf(bounds) };
}

function indexOf(bounds: readonly number[]): Map<number, number> {
  const index = new Map<number, number>();
  bounds.forEach((bound, i) => index.set(bound, i));
  return index;
}

/**
 * The inclusive upper bound of a printed bucket (`Infinity` for the open top; `undefined` when the bucket's
 * position cannot be known: bounds that contradict each other). Buckets arrive as they really are: the parser
 * already put back those bpftrace printed wrong (0.17's wrapped [2^31, 2^32) bucket, in @ktrace/parser's
 * json-buckets.ts).
 */
export function bucketBound(kind: 'hist' | 'lhist', bucket: HistogramBucket): number | undefined {
  if (bucket.max === null) return Infinity;
  if (kind === 'hist') {
    // hist(x, k) (0.20+) splits each power of 2 into 2^k buckets, so a bound need not be 2^n-1.
    const consistent = bucket.min === null ? bucket.max === -1 : bucket.min >= 0 && bucket.min <= bucket.max;
    return consistent ? bucket.max : undefined;
  }
  return bucket.min === null || bucket.min <= bucket.max ? bucket.max : undefined;
}

/**
 * Adds the given finite bounds to the layout (hist(): also every log2 bound in between, so the layout stays
 * contiguous). Returns the old→new index remap when the layout changed, undefined when nothing was new, and
 * `refused` (the layout unchanged) when `fits` rejects the grown number of bounds.
 */
export function growLayout(
  layout: BucketLayout,
  add: Iterable<number>,
  fits: (bounds: number) => boolean = () => true,
): Int32Array | undefined | 'refused' {
  const fresh = new Set<number>();
  for (const bound of add) if (Number.isFinite(bound) && !layout.index.has(bound)) fresh.add(bound);
  if (fresh.size === 0) return undefined;
  const merged = new Set<number>([...layout.bounds, ...fresh]);
  if (layout.kind === 'hist') {
    const sorted = [...merged].sort((a, b) => a - b);
    const low = sorted[0] as number;
    const high = sorted[sorted.length - 1] as number;
    if (isLog2Bound(low)) {
      for (let bound = low; bound < high && merged.size <= 4096; bound = nextLog2Bound(bound)) merged.add(bound);
    }
  }
  if (!fits(merged.size)) return 'refused';
  const bounds = [...merged].sort((a, b) => a - b);
  const index = indexOf(bounds);
  // +1 slot: the open top keeps its place at the end.
  const remap = new Int32Array(layout.bounds.length + 1);
  layout.bounds.forEach((bound, i) => {
    remap[i] = index.get(bound) as number;
  });
  remap[layout.bounds.length] = bounds.length;
  layout.bounds = bounds;
  layout.index = index;
  return remap;
}

/** Moves per-bucket counts (length old bounds + 1) into a grown layout (length new bounds + 1). */
export function remapCounts(counts: Float64Array, remap: Int32Array, newLength: number): Float64Array {
  const out = new Float64Array(newLength);
  for (let i = 0; i < counts.length; i++) out[remap[i] as number] = counts[i] as number;
  return out;
}

/** The layout slot a printed bucket counts in: its own bound, else the next bound served, else `+Inf`. */
export function slotOf(layout: BucketLayout, bound: number | undefined): number {
  const top = layout.bounds.length;
  if (bound === undefined || bound === Infinity) return top;
  const exact = layout.index.get(bound);
  if (exact !== undefined) return exact;
  let lo = 0;
  let hi = top;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((layout.bounds[mid] as number) < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
