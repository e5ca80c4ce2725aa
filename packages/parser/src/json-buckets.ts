// Histogram buckets in bpftrace's JSON output: read from the scanned list, then repaired where bpftrace printed
// them wrong. 0.17–0.19 compute the [2^31, 2^32) bucket's bounds in 32 bits: it reads `{min: -2^31, max: 0}`.
// The repair lives only here: everything downstream (the exporter's layouts) sees buckets as they really are.
import { JsonObject, toNumber } from './json-scanner.js';
import type { JsonValue } from './json-scanner.js';
import type { HistogramBucket } from './types.js';

const TWO_31 = 2147483648;
const TWO_32_MINUS_1 = 4294967295;

/** A scanned bucket list as buckets, repaired; undefined when a bucket is not an object with a count. */
export function bucketsOf(value: JsonValue): HistogramBucket[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const buckets: HistogramBucket[] = [];
  for (const b of value) {
    if (!(b instanceof JsonObject)) return undefined;
    const count = toNumber(b.get('count'));
    if (count === undefined) return undefined;
    buckets.push({ min: toNumber(b.get('min')) ?? null, max: toNumber(b.get('max')) ?? null, count });
  }
  return repairBuckets(buckets);
}

/** The 0.17–0.19 `[2G, 4G)` bucket, printed `{min: -2^31, max: 0}`, is put back where it belongs. */
export function repairBuckets(buckets: HistogramBucket[]): HistogramBucket[] {
  let broken = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as HistogramBucket;
    if (b.min === null || (b.min >= 0 && (b.max === null || b.max >= b.min))) continue;
    // No bucket can start below zero (the negative bucket has no min), so this is the 32-bit shift overflow.
    if (b.min === -TWO_31 && b.max === 0) {
      b.min = TWO_31;
      b.max = TWO_32_MINUS_1;
    } else {
      const prev = buckets[i - 1];
      b.min = prev?.max != null ? prev.max + 1 : null;
      b.max = null;
      broken = true;
    }
  }
  if (broken) {
    for (let i = 0; i < buckets.length - 1; i++) {
      const b = buckets[i] as HistogramBucket;
      const next = buckets[i + 1] as HistogramBucket;
      if (b.max === null && b.min !== null && next.min !== null) b.max = next.min - 1;
    }
  }
  return buckets;
}
