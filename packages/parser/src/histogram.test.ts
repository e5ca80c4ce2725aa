import { describe, expect, it } from 'vitest';
import { histogramKindOf, parseBucketLabel, parseBucketLine } from './histogram.js';

describe('parseBucketLabel', () => {
  it.each([
    ['[4K, 8K)', { min: 4096, max: 8191 }],
    ['(..., 0)', { min: null, max: -1 }],
    ['[40, ...)', { min: 40, max: null }],
    ['[0]', { min: 0, max: 0 }],
    ['[1]', { min: 1, max: 1 }],
    ['[2, 4)', { min: 2, max: 3 }],
    ['[512, 1K)', { min: 512, max: 1023 }],
    ['[1M, 2M)', { min: 1048576, max: 2097151 }],
    ['[2G, 4G)', { min: 2147483648, max: 4294967295 }],
    ['[1T, 2T)', { min: 2 ** 40, max: 2 ** 41 - 1 }],
    ['[1P, 2P)', { min: 2 ** 50, max: 2 ** 51 - 1 }],
    ['[1E, 2E)', { min: 2 ** 60, max: 2 ** 61 }], // 2^61 - 1 is not a double: rounds to 2^61
    // lhist: ≤0.20 mixes plain and suffixed edges; negative edges; wide labels.
    ['[768, 1K)', { min: 768, max: 1023 }],
    ['[1K, 1280)', { min: 1024, max: 1279 }],
    ['[630000, 625K)', { min: 630000, max: 639999 }],
    ['(..., -10)', { min: null, max: -11 }],
    ['[-10, -5)', { min: -10, max: -6 }],
    ['[1000000, 1100000)', { min: 1000000, max: 1099999 }],
    ['[2000000, ...)', { min: 2000000, max: null }],
    // hist(x, k) labels of 0.20+ and 0.26's 1024K.
    ['[1536, 2K)', { min: 1536, max: 2047 }],
    ['[960K, 1024K)', { min: 983040, max: 1048575 }],
  ])('%s → %j', (label, bounds) => {
    expect(parseBucketLabel(label)).toEqual(bounds);
  });

  it.each(['', '[]', '[4X, 8K)', '(..., )', '[1, 2]', '4K', '[1, 2', '[a]', '(... 0)', '[1K2, 4K)'])(
    'rejects %j',
    (label) => {
      expect(parseBucketLabel(label)).toBeUndefined();
    },
  );
});

describe('parseBucketLine', () => {
  it('reads label and count, ignores the bar and column positions', () => {
    expect(parseBucketLine('[4K, 8K)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|')).toEqual({
      min: 4096,
      max: 8191,
      count: 2,
    });
    // A label wider than 16 columns pushes the count right [real 0.17 capture 30].
    expect(
      parseBucketLine('[1000000, 1100000)       1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|'),
    ).toEqual({
      min: 1000000,
      max: 1099999,
      count: 1,
    });
    // A count wider than 8 digits does the same.
    expect(
      parseBucketLine('[0]             1234567890 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|'),
    ).toEqual({
      min: 0,
      max: 0,
      count: 1234567890,
    });
    expect(parseBucketLine('(..., 0)               0 |                                                    |')).toEqual({
      min: null,
      max: -1,
      count: 0,
    });
  });

  it('refuses lines that are not bucket lines', () => {
    expect(parseBucketLine('[4K, 8K)')).toBeUndefined();
    expect(parseBucketLine('[4K, 8K)    x |@|')).toBeUndefined();
    expect(parseBucketLine('@h[1]:')).toBeUndefined();
    expect(parseBucketLine('[error] something went wrong')).toBeUndefined();
    expect(parseBucketLine('')).toBeUndefined();
  });
});

describe('histogramKindOf', () => {
  const b = (min: number | null, max: number | null) => ({ min, max, count: 1 });
  it('tells log2 from linear buckets by their shape', () => {
    expect(histogramKindOf([b(null, -1), b(0, 0), b(1, 1), b(2, 3)])).toBe('hist');
    expect(histogramKindOf([b(8, 15)])).toBe('hist');
    expect(histogramKindOf([b(4, 7), b(8, 15), b(16, 31)])).toBe('hist');
    expect(histogramKindOf([b(0, 9), b(10, 19), b(20, 29)])).toBe('lhist');
    expect(histogramKindOf([b(100, null)])).toBe('lhist');
    expect(histogramKindOf([b(null, 9), b(10, 19)])).toBe('lhist');
    expect(histogramKindOf([b(2097152, 3145727)])).toBe('lhist');
    // hist(x, 1): widths grow from one power of two to the next.
    expect(histogramKindOf([b(4, 5), b(6, 7), b(8, 11)])).toBe('hist');
  });

  it('uses what the text showed about single-value labels', () => {
    // lhist(x, 0, 10, 1) prints `[5, 6)` up to 0.23: a width-1 range, not a single value.
    expect(histogramKindOf([b(5, 5), b(6, 6)], false)).toBe('lhist');
    expect(histogramKindOf([b(5, 5)], true)).toBe('hist');
  });
});
