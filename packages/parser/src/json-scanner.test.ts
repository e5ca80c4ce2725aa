// The JSON scanner alone: what it keeps that JSON.parse loses, and where it stops on bad input.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from './json-scanner.js';
import { JsonScanner, JsonSyntaxError, toNumber } from './json-scanner.js';

const scan = (text: string): unknown => new JsonScanner().parse(text);

describe('JsonScanner', () => {
  it('keeps object members in source order, duplicates included (JSON.parse reorders and merges them)', () => {
    const value = scan('{"2": 1, "b": 2, "1": 3, "b": 4}') as JsonObject;
    expect(value.keys).toEqual(['2', 'b', '1', 'b']);
    expect(value.values).toEqual([1, 2, 3, 4]);
    expect(Object.keys(JSON.parse('{"2": 1, "b": 2, "1": 3, "b": 4}') as object)).toEqual(['1', '2', 'b']);
  });

  it('reads numbers as JSON.parse does, past 2^53 and with exponents, and 1e309 as Infinity', () => {
    for (const text of ['0', '-7', '9007199254740993', '18446744073709551615', '1.5e3', '-0.25'])
      expect(scan(text)).toBe(JSON.parse(text));
    expect(scan('1e309')).toBe(Infinity);
    expect(toNumber('9007199254740993')).toBe(9007199254740992);
    expect(toNumber('12a')).toBeUndefined();
  });

  it('decodes escapes, and 0.17 byte escapes as UTF-8 with undecodable bytes kept', () => {
    expect(scan('"a\\"b\\\\c\\n\\u00e9\\/"')).toBe('a"b\\c\né/');
    expect(scan('"h\\uffffffc3\\uffffffa9llo"')).toBe('héllo');
    expect(scan('"a\\uffffffff"')).toBe('a\udcff');
  });

  it('reads a bucket list without objects, as printed; undefined when a bucket has no count', () => {
    const sc = new JsonScanner();
    sc.reset('[{"min": -2147483648, "max": 0, "count": 2}, {"max": -1, "count": 1}]');
    expect(sc.buckets()).toEqual([
      { min: -2147483648, max: 0, count: 2 },
      { min: null, max: -1, count: 1 },
    ]);
    sc.reset('[{"min": 0, "max": 1}]');
    expect(sc.buckets()).toBeUndefined();
    // names matched in place must still be whole names; escaped names, other members and 0.24+'s integer strings
    sc.reset('[{"min": 1, "maxi": 7, "max": 1, "co\\u0075nt": "9007199254740993", "count_": 5}]');
    expect(sc.buckets()).toEqual([{ min: 1, max: 1, count: 9007199254740992 }]);
  });

  it('fails with a JsonSyntaxError naming the column, for cut and unquoted values', () => {
    for (const [text, column] of [
      ['{"a": 1', 8],
      ['[1,04:08]', 6],
      ['{"a": 1} x', 10],
      ['"open', 1],
    ] as const) {
      let error: unknown;
      try {
        scan(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(JsonSyntaxError);
      expect((error as Error).message, text).toContain(`column ${column}`);
    }
  });
});
