// A JSON scanner for one line of bpftrace's -f json output. It keeps what JSON.parse loses: object members in
// source order with duplicates (keys bpftrace's lossy key encoding makes equal), numbers past 2^53 as doubles,
// 0.17's `\uffffffXX` byte escapes as bytes, and it reads bucket lists without intermediate objects. A long line can
// be read from the pieces it arrived in (resetPieces), a window at a time, so it is never one string.
import { decodeKeepingBytes } from './utf8.js';
import type { HistogramBucket } from './types.js';

/** A JSON object with its members in source order, duplicates kept. */
export class JsonObject {
  readonly keys: string[] = [];
  readonly values: JsonValue[] = [];
  get(key: string): JsonValue | undefined {
    const i = this.keys.indexOf(key);
    return i < 0 ? undefined : this.values[i];
  }
}

export type JsonValue = number | string | boolean | null | JsonValue[] | JsonObject;

export class JsonSyntaxError extends Error {}

const BUCKET_MIN = 0;
const BUCKET_MAX = 1;
const BUCKET_COUNT = 2;

/**
 * A line read in pieces is held as a window of at least this many characters while pieces remain, grown by the
 * next piece when less is left. With 64 KiB pipe chunks the window stays under V8's largest regular object
 * (128 KiB): a string larger than that gets pages of its own, and on this project's machines a fresh 500 KB
 * line costs 2.4 ms in page faults alone, a fifth of the CPU of reading a 10k-key hist() dump.
 */
const WINDOW_LOW = 16 * 1024;
const NO_PIECES: readonly string[] = [];
const EMPTY_BUCKET: HistogramBucket = { min: null, max: null, count: 0 };

/** Scans one line of JSON. Numbers beyond 2^53 come out rounded, as every double does. */
export class JsonScanner {
  private text = '';
  private pos = 0;
  private backslash = -1;
  /** A line read in pieces: the pieces not yet in `text`. */
  private pieces = NO_PIECES;
  private nextPiece = 0;
  private readonly bucketScratch: HistogramBucket[] = [];

  parse(text: string): JsonValue {
    this.reset(text);
    const value = this.value();
    this.atEnd();
    return value;
  }

  reset(text: string): void {
    this.text = text;
    this.pos = 0;
    this.backslash = -1;
    this.pieces = NO_PIECES;
    this.nextPiece = 0;
  }

  /**
   * Starts a line given in pieces (joined, they are the line). Callers read it a unit at a time (unitStart,
   * resume); anything read outside units must fall within the first WINDOW_LOW characters, or fail.
   */
  resetPieces(pieces: readonly string[]): void {
    this.reset(pieces[0] ?? '');
    this.pieces = pieces;
    this.nextPiece = 1;
    if (this.text.length < WINDOW_LOW) this.grow(0);
  }

  /** The text held now: the line, or the first window of a line in pieces. */
  get window(): string {
    return this.text;
  }

  /**
   * The start of a unit: a part of the line (a map entry and the separator after it) read whole or not at
   * all. The window moves on here when little of it is left.
   */
  unitStart(): number {
    if (this.nextPiece < this.pieces.length && this.text.length - this.pos < WINDOW_LOW) this.grow(this.pos);
    return this.pos;
  }

  /**
   * A unit started at `start` failed with `error`. When the window ended inside it and pieces remain, the
   * window grows and reading goes back to the unit's start; anything else is rethrown. A unit cut by the
   * window's end always fails: each ends by consuming a "," or a closing bracket that is not there.
   */
  resume(start: number, error: unknown): void {
    if (!(error instanceof JsonSyntaxError) || this.nextPiece >= this.pieces.length) throw error;
    this.pos = start;
    this.grow(start);
  }

  /** Everything left of a line in pieces, in the window: for the closing brackets after the last unit. */
  takeRest(): void {
    while (this.nextPiece < this.pieces.length) this.grow(this.pos);
  }

  /**
   * Drops the window before `from` and adds pieces, at least as many characters as are kept. Joined, not built
   * by `+=`: that makes a cons string, read through one more indirection for every character scanned.
   */
  private grow(from: number): void {
    const kept = this.text.slice(from);
    const parts = [kept];
    let added = 0;
    while (
      this.nextPiece < this.pieces.length &&
      (added === 0 || added < kept.length || kept.length + added < WINDOW_LOW)
    ) {
      const piece = this.pieces[this.nextPiece++] as string;
      parts.push(piece);
      added += piece.length;
    }
    this.text = parts.join('');
    this.pos -= from;
    this.backslash = -1;
  }

  atEnd(): void {
    this.takeRest();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
  }

  /** The next non-space character code (NaN at the end), without consuming it. */
  peek(): number {
    this.skipSpace();
    return this.text.charCodeAt(this.pos);
  }

