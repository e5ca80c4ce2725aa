// A JSON scanner for one line of bpftrace's -f json output. It keeps what JSON.parse loses: object members in
// source order with duplicates (keys bpftrace's lossy key encoding makes equal), numbers past 2^53 as doubles,
// 0.17's `\uffffffXX` byte escapes as bytes, and it reads bucket lists without intermediate objects.
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

/** Scans one line of JSON. Numbers beyond 2^53 come out rounded, as every double does. */
export class JsonScanner {
  private text = '';
  private pos = 0;
  private backslash = -1;

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
  }

  atEnd(): void {
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
    const list: HistogramBucket[] = [];
    let ok = true;
    if (this.open(91)) return list;
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
      else list.push({ min, max, count });
    } while (this.more(93));
    return ok ? list : undefined;
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
