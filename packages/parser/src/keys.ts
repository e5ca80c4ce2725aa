// Map key parts as both output formats print them: integers, folded stacks, and the split of a joined key
// into the positions the program declares (the text reader's `a, b` keys and the JSON reader's `"a,b"` keys).
// All key splitting lives here (splitTextKey, splitJsonKey), so both readers read a key the same way.
import type { KeyPart, KeyType, MapInfo } from './types.js';

/** A decimal integer (optionally negative) filling `text[start, end)`, or NaN. */
export function parseInteger(text: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && text.charCodeAt(i) === 45) {
    negative = true;
    i++;
  }
  if (i === end) return Number.NaN;
  const digits = end - i;
  let value = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
    value = value * 10 + (c - 48);
  }
  if (digits > 15) value = Number(text.slice(end - digits, end));
  return negative ? -value : value;
}

/** `\n    f1\n    f2\n` → `f1\nf2`: frames in order, indentation removed, empty lines dropped. */
export function foldStack(text: string): string {
  if (text.indexOf('\n') < 0) return text.trim();
  const frames: string[] = [];
  for (const line of text.split('\n')) {
    const frame = line.trim();
    if (frame.length > 0) frames.push(frame);
  }
  return frames.join('\n');
}

/** One key part: stacks folded, integers as numbers (unless the program says the position is a string). */
export function keyPart(text: string, type: KeyType | undefined): KeyPart {
  if (text.charCodeAt(0) === 10 || type === 'stack') return foldStack(text);
  if (type === 'string') return text;
  const n = parseInteger(text, 0, text.length);
  return Number.isNaN(n) ? text : n;
}

/**
 * Assigns `pieces` (a key cut at every separator) to `arity` key positions: an `int` position takes one integer
 * piece, any other one or more pieces re-joined with `separator`. Among valid assignments, earlier string
 * positions take as few pieces as possible, so extra pieces go to the last string position. Undefined when no
 * assignment fits the types.
 */
export function assignPieces(
  pieces: readonly string[],
  types: readonly KeyType[],
  arity: number,
  separator: string,
): string[] | undefined {
  const out: string[] = new Array<string>(arity);
  const place = (part: number, from: number): boolean => {
    if (part === arity) return from === pieces.length;
    const remaining = arity - part - 1;
    if (types[part] === 'int') {
      const piece = pieces[from];
      if (piece === undefined || Number.isNaN(parseInteger(piece, 0, piece.length))) return false;
      out[part] = piece;
      return place(part + 1, from + 1);
    }
    for (let take = 1; from + take + remaining <= pieces.length; take++) {
      out[part] = take === 1 ? (pieces[from] ?? '') : pieces.slice(from, from + take).join(separator);
      if (place(part + 1, from + take)) return true;
    }
    return false;
  };
  return place(0, 0) ? out : undefined;
}

// Text keys: bpftrace's text output joins a key's parts with `, `.

/**
 * Splits a key as bpftrace's text output prints it (`comm, 42`). `raw` undefined: a keyless map (`@x: 1`), unlike
 * `@ks[]: 1` (an empty key). Without the program: on every `, `, integer parts as numbers. With it: into exactly
 * keyArity parts, pieces left over (strings that contained `, `) going to the last string position that can take them.
 */
