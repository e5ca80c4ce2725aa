// Histogram bucket labels as bpftrace prints them in text (`[4K, 8K)`, `(..., 0)`, `[40, ...)`, `[0]`),
// turned into inclusive integer bounds; shared by the text reader and anyone who meets a label.
import type { HistogramBucket, MapKind } from './types.js';

/** Inclusive bounds of one bucket; `null` marks an open end. */
export interface BucketBounds {
  min: number | null;
  max: number | null;
}

// Binary suffixes: K=2^10 … E=2^60 (P and E from 0.20 on). Indexed by char code.
const SUFFIX = new Float64Array(128);
SUFFIX[75] = 2 ** 10; // K
SUFFIX[77] = 2 ** 20; // M
SUFFIX[71] = 2 ** 30; // G
SUFFIX[84] = 2 ** 40; // T
SUFFIX[80] = 2 ** 50; // P
SUFFIX[69] = 2 ** 60; // E

/**
 * Reads one bound such as `-5`, `1280`, `4K` or `8E` in `text[start, end)`; NaN when it is not one.
 * Bounds above 2^53 (≥ 8P) cannot all be held exactly by a JS number; they round to the nearest double.
 */
export function parseBound(text: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && text.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i++;
  }
  const digitsStart = i;
  let value = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    i++;
  }
  if (i === digitsStart) return Number.NaN;
  if (i - digitsStart > 15) value = Number(text.slice(digitsStart, i));
  if (i < end) {
    const c = text.charCodeAt(i);
    const multiplier = c < 128 ? (SUFFIX[c] ?? 0) : 0;
    if (multiplier === 0 || i + 1 !== end) return Number.NaN;
    value *= multiplier;
  }
  return negative ? -value : value;
}

/**
 * Parses a bucket label in `text[start, end)` (the whole string by default):
 * `(..., X)` → `{min: null, max: X-1}`, `[X]` → `{min: X, max: X}`, `[X, Y)` → `{min: X, max: Y-1}`,
 * `[X, ...)` → `{min: X, max: null}`. Returns undefined for anything else.
 */
export function parseBucketLabel(text: string, start = 0, end = text.length): BucketBounds | undefined {
  if (end - start < 3) return undefined;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  if (first === 40 /* ( */) {
    // (..., X)
    if (last !== 41 || !text.startsWith('(..., ', start)) return undefined;
    const max = parseBound(text, start + 6, end - 1);
    return Number.isNaN(max) ? undefined : { min: null, max: max - 1 };
  }
  if (first !== 91 /* [ */) return undefined;
  if (last === 93 /* ] */) {
    const value = parseBound(text, start + 1, end - 1);
    return Number.isNaN(value) ? undefined : { min: value, max: value };
  }
  if (last !== 41 /* ) */) return undefined;
  const comma = text.indexOf(', ', start + 1);
  if (comma < 0 || comma >= end) return undefined;
  const min = parseBound(text, start + 1, comma);
  if (Number.isNaN(min)) return undefined;
  if (end - (comma + 2) === 4 && text.startsWith('...)', comma + 2)) return { min, max: null };
  const upper = parseBound(text, comma + 2, end - 1);
  return Number.isNaN(upper) ? undefined : { min, max: upper - 1 };
}

/**
 * Parses one bucket line `LABEL   COUNT |@@@…  |` into a bucket. The columns are not fixed (a wide label or
 * count pushes them right), so it reads the label by its brackets and the count as the digits before ` |`.
 * The bar is ignored. Returns undefined when the line is not a bucket line.
 */
export function parseBucketLine(line: string): HistogramBucket | undefined {
  const first = line.charCodeAt(0);
  let labelEnd: number;
  if (first === 40 /* ( */) {
    labelEnd = line.indexOf(')', 1) + 1;
  } else if (first === 91 /* [ */) {
    let i = 1;
    const n = line.length;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 93 /* ] */ || c === 41 /* ) */) break;
      i++;
    }
    labelEnd = i + 1;
  } else {
    return undefined;
  }
  if (labelEnd <= 0 || labelEnd > line.length) return undefined;
  let min: number | null;
  let max: number | null;
  // Hot path `[X, Y)`: read both bounds in place; anything else goes through parseBucketLabel.
  const comma = first === 91 && line.charCodeAt(labelEnd - 1) === 41 ? line.indexOf(', ', 1) : -1;
  if (comma > 0 && comma < labelEnd && line.charCodeAt(comma + 2) !== 46 /* . */) {
    min = parseBound(line, 1, comma);
    const upper = parseBound(line, comma + 2, labelEnd - 1);
    if (Number.isNaN(min) || Number.isNaN(upper)) return undefined;
    max = upper - 1;
  } else {
    const bounds = parseBucketLabel(line, 0, labelEnd);
    if (bounds === undefined) return undefined;
    min = bounds.min;
    max = bounds.max;
  }
  let i = labelEnd;
  const n = line.length;
  while (i < n && line.charCodeAt(i) === 32) i++;
  const countStart = i;
  let count = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    count = count * 10 + (c - 48);
    i++;
  }
  if (i === countStart || i === labelEnd) return undefined;
  if (i - countStart > 15) count = Number(line.slice(countStart, i));
  if (line.charCodeAt(i) !== 32 || line.charCodeAt(i + 1) !== 124 /* | */) return undefined;
  return { min, max, count };
}

/**
 * Tells `hist` from `lhist` by bucket shapes alone (used when no program is given):
 * an open upper bucket `[X, ...)` or an underflow other than `(..., 0)` → lhist; a single-value bucket `[X]`
 * → hist; ranges of different widths → hist (log2 buckets grow, lhist steps do not); ranges of one width
 * that all double (`[8, 16)`) → hist; otherwise lhist. Undecidable (no ranges, only `(..., 0)`) → hist.
 * `hist(x, k)` buckets of one power group only (`[8, 10) [10, 12)`) read as lhist: pass the program.
 * `singleLabels`: whether the text showed a `[X]` label (true → hist); given false, a one-value bucket is a
 * width-1 range (`lhist(x, 0, 10, 1)` prints `[5, 6)`).
 */
export function histogramKindOf(buckets: readonly HistogramBucket[], singleLabels?: boolean): 'hist' | 'lhist' {
  return histogramKindOfEntries([{ buckets }], singleLabels);
}

/** histogramKindOf over the buckets of every entry of one map sample. */
export function histogramKindOfEntries(
  entries: readonly { buckets?: readonly HistogramBucket[] | undefined }[],
  singleLabels?: boolean,
): 'hist' | 'lhist' {
  // Text shows `[5]` (hist) apart from `[5, 6)` (lhist step 1); bounds alone cannot.
  if (singleLabels === true) return 'hist';
  let width = -1;
  let widthsDiffer = false;
  let allDouble = true;
  for (const entry of entries) {
    for (const b of entry.buckets ?? []) {
      if (b.max === null) return 'lhist';
      if (b.min === null) {
        if (b.max !== -1) return 'lhist';
        continue;
      }
      if (b.min === b.max && singleLabels === undefined) return 'hist';
      const w = b.max - b.min + 1;
      if (width >= 0 && w !== width) widthsDiffer = true;
      width = w;
      if (b.max + 1 !== b.min * 2) allDouble = false;
    }
  }
  if (widthsDiffer || allDouble) return 'hist';
  return 'lhist';
}

/** Whether a kind is one of the two histogram kinds. */
export function isHistogramKind(kind: MapKind | undefined): kind is 'hist' | 'lhist' {
  return kind === 'hist' || kind === 'lhist';
}
