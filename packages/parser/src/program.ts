// A light reading of a bpftrace program: which maps it assigns, with which aggregation and arguments, how many
// key positions each has, a label name and a type per position, and whether it clears them or prints them itself.
// It is a lexer plus a few patterns, not a bpftrace parser: it finds what the output cannot tell.
import { KtraceError } from './errors.js';
import { isAggregation } from './kinds.js';
import type { KeyType, MapInfo, MapKind, ProgramInfo } from './types.js';

interface Token {
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
const OPENERS: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
const CLOSERS: Record<string, string> = { '}': '{', ']': '[', ')': '(' };

function badProgram(message: string, line: number, column: number): KtraceError {
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
function lex(source: string): Token[] {
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

/** Builtins usable as keys: their label name is their own name. */
const BUILTIN_KEYS: Record<string, KeyType> = {
  comm: 'string',
  probe: 'string',
  func: 'string',
  username: 'string',
  kstack: 'stack',
  ustack: 'stack',
  pid: 'int',
  tid: 'int',
  uid: 'int',
  gid: 'int',
  cpu: 'int',
  cpid: 'int',
  cgroup: 'int',
  retval: 'int',
  nsecs: 'int',
  elapsed: 'int',
  jiffies: 'int',
  numaid: 'int',
  rand: 'int',
  curtask: 'int',
};

/** Functions usable as keys: what they return, and whether their label comes from their argument. */
const FUNCTION_KEYS: Record<string, { type: KeyType; nameFromArg: boolean }> = {
  str: { type: 'string', nameFromArg: true },
  ksym: { type: 'string', nameFromArg: false },
  usym: { type: 'string', nameFromArg: false },
  kstack: { type: 'stack', nameFromArg: false },
  ustack: { type: 'stack', nameFromArg: false },
  path: { type: 'string', nameFromArg: true },
  strftime: { type: 'string', nameFromArg: false },
  ntop: { type: 'string', nameFromArg: true },
  macaddr: { type: 'string', nameFromArg: true },
  cgroup_path: { type: 'string', nameFromArg: false },
  strerror: { type: 'string', nameFromArg: false },
  buf: { type: 'string', nameFromArg: true },
  kaddr: { type: 'int', nameFromArg: false },
  uaddr: { type: 'int', nameFromArg: false },
  reg: { type: 'int', nameFromArg: false },
  ntohs: { type: 'int', nameFromArg: true },
  ntohl: { type: 'int', nameFromArg: true },
  bswap: { type: 'int', nameFromArg: true },
};

const STRINGY_FIELD = /(comm|name|path|filename)$/;
const ARITHMETIC = new Set(['+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^']);

/** Label name and type of one key expression, as far as its tokens tell. */
function describeKey(expr: Token[]): { name: string | undefined; type: KeyType } {
  let tokens = expr;
  // Casts: `(uint64)x`, `(int32)args->ret`.
  let cast = false;
  while (tokens.length > 3 && tokens[0]?.text === '(' && tokens[1]?.kind === 'ident' && tokens[2]?.text === ')') {
    tokens = tokens.slice(3);
    cast = true;
  }
  const first = tokens[0];
  if (first === undefined) return { name: undefined, type: 'unknown' };
  if (tokens.length === 1) {
    if (first.kind === 'str') return { name: undefined, type: 'string' };
    if (first.kind === 'num') return { name: undefined, type: 'int' };
    if (first.kind === 'ident') {
      const builtin = BUILTIN_KEYS[first.text];
      if (builtin !== undefined) return { name: first.text, type: cast ? 'int' : builtin };
      if (/^s?arg\d+$/.test(first.text)) return { name: first.text, type: 'int' };
    }
    return { name: undefined, type: cast ? 'int' : 'unknown' };
  }
  // A field access chain: `args->fd`, `args.fd`, `$task->real_parent->pid`, `curtask->comm`.
  if (
    tokens.every((t, i) => (i % 2 === 0 ? t.kind === 'ident' || t.kind === 'var' : t.text === '->' || t.text === '.'))
  ) {
    const field = tokens[tokens.length - 1]?.text ?? '';
    return { name: field, type: cast ? 'int' : STRINGY_FIELD.test(field) ? 'string' : 'unknown' };
  }
  // A call: `str(args->filename)`, `kstack(3)`, `ksym(reg("ip"))`.
  if (
    first.kind === 'ident' &&
    tokens[1]?.text === '(' &&
    tokens[tokens.length - 1]?.text === ')' &&
    closingOf(tokens, 1) === tokens.length - 1
  ) {
    const fn = FUNCTION_KEYS[first.text];
    if (fn !== undefined) {
      const inner = splitTopLevel(tokens.slice(2, -1))[0] ?? [];
      const innerName = fn.nameFromArg ? describeKey(inner).name : undefined;
      return { name: innerName ?? first.text, type: cast ? 'int' : fn.type };
    }
    return { name: undefined, type: cast ? 'int' : 'unknown' };
  }
  if (!tokens.some((t) => t.kind === 'str') && tokens.some((t) => t.kind === 'punct' && ARITHMETIC.has(t.text))) {
    return { name: undefined, type: 'int' };
  }
  return { name: undefined, type: cast ? 'int' : 'unknown' };
}

/** Index of the token closing the bracket opened at `open`. */
function closingOf(tokens: Token[], open: number): number {
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
function splitTopLevel(tokens: Token[]): Token[][] {
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

function numericLiteral(expr: Token[]): number | undefined {
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

/** A kind found at one assignment; `strong` kinds come from aggregation calls and must agree everywhere. */
interface Assignment {
  kind: MapKind;
  strong: boolean;
  /** `@x = 0` is read as initialisation: it gives a kind only when nothing else does. */
  initOnly: boolean;
  args: number[];
  keys: Token[][];
  at: Token;
  how: string;
}

/**
 * Reads a .bt program. Kinds: an aggregation call gives its own kind; `@m[k]++` gives `count` (it counts events
 * like count() does); `@m[k] += x` gives `sum`; any other assignment (`=`, `--`, `-=`, …) gives `value`.
 * Throws KtraceError KTRACE_BAD_PROGRAM, naming line and column, for unbalanced brackets, unterminated strings or
 * comments, and for a map given two different aggregations.
 */
export function readProgram(source: string): ProgramInfo {
  const tokens = lex(source);
  const assignments = new Map<string, Assignment[]>();
  // The probe bodies (by index) that clear() or print() each map while the program runs.
  const clearedIn = new Map<string, Set<number>>();
  const printedIn = new Map<string, Set<number>>();
  const printedTop = new Set<string>();
  const printedDivisor = new Map<string, number>();
  const printedWhileRunning = new Set<string>();
  let printsMaps = false;
  const inBeginEnd = beginEndTokens(tokens);
  const blockOf = blockIndexes(tokens);

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) continue;
    if (t.kind === 'ident' && tokens[i + 1]?.text === '(' && tokens[i + 2]?.kind === 'map') {
      const target = tokens[i + 2]?.text ?? '';
      // A clear() in BEGIN or END (the usual `END { clear(@m); }` that keeps a map out of the exit-time dump)
      // never runs between two prints, so it does not make the printed values deltas.
      if ((t.text === 'clear' || t.text === 'zero') && inBeginEnd[i] !== true)
        addTo(clearedIn, target, blockOf[i] ?? -1);
      if (t.text === 'print') {
        printsMaps = true;
        if (inBeginEnd[i] !== true) {
          printedWhileRunning.add(target);
          addTo(printedIn, target, blockOf[i] ?? -1);
        }
        // `print(@m, top[, div])` with top > 0 prints only the top entries: a key missing from it was not deleted.
        if (tokens[i + 3]?.text === ',') {
          const [top = [], div = []] = splitTopLevel(tokens.slice(i + 4, closingOf(tokens, i + 1)));
          if (numericLiteral(top) !== 0) printedTop.add(target);
          // `print(@m, top, div)` divides the values of count/sum/min/max/avg maps; the exit-time dump does not.
          const divisor = numericLiteral(div);
          if (inBeginEnd[i] !== true && divisor !== undefined && divisor > 1) printedDivisor.set(target, divisor);
        }
      }
      continue;
    }
    if (t.kind !== 'map') continue;
    let j = i + 1;
    let keys: Token[][] = [];
    if (tokens[j]?.text === '[') {
      const close = closingOf(tokens, j);
      keys = splitTopLevel(tokens.slice(j + 1, close));
      j = close + 1;
    }
    const op = tokens[j];
    if (op === undefined || op.kind !== 'punct') continue;
    let assignment: Assignment | undefined;
    if (op.text === '=') {
      const fn = tokens[j + 1];
      if (fn?.kind === 'ident' && isAggregation(fn.text) && tokens[j + 2]?.text === '(') {
        const close = closingOf(tokens, j + 2);
        const callArgs = splitTopLevel(tokens.slice(j + 3, close));
        const args: number[] = [];
        for (const arg of callArgs.slice(1)) {
          const value = numericLiteral(arg);
          if (value !== undefined) args.push(value);
        }
        assignment = {
          kind: fn.text as MapKind,
          strong: true,
          initOnly: false,
          args,
          keys,
          at: t,
          how: `${fn.text}()`,
        };
      } else {
        const end = tokens[j + 2];
        const zero =
          fn?.kind === 'num' &&
          numericLiteral([fn]) === 0 &&
          (end === undefined || end.text === ';' || end.text === '}');
        assignment = { kind: 'value', strong: false, initOnly: zero, args: [], keys, at: t, how: 'a plain assignment' };
      }
    } else if (op.text === '++' || op.text === '+=') {
      assignment = {
        kind: op.text === '++' ? 'count' : 'sum',
        strong: false,
        initOnly: false,
        args: [],
        keys,
        at: t,
        how: op.text,
      };
    } else if (['--', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='].includes(op.text)) {
      assignment = { kind: 'value', strong: false, initOnly: false, args: [], keys, at: t, how: op.text };
    } else if (t.text.length > 0 && tokens[i - 1]?.text === '++') {
      assignment = { kind: 'count', strong: false, initOnly: false, args: [], keys, at: t, how: '++' };
    }
    if (assignment === undefined) continue;
    const list = assignments.get(t.text) ?? [];
    list.push(assignment);
    assignments.set(t.text, list);
  }

  const maps: MapInfo[] = [];
  for (const [name, list] of assignments) {
    const first = list[0];
    if (first === undefined) continue;
    const strong = list.filter((a) => a.strong);
    const weak = list.filter((a) => !a.strong && !a.initOnly);
    let chosen: Assignment;
    const s0 = strong[0];
    if (s0 !== undefined) {
      const other = strong.find((a) => a.kind !== s0.kind) ?? weak[0];
      if (other !== undefined) {
        throw badProgram(
          `map ${name} is assigned ${s0.how} at line ${s0.at.line}, column ${s0.at.column} and ${other.how} here: a map holds one kind of value; use two maps`,
          other.at.line,
          other.at.column,
        );
      }
      chosen = s0;
    } else {
      // Plain maps: `++` alone is a count, `+=` (with or without `++`) a sum, anything else a plain value.
      const kinds = new Set(weak.map((a) => a.kind));
      const kind: MapKind =
        kinds.size === 0 ? 'value' : kinds.has('value') ? 'value' : kinds.has('sum') ? 'sum' : 'count';
      chosen = weak.find((a) => a.kind === kind) ?? first;
      chosen = { ...chosen, kind };
    }
    const keySource = list.find((a) => a.keys.length > 0) ?? first;
    const keyArity = keySource.keys.length;
    const described = keySource.keys.map(describeKey);
    const keyNames = dedupe(described.map((d, i) => d.name ?? `key${i}`));
    const divisor = printedDivisor.get(name);
    // Printed values are deltas only when each clear() follows a print() in the same probe (print-then-clear). A
    // clear() in a probe that does not print the map (print every 1 s, clear every 60 s) makes its values drop.
    const clearBlocks = [...(clearedIn.get(name) ?? [])];
    const clearedApart = clearBlocks.some((block) => printedIn.get(name)?.has(block) !== true);
    maps.push({
      name,
      kind: chosen.kind,
      args: chosen.args,
      keyArity,
      keyNames,
      keyTypes: described.map((d) => d.type),
      cleared: clearBlocks.length > 0 && !clearedApart,
      ...(clearedApart ? { clearedApart: true } : {}),
      ...(printedWhileRunning.has(name) ? { printed: true } : {}),
      ...(printedTop.has(name) ? { partial: true } : {}),
      ...(divisor === undefined ? {} : { printDivisor: divisor }),
      line: first.at.line,
      column: first.at.column,
    });
  }
  return { maps, printsMaps };
}

/** For each token, whether it is inside a probe block whose attach points are only BEGIN/END (begin/end). */
function beginEndTokens(tokens: Token[]): boolean[] {
  const out: boolean[] = new Array<boolean>(tokens.length).fill(false);
  let depth = 0;
  let header: Token[] = [];
  let beginEnd = false;
  tokens.forEach((t, i) => {
    if (t.kind === 'punct' && t.text === '{') {
      if (depth === 0) {
        const points = header.filter((h) => h.text !== ',');
        beginEnd =
          points.length > 0 && points.every((h) => h.kind === 'ident' && /^(BEGIN|END|begin|end)$/.test(h.text));
        header = [];
      }
      depth++;
    } else if (t.kind === 'punct' && t.text === '}') {
      depth--;
      if (depth === 0) {
        out[i] = beginEnd;
        beginEnd = false;
        return;
      }
    } else if (depth === 0) {
      header.push(t);
    }
    out[i] = depth > 0 && beginEnd;
  });
  return out;
}

/** For each token, the index of the top-level probe body it is in (-1 outside any). */
function blockIndexes(tokens: Token[]): number[] {
  const out = new Array<number>(tokens.length).fill(-1);
  let depth = 0;
  let block = -1;
  tokens.forEach((t, i) => {
    if (t.kind === 'punct' && t.text === '{' && depth++ === 0) block++;
    out[i] = depth > 0 ? block : -1;
    if (t.kind === 'punct' && t.text === '}' && depth > 0) depth--;
  });
  return out;
}

function addTo(index: Map<string, Set<number>>, map: string, block: number): void {
  let set = index.get(map);
  if (set === undefined) index.set(map, (set = new Set()));
  set.add(block);
}

function dedupe(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}