  /** Consumes `c` (after spaces) or fails. */
  expect(c: number): void {
    if (this.peek() !== c) this.fail(`expected ${JSON.stringify(String.fromCharCode(c))}`);
    this.pos++;
  }

  /** A member name and its `:`. */
  key(): string {
    if (this.peek() !== 34) this.fail('expected a quoted key');
    const key = this.string();
    this.expect(58);
    return key;
  }

  /**
   * A member name that is a plain integer (`"4010":`) as that number, read in place with no string made; NaN
   * (nothing consumed) for any other name, to be read with key(). Maps keyed by pid, cpu or syscall id are common.
   */
  intKey(): number {
    if (this.peek() !== 34) return Number.NaN;
    const t = this.text;
    let p = this.pos + 1;
    const negative = t.charCodeAt(p) === 45;
    if (negative) p++;
    const digits = p;
    let n = 0;
    let c = t.charCodeAt(p);
    while (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      c = t.charCodeAt(++p);
    }
    // 16 digits and more may pass 2^53: the general path rounds them as keys.ts does
    if (c !== 34 || p === digits || p - digits > 15) return Number.NaN;
    this.pos = p + 1;
    this.expect(58);
    return negative ? -n : n;
  }

  /** After a member or element: true on `,`, false on the closing `close`. */
  more(close: number): boolean {
    const c = this.peek();
    this.pos++;
    if (c === 44) return true;
    if (c === close) return false;
    this.pos--;
    return this.fail(`expected "," or ${JSON.stringify(String.fromCharCode(close))}`);
  }