export function splitTextKey(raw: string | undefined, info: MapInfo | undefined): KeyPart[] {
  if (raw === undefined) return [];
  const arity = info?.keyArity;
  if (raw.length === 0) return arity === 0 ? [] : [''];
  const types = info?.keyTypes;
  if (arity === 1) return [keyPart(raw, types?.[0])];
  const comma = raw.indexOf(', ');
  if (comma < 0 && raw.charCodeAt(0) !== 10) return [keyPart(raw, types?.[0])];
  // Hot path: `string, int` (comm, pid): the int is whatever follows the last `, `.
  if (arity === 2 && types?.[0] === 'string' && types[1] === 'int' && raw.charCodeAt(0) !== 10) {
    const last = raw.lastIndexOf(', ');
    const n = parseInteger(raw, last + 2, raw.length);
    if (!Number.isNaN(n)) return [raw.slice(0, last), n];
  }
  if (raw.indexOf('\n') < 0 && (arity === undefined || arity === 0)) return splitPlainKey(raw, types);
  const pieces = splitKeyPieces(raw);
  if (arity === undefined || arity === 0 || pieces.length <= arity) {
    const parts = new Array<KeyPart>(pieces.length);
    for (let k = 0; k < pieces.length; k++) parts[k] = keyPart(pieces[k] ?? '', types?.[k]);
    return parts;
  }
  // No assignment fits the types: the tail goes to the last position.
  const assigned = assignPieces(pieces, types ?? [], arity, ', ') ?? [
    ...pieces.slice(0, arity - 1),
    pieces.slice(arity - 1).join(', '),
  ];
  const parts = new Array<KeyPart>(arity);
  for (let k = 0; k < arity; k++) parts[k] = keyPart(assigned[k] ?? '', types?.[k]);
  return parts;
}

/** A key without stacks split on every `, `, integer parts as numbers (unless typed `string`), in one pass. */
function splitPlainKey(raw: string, types: readonly string[] | undefined): KeyPart[] {
  const parts: KeyPart[] = [];
  let start = 0;
  for (let k = 0; ; k++) {
    const comma = nextKeySeparator(raw, start);
    const end = comma < 0 ? raw.length : comma;
    const n = types?.[k] === 'string' ? Number.NaN : parseInteger(raw, start, end);
    parts.push(Number.isNaN(n) ? raw.slice(start, end) : n);
    if (comma < 0) return parts;
    start = comma + 2;
  }
}

/**
 * The next `, ` that separates key parts from `start`: a part that opens with `{`, `(` or `[` (a struct such as
 * `{ .m = 2, .n = 3 }`, a tuple or an array) runs to its matching close, when it has one.
 */
function nextKeySeparator(raw: string, start: number): number {
  const open = raw.charCodeAt(start);
  if (open === 123 || open === 40 || open === 91) {
    let depth = 0;
    for (let i = start; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 123 || c === 40 || c === 91) depth++;
      else if (c === 125 || c === 41 || c === 93) {
        depth--;
        if (depth === 0) return raw.indexOf(', ', i + 1);
      }
    }
  }
  return raw.indexOf(', ', start);
}

/** Splits a raw key on `, `, keeping each stack (`\n    f1\n    f2\n`) whole even if a frame contains `, `. */
function splitKeyPieces(raw: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (;;) {
    let end: number;
    let next: number;
    if (raw.charCodeAt(start) === 10) {
      // A stack: its frames run to the `\n` that the next `, ` (or the end) follows.
      const close = raw.indexOf('\n, ', start + 1);
      end = close < 0 ? raw.length : close + 1;
      next = close < 0 ? -1 : close + 3;
    } else {
      const sep = nextKeySeparator(raw, start);
      end = sep < 0 ? raw.length : sep;
      next = sep < 0 ? -1 : sep + 2;
    }
    pieces.push(raw.slice(start, end));
    if (next < 0) return pieces;
    start = next;
  }
}

// JSON keys: bpftrace -f json joins a key's parts with `,` into one string.

/** How the program says a map's JSON key splits: its arity, each position's type, and its one string position. */
export interface KeyPlan {
  arity: number;
  types: KeyType[];
  /** The only position that may hold a `,` (not an int: a string, a stack…), when there is one. */
  nonIntPosition: number | 'none' | 'several';
}

export function keyPlanOf(info: MapInfo | undefined): KeyPlan | undefined {
  if (info === undefined) return undefined;
  let nonIntPosition: KeyPlan['nonIntPosition'] = 'none';
  for (let i = 0; i < info.keyArity; i++) {
    if (info.keyTypes[i] !== 'int') nonIntPosition = nonIntPosition === 'none' ? i : 'several';
  }
  return { arity: info.keyArity, types: info.keyTypes, nonIntPosition };
}

