// Map key parts as both output formats print them: integers, folded stacks, and the split of a joined key
// into the positions the program declares. Shared by the text and JSON readers, so both read a key the same way.
import type { KeyPart, KeyType } from './types.js';

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
export function assignPieces(pieces: readonly string[], types: readonly KeyType[], arity: number, separator: string): string[] | undefined {
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
