// The tokens of a bpftrace program, as far as the light reading in program.ts needs them: maps, variables,
// identifiers, numbers, strings and punctuation, with comments and preprocessor lines dropped and brackets checked.
// Also the token-list helpers the reading uses (matching brackets, top-level commas, numeric literals).
import { KtraceError } from './errors.js';

export interface Token {
  /** `map` (@name), `var` ($x), `ident`, `num`, `str`, `punct`. */
  kind: 'map' | 'var' | 'ident' | 'num' | 'str' | 'punct';
  text: string;
  line: number;
  column: number;
}

const PUNCT3 = ['<<=', '>>='];
const PUNCT2 = [
  '==',
  '!=',
  '<=',
  '>=',
  '++',
  '--',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '->',
  '&&',
  '||',
  '<<',
  '>>',
  '::',
];
export const OPENERS: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
export const CLOSERS: Record<string, string> = { '}': '{', ']': '[', ')': '(' };

export function badProgram(message: string, line: number, column: number): KtraceError {
  return new KtraceError({
    code: 'KTRACE_BAD_PROGRAM',
    message: `program line ${line}, column ${column}: ${message}`,
    line,
    column,
  });
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

/** Tokens of the program, without comments and preprocessor lines; throws on unterminated strings/comments and unbalanced brackets. */
export function lex(source: string): Token[] {
  const tokens: Token[] = [];
  const open: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = source.length;
  let atLineStart = true;
  while (i < n) {
    const c = source[i] ?? '';
    const column = i - lineStart + 1;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && atLineStart) {
      // #include, #define, and a #! line: the C preprocessor's business, up to the end of the line.
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    atLineStart = false;
    if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw badProgram('unterminated /* comment: add the closing */', line, column);
      for (let k = i; k < end; k++) {
        if (source[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      }
      i = end + 2;
      continue;
    }
    if (c === '"') {
      let k = i + 1;
      let text = '';
      for (;;) {
        const d = source[k];
        if (d === undefined || d === '\n') throw badProgram('unterminated string: add the closing "', line, column);
        if (d === '\\') {
          text += source.slice(k, k + 2);
          k += 2;
          continue;
        }
        if (d === '"') break;
        text += d;
        k++;
      }
      tokens.push({ kind: 'str', text, line, column });
      i = k + 1;
      continue;
    }
    if (c === '@' || c === '$' || isIdentStart(c)) {
      let k = i + 1;
      while (k < n && isIdentChar(source[k] ?? '')) k++;
      tokens.push({ kind: c === '@' ? 'map' : c === '$' ? 'var' : 'ident', text: source.slice(i, k), line, column });
      i = k;
      continue;
    }
    if (c >= '0' && c <= '9') {
      let k = i + 1;
      while (k < n && /[0-9a-zA-Z_.]/.test(source[k] ?? '')) k++;
      tokens.push({ kind: 'num', text: source.slice(i, k), line, column });
      i = k;
      continue;
    }
    const three = source.slice(i, i + 3);
    const two = source.slice(i, i + 2);
    const text = PUNCT3.includes(three) ? three : PUNCT2.includes(two) ? two : c;
    const token: Token = { kind: 'punct', text, line, column };
    if (OPENERS[text] !== undefined) open.push(token);
    const opener = CLOSERS[text];
    if (opener !== undefined) {
      const top = open.pop();
      if (top === undefined)
        throw badProgram(
          `unexpected '${text}' with nothing open: remove it or add the matching '${opener}'`,
          line,
          column,
        );
      if (top.text !== opener) {
        throw badProgram(
          `'${top.text}' is not closed before the '${text}' at line ${line}, column ${column}: add the matching '${OPENERS[top.text] ?? ''}'`,
          top.line,
          top.column,
        );
      }
    }
    tokens.push(token);
    i += text.length;
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) {
    throw badProgram(
      `'${unclosed.text}' is never closed: add the matching '${OPENERS[unclosed.text] ?? ''}'`,
      unclosed.line,
      unclosed.column,
    );
  }
  return tokens;
}

/** Index of the token closing the bracket opened at `open`. */
export function closingOf(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined || t.kind !== 'punct') continue;
    if (OPENERS[t.text] !== undefined) depth++;
    else if (CLOSERS[t.text] !== undefined && --depth === 0) return i;
  }
  return tokens.length;
}

/** Comma-separated expressions at depth 0. */
export function splitTopLevel(tokens: Token[]): Token[][] {
  const parts: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct') {
      if (OPENERS[t.text] !== undefined) depth++;
      else if (CLOSERS[t.text] !== undefined) depth--;
      else if (t.text === ',' && depth === 0) {
        parts.push(current);
        current = [];
        continue;
      }
    }
    current.push(t);
  }
  if (current.length > 0 || parts.length > 0) parts.push(current);
  return parts;
}

export function numericLiteral(expr: Token[]): number | undefined {
  const negative = expr.length === 2 && expr[0]?.text === '-';
  const lit = negative ? expr[1] : expr.length === 1 ? expr[0] : undefined;
  if (lit?.kind !== 'num') return undefined;
  const text = lit.text.replace(/_/g, '');
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : /^\d+(\.\d+)?e\d+$/i.test(text)
        ? Number(text)
        : undefined;
  if (value === undefined || Number.isNaN(value)) return undefined;
  return negative ? -value : value;
}
