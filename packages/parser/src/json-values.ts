// Scanned JSON values turned into what a map sample holds: plain values (integers past 2^53 back to numbers,
// structs as bpftrace's text shows them), stats() objects, and the text of print() of a non-map value.
import { INT_RE, JsonObject, toNumber } from './json-scanner.js';
import type { JsonValue } from './json-scanner.js';
import type { PlainValue, StatsValue } from './types.js';

/** A value the way bpftrace's text output would show it, for print() of non-map values and struct values. */
export function textOf(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `(${value.map(textOf).join(', ')})`;
  return `{ ${value.keys.map((k, i) => `.${k} = ${textOf(value.values[i] ?? null)}`).join(', ')} }`;
}

export function plainOf(value: JsonValue): PlainValue {
  if (value === null || typeof value === 'number') return value;
  if (typeof value === 'string') {
    // 0.24+ prints integers a double cannot hold as strings; only those (beyond 2^53) are turned back to numbers.
    if (value.length >= 16 && INT_RE.test(value)) {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return n;
    }
    return value;
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(plainOf);
  return textOf(value);
}

export function statsOf(value: JsonValue): StatsValue | undefined {
  if (!(value instanceof JsonObject)) return undefined;
  const count = toNumber(value.get('count'));
  const average = toNumber(value.get('average'));
  const total = toNumber(value.get('total'));
  if (count === undefined || average === undefined || total === undefined) return undefined;
  return { count, average, total };
}

export function isStatsObject(value: JsonValue): boolean {
  return (
    value instanceof JsonObject &&
    value.keys.length === 3 &&
    value.get('count') !== undefined &&
    value.get('average') !== undefined &&
    value.get('total') !== undefined
  );
}
