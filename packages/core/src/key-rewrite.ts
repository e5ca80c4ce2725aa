// Key rewriting for `podLabels: true`: ktrace adds bpftrace's `cgroup` to a map's key itself, at every assignment and
// every use of the map (`@opens[comm]` → `@opens[comm, cgroup]`, `@x` → `@x[cgroup]`), so the program still compiles
// and each entry can be labelled with its pod. Whole-map arguments (`print(@x)`, `clear(@x)`) are left as they are.
import { KtraceError, readProgram } from '@ktrace/parser';
import type { ProgramInfo } from '@ktrace/parser';

export interface KeyRewriteResult {
  /** The program with the cgroup key added; lines keep their numbers (nothing adds a newline). */
  source: string;
  /** What readProgram() reads in the rewritten program. */
  program: ProgramInfo;
  /** Maps whose key gained `cgroup` (a map already keyed by cgroup is left alone and not listed). */
  rewritten: string[];
}

/** Functions whose first argument is a whole map, not a value read from it. */
const wholeMapFunctions: ReadonlySet<string> = new Set(['print', 'clear', 'zero', 'len', 'has_key', 'delete']);

/** The names of maps a trace spec's `maps` section marks with `podLabels: true`. */
export function podLabelsMaps(maps: Record<string, { podLabels?: boolean }>): string[] {
  return Object.entries(maps)
    .filter(([, spec]) => spec.podLabels === true)
    .map(([name]) => name);
}

interface MapUse {
  /** Offset of the `@`. */
  start: number;
  /** Offset just after the name. */
  end: number;
  name: string;
}

/** The `@name` tokens of the code (not in strings, comments or preprocessor lines), in order. */
function mapUses(source: string): MapUse[] {
  const uses: MapUse[] = [];
  let i = 0;
  let lineStart = true;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (c === '\n') {
      lineStart = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && lineStart) {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    lineStart = false;
    if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"') {
      i++;
      while (i < source.length && source[i] !== '"' && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '@') {
      let k = i + 1;
      while (k < source.length && /[A-Za-z0-9_]/.test(source[k] ?? '')) k++;
      uses.push({ start: i, end: k, name: source.slice(i, k) });
      i = k;
    } else if (/[A-Za-z_$]/.test(c)) {
      // identifiers and variables: skipped whole so `x@` cannot occur and `$a` is not read as code punctuation
      let k = i + 1;
      while (k < source.length && /[A-Za-z0-9_]/.test(source[k] ?? '')) k++;
      i = k;
    } else {
      i++;
    }
  }
  return uses;
}

function skipSpace(source: string, from: number, step: 1 | -1): number {
  let i = from;
  while (i >= 0 && i < source.length && /\s/.test(source[i] ?? '')) i += step;
  return i;
}

/** Offset of the `]` closing the `[` at `open` (strings skipped). */
function closingBracket(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '"') {
      i++;
      while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
    } else if (c === '[' || c === '(' || c === '{') depth++;
    else if (c === ']' || c === ')' || c === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

/** True when the use at `use` is the first argument of print(), clear()… (a whole map). */
function isWholeMapArgument(source: string, use: MapUse): boolean {
  const before = skipSpace(source, use.start - 1, -1);
  if (source[before] !== '(') return false;
  const nameEnd = skipSpace(source, before - 1, -1) + 1;
  let nameStart = nameEnd;
  while (nameStart > 0 && /[A-Za-z0-9_]/.test(source[nameStart - 1] ?? '')) nameStart--;
  if (!wholeMapFunctions.has(source.slice(nameStart, nameEnd))) return false;
  const after = source[skipSpace(source, use.end, 1)];
  return after === ')' || after === ',';
}

/**
 * Adds `cgroup` as the last key position of each map in `maps` ('@name's), everywhere the program uses it. Throws
 * KtraceError KTRACE_BAD_SPEC for a map the program does not assign (a typo in the spec's maps section).
 */
export function addCgroupKey(source: string, maps: readonly string[]): KeyRewriteResult {
  const before = readProgram(source);
  const targets = new Set<string>();
  for (const name of maps) {
    const info = before.maps.find((m) => m.name === name);
    if (info === undefined) {
      const known = before.maps.map((m) => m.name).join(', ');
      throw new KtraceError({
        code: 'KTRACE_BAD_SPEC',
        message: `maps.${name}.podLabels: the program assigns no map ${name}${known === '' ? '' : ` (its maps: ${known})`}`,
      });
    }
    if (!info.keyNames.includes('cgroup')) targets.add(name);
  }
  if (targets.size === 0) return { source, program: before, rewritten: [] };
  let out = '';
  let copied = 0;
  for (const use of mapUses(source)) {
    if (!targets.has(use.name) || isWholeMapArgument(source, use)) continue;
    const open = skipSpace(source, use.end, 1);
    if (source[open] === '[') {
      const close = closingBracket(source, open);
      if (close < 0) continue; // readProgram already rejects unbalanced brackets
      const inside = source.slice(open + 1, close).trim();
      out += source.slice(copied, close) + (inside === '' ? 'cgroup' : ', cgroup');
      copied = close;
    } else {
      out += `${source.slice(copied, use.end)}[cgroup]`;
      copied = use.end;
    }
  }
  out += source.slice(copied);
  const program = readProgram(out);
  return { source: out, program, rewritten: [...targets] };
}
