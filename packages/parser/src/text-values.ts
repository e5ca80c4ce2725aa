// Values as bpftrace's text output prints them: stats() as `count N, average N, total N` (≤0.23) or
// `{ .count = N, … }` (≥0.24), tuples `(1, -2, three)` as arrays, integers as numbers, anything else verbatim.
import { parseInteger } from './keys.js';
import type { PlainValue, StatsValue } from './types.js';

/** `count 3, average 3, total 11` (≤0.23) or `{ .count = 3, .average = 3, .total = 11 }` (≥0.24). */
export function parseStats(text: string): StatsValue | undefined {
  if (text.charCodeAt(0) === 123 /* { */) return statsFrom(text, '{ .count = ', ', .average = ', ', .total = ', ' }');
  return statsFrom(text, 'count ', ', average ', ', total ', '');
}

export function isStatsText(text: string): boolean {
  return text.startsWith('count ') || text.startsWith('{ .count = ');
}

function statsFrom(
  text: string,
  countTag: string,
  averageTag: string,
  totalTag: string,
  tail: string,
): StatsValue | undefined {
  const c = text.indexOf(countTag);
  const a = text.indexOf(averageTag, c);
  const t = text.indexOf(totalTag, a);
  if (c !== 0 || a < 0 || t < 0 || !text.endsWith(tail)) return undefined;
  const count = parseInteger(text, c + countTag.length, a);
  const average = parseInteger(text, a + averageTag.length, t);
  const total = parseInteger(text, t + totalTag.length, text.length - tail.length);
  if (Number.isNaN(count) || Number.isNaN(average) || Number.isNaN(total)) return undefined;
  return { count, average, total };
}

/** A plain value: integer → number, `(a, b)` → array, anything else (strings, structs) → the string verbatim. */
export function parsePlainValue(text: string): PlainValue {
  const n = parseInteger(text, 0, text.length);
  if (!Number.isNaN(n)) return n;
  if (text.charCodeAt(0) === 40 && text.charCodeAt(text.length - 1) === 41) {
    const cursor = { at: 0 };
    const tuple = parseTuple(text, cursor);
    // bpftrace tuples have at least two elements; `(sd-pam)` is a comm, not a tuple.
    if (tuple !== undefined && tuple.length >= 2 && cursor.at === text.length) return tuple;
  }
  return text;
}

/** Reads `(e1, e2, …)` from `text` at `cursor.at`; elements are split on `, ` at this depth. */
function parseTuple(text: string, cursor: { at: number }): PlainValue[] | undefined {
  const out: PlainValue[] = [];
  let i = cursor.at + 1;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 40 /* ( */) {
      const inner = { at: i };
      const nested = parseTuple(text, inner);
      if (nested === undefined) return undefined;
      out.push(nested);
      i = inner.at;
    } else {
      // An element runs to the next `, ` or `)` at this depth (nested braces of struct elements included).
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === 123 || c === 91) depth++;
        else if ((c === 125 || c === 93) && depth > 0) depth--;
        else if (depth === 0 && (c === 41 || (c === 44 && text.charCodeAt(j + 1) === 32))) break;
      }
      if (j >= n) return undefined;
      const element = text.slice(i, j);
      const num = parseInteger(element, 0, element.length);
      out.push(Number.isNaN(num) ? element : num);
      i = j;
    }
    const c = text.charCodeAt(i);
    if (c === 41 /* ) */) {
      cursor.at = i + 1;
      return out;
    }
    if (c === 44 && text.charCodeAt(i + 1) === 32) {
      i += 2;
      continue;
    }
    return undefined;
  }
}