  /** Opens `{` or `[`; true when it is empty (and consumes its close). */
  open(c: number): boolean {
    this.expect(c);
    if (this.peek() === c + 2) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * A bucket list `[{"min": …, "max": …, "count": …}, …]` read straight into buckets (no intermediate objects),
   * as printed (json-buckets.ts repairs 0.17's wrapped bounds). Undefined (the list consumed) when a bucket has no
   * numeric count.
   */
  buckets(): HistogramBucket[] | undefined {
    // Read into a reused list, then copied at its size: a list grown by push holds room for 17 buckets, and
    // a dump of a big map keeps every list alive until the store has read it (young-generation GC copies them).
    const list = this.bucketScratch;
    let n = 0;
    let ok = true;
    if (this.open(91)) return [];
    do {
      let min: number | null = null;
      let max: number | null = null;
      let count: number | undefined;
      if (!this.open(123)) {
        do {
          const field = this.bucketField();
          const c = this.peek();
          // A plain number is read in place; anything else (0.24+'s integer strings) by the general path.
          const n = c === 45 || (c >= 48 && c <= 57) ? this.number() : toNumber(this.value());
          if (field === BUCKET_MIN) min = n ?? null;
          else if (field === BUCKET_MAX) max = n ?? null;
          else if (field === BUCKET_COUNT) count = n;
        } while (this.more(125));
      }
      if (count === undefined) ok = false;
      else list[n++] = { min, max, count };
    } while (this.more(93));
    if (!ok) return undefined;
    const buckets = list.slice(0, n);
    list.fill(EMPTY_BUCKET, 0, n);
    return buckets;
  }

  /**
   * A bucket's member name and its `:`, as BUCKET_MIN/MAX/COUNT (or -1 for another name). The three names
   * bpftrace prints are matched in place, without making a string of each: a hist dump has millions of them.
   */
  private bucketField(): number {
    if (this.peek() !== 34) this.fail('expected a quoted key');
    const t = this.text;
    const at = this.pos + 1;
    let field: number;
    if (t.startsWith('min"', at)) {
      field = BUCKET_MIN;
      this.pos = at + 4;
    } else if (t.startsWith('max"', at)) {
      field = BUCKET_MAX;
      this.pos = at + 4;
    } else if (t.startsWith('count"', at)) {
      field = BUCKET_COUNT;
      this.pos = at + 6;
    } else {
      // escapes or another name: read it as any key
      const name = this.string();
      field = name === 'min' ? BUCKET_MIN : name === 'max' ? BUCKET_MAX : name === 'count' ? BUCKET_COUNT : -1;
    }
    this.expect(58);
    return field;
  }

  private fail(what: string): never {
    throw new JsonSyntaxError(`${what} at column ${this.pos + 1}`);
  }

  private skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 32 || c === 9 || c === 10 || c === 13) p++;
      else break;
    }
    this.pos = p;
  }

  value(): JsonValue {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    if (c === 34) return this.string();
    if (c === 123) return this.object();
    if (c === 91) return this.array();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail(
      Number.isNaN(c) ? 'unexpected end of line' : `unexpected character ${JSON.stringify(this.text[this.pos])}`,
    );
  }

  private object(): JsonObject {
    const obj = new JsonObject();
    this.pos++;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 125) {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 34) this.fail('expected a quoted key');
      obj.keys.push(this.string());
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 58) this.fail('expected ":"');
      this.pos++;
      obj.values.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 44) continue;
      if (c === 125) return obj;
      this.pos--;
      this.fail('expected "," or "}"');
    }
  }

  private array(): JsonValue[] {
    const arr: JsonValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 93) {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 44) continue;
      if (c === 93) return arr;
      this.pos--;
      this.fail('expected "," or "]"');
    }
  }

  private number(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    let c = t.charCodeAt(p);
    let negative = false;
    if (c === 45) {
      negative = true;
      c = t.charCodeAt(++p);
    }
    let n = 0;
    const digitsStart = p;
    while (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      c = t.charCodeAt(++p);
    }
    if (p === digitsStart) this.fail('expected a digit');
    // Fractions, exponents and integers past 2^53: let the engine round them exactly as JSON.parse would.
    if (c === 46 || c === 101 || c === 69 || p - digitsStart > 15) {
      while (c === 46 || c === 101 || c === 69 || c === 43 || c === 45 || (c >= 48 && c <= 57)) c = t.charCodeAt(++p);
      const parsed = Number(t.slice(start, p));
      if (Number.isNaN(parsed)) this.fail('bad number');
      this.pos = p;
      return parsed;
    }
    this.pos = p;
    return negative ? -n : n;
  }

  private string(): string {
    const t = this.text;
    const start = this.pos + 1;
    const close = t.indexOf('"', start);
    if (close < 0) this.fail('unterminated string');
    // The next backslash of the line, found once and reused until passed: a fresh search per string would
    // scan to the end of a long line for every key.
    if (this.backslash < start) {
      this.backslash = t.indexOf('\\', start);
      if (this.backslash < 0) this.backslash = Number.MAX_SAFE_INTEGER;
    }
    if (this.backslash > close) {
      this.pos = close + 1;
      return t.slice(start, close);
    }
    return this.escapedString(start);
  }

  private escapedString(start: number): string {
    const t = this.text;
    let out = '';
    let p = start;
    let bytes: number[] | undefined;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 34) break;
      if (c !== 92) {
        if (bytes !== undefined) {
          out += decodeBytes(bytes);
          bytes = undefined;
        }
        const next = nextSpecial(t, p);
        out += t.slice(p, next);
        p = next;
        continue;
      }
      const e = t.charCodeAt(p + 1);
      // 0.17 escapes each non-ASCII byte as a sign-extended `\uffffffXX`: collect the bytes, decode them as UTF-8.
      if (e === 117 && t.startsWith('ffffff', p + 2) && isHex(t, p + 8, 2)) {
        (bytes ??= []).push(Number.parseInt(t.slice(p + 8, p + 10), 16));
        p += 10;
        continue;
      }
      if (bytes !== undefined) {
        out += decodeBytes(bytes);
        bytes = undefined;
      }
      switch (e) {
        case 34:
          out += '"';
          break;
        case 92:
          out += '\\';
          break;
        case 47:
          out += '/';
          break;
        case 98:
          out += '\b';
          break;
        case 102:
          out += '\f';
          break;
        case 110:
          out += '\n';
          break;
        case 114:
          out += '\r';
          break;
        case 116:
          out += '\t';
          break;
        case 117:
          if (!isHex(t, p + 2, 4)) {
            this.pos = p;
            this.fail('bad \\u escape');
          }
          out += String.fromCharCode(Number.parseInt(t.slice(p + 2, p + 6), 16));
          p += 4;
          break;
        default:
          this.pos = p;
          this.fail('bad escape');
      }
      p += 2;
    }
    if (bytes !== undefined) out += decodeBytes(bytes);
    this.pos = p + 1;
    return out;
  }
}

function nextSpecial(t: string, from: number): number {
  let p = from;
  for (;;) {
    const c = t.charCodeAt(p);
    if (c === 34 || c === 92 || Number.isNaN(c)) return p;
    p++;
  }
}

function isHex(t: string, at: number, count: number): boolean {
  if (at + count > t.length) return false;
  for (let i = at; i < at + count; i++) {
    const c = t.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

function decodeBytes(bytes: number[]): string {
  return decodeKeepingBytes(Uint8Array.from(bytes));
}

export const INT_RE = /^-?\d+$/;

/** A numeric field: numbers as they are, and the integer strings 0.24+ prints for values past 2^53. */
export function toNumber(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && INT_RE.test(value)) return Number(value);
  return undefined;
}
