// What a map's key expressions say about its key positions: a label name (`comm`, `pid`, a field's name, a
// str() argument's) and a type (int, string, stack, unknown), read from the tokens of each expression.
import { closingOf, splitTopLevel } from './program-tokens.js';
import type { Token } from './program-tokens.js';
import type { KeyType } from './types.js';

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
export function describeKey(expr: Token[]): { name: string | undefined; type: KeyType } {
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

/** Label names made unique: a second `pid` becomes `pid_2`. */
export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}