/** Splits a joined JSON key on `,`, keeping a stack (`\n    f1\n    f2\n`) whole even if a frame contains `,`. */
function keyPieces(raw: string): string[] {
  const rough = raw.split(',');
  if (raw.charCodeAt(0) !== 10 && raw.indexOf('\n') < 0) return rough;
  const pieces: string[] = [];
  for (let k = 0; k < rough.length; k++) {
    let piece = rough[k] ?? '';
    if (piece.charCodeAt(0) === 10) {
      while (piece.charCodeAt(piece.length - 1) !== 10 && k + 1 < rough.length) piece = `${piece},${rough[++k] ?? ''}`;
    }
    pieces.push(piece);
  }
  return pieces;
}

export interface SplitKey {
  parts: KeyPart[];
  /** Set when the split is a guess (several string positions could take a `,`) or does not fit the program. */
  doubt?: 'ambiguous' | 'mismatch';
}

/**
 * The common case without splitting into an array: integer positions are cut off from the front (before the
 * one string position) and from the back (after it); the string keeps whatever is left, commas and all.
 * Undefined when a position does not hold an integer: the general path then reports it.
 */
function splitAroundNonInt(raw: string, plan: KeyPlan, nonInt: number | 'none'): KeyPart[] | undefined {
  const { arity, types } = plan;
  const parts = new Array<KeyPart>(arity);
  let lo = 0;
  let hi = raw.length;
  const front = nonInt === 'none' ? arity - 1 : nonInt;
  for (let i = 0; i < front; i++) {
    const comma = raw.indexOf(',', lo);
    if (comma < 0) return undefined;
    const n = parseInteger(raw, lo, comma);
    if (Number.isNaN(n)) return undefined;
    parts[i] = n;
    lo = comma + 1;
  }
  for (let i = arity - 1; i > front; i--) {
    const comma = raw.lastIndexOf(',', hi - 1);
    if (comma < lo) return undefined;
    const n = parseInteger(raw, comma + 1, hi);
    if (Number.isNaN(n)) return undefined;
    parts[i] = n;
    hi = comma;
  }
  if (nonInt === 'none') {
    const n = parseInteger(raw, lo, hi);
    if (Number.isNaN(n)) return undefined;
    parts[front] = n;
  } else {
    parts[front] = keyPart(raw.slice(lo, hi), types[front]);
  }
  return parts;
}

/**
 * Splits bpftrace's joined JSON key (`"x,1"`) into parts. Without the program: on every `,` (a string key
 * containing `,` then splits too, as JSON cannot tell the key `"a,b"` from the keys `"a","b"`). With it: into
 * exactly keyArity parts, see assignPieces.
 */
export function splitJsonKey(raw: string, plan: KeyPlan | undefined): SplitKey {
  if (plan === undefined || plan.arity === 0) {
    if (raw.indexOf(',') < 0) return { parts: [keyPart(raw, undefined)] };
    return { parts: keyPieces(raw).map((p) => keyPart(p, undefined)) };
  }
  const { arity, types } = plan;
  if (arity === 1) {
    const part = keyPart(raw, types[0]);
    return types[0] === 'int' && typeof part !== 'number' ? { parts: [part], doubt: 'mismatch' } : { parts: [part] };
  }
  if (plan.nonIntPosition !== 'several' && raw.indexOf('\n') < 0) {
    const parts = splitAroundNonInt(raw, plan, plan.nonIntPosition);
    if (parts !== undefined) return { parts };
  }
  const pieces = keyPieces(raw);
  if (pieces.length === arity) {
    const parts = pieces.map((p, i) => keyPart(p, types[i]));
    const fits = parts.every((p, i) => types[i] !== 'int' || typeof p === 'number');
    return fits ? { parts } : { parts, doubt: 'mismatch' };
  }
  const assigned = pieces.length > arity ? assignPieces(pieces, types, arity, ',') : undefined;
  if (assigned === undefined) {
    const fallback = pieces.slice(0, arity - 1);
    fallback.push(pieces.slice(arity - 1).join(','));
    return { parts: fallback.map((p, i) => keyPart(p, types[i])), doubt: 'mismatch' };
  }
  const parts = assigned.map((p, i) => keyPart(p, types[i]));
  return plan.nonIntPosition === 'several' ? { parts, doubt: 'ambiguous' } : { parts };
}
