// A light reading of a bpftrace program: which maps it assigns, with which aggregation and arguments, how many
// key positions each has, a label name and a type per position, and whether it clears them or prints them itself.
// It is a lexer plus a few patterns, not a bpftrace parser: it finds what the output cannot tell.
// Tokens are program-tokens.ts; what a key expression says (label name, type) is program-keys.ts.
import { isAggregation } from './kinds.js';
import { describeKey, uniqueNames } from './program-keys.js';
import { badProgram, closingOf, lex, numericLiteral, splitTopLevel } from './program-tokens.js';
import type { Token } from './program-tokens.js';
import type { MapInfo, MapKind, ProgramInfo } from './types.js';

/** The kind an assignment operator gives a map that no aggregation call assigns. */
const OPERATOR_KINDS = new Map<string, MapKind>([
  ['++', 'count'],
  ['+=', 'sum'],
  ...['--', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='].map((op): [string, MapKind] => [op, 'value']),
]);

/** A kind found at one assignment; kinds from aggregation calls (`@m = hist(x)`) must agree everywhere. */
interface Assignment {
  kind: MapKind;
  aggregationCall: boolean;
  /** `@x = 0` is read as initialisation: it gives a kind only when nothing else does. */
  initOnly: boolean;
  args: number[];
  keys: Token[][];
  at: Token;
  assignedAs: string;
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
          aggregationCall: true,
          initOnly: false,
          args,
          keys,
          at: t,
          assignedAs: `${fn.text}()`,
        };
      } else {
        const end = tokens[j + 2];
        const zero =
          fn?.kind === 'num' &&
          numericLiteral([fn]) === 0 &&
          (end === undefined || end.text === ';' || end.text === '}');
        assignment = {
          kind: 'value',
          aggregationCall: false,
          initOnly: zero,
          args: [],
          keys,
          at: t,
          assignedAs: 'a plain assignment',
        };
      }
    } else {
      // `@m[k]++` (or `++@m[k]`) counts, `+=` sums, any other operator assigns a plain value.
      const operatorKind = OPERATOR_KINDS.get(op.text);
      const prefixed = operatorKind === undefined && tokens[i - 1]?.text === '++';
      if (operatorKind !== undefined || prefixed) {
        const assignedAs = prefixed ? '++' : op.text;
        assignment = {
          kind: operatorKind ?? 'count',
          aggregationCall: false,
          initOnly: false,
          args: [],
          keys,
          at: t,
          assignedAs,
        };
      }
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
    const calls = list.filter((a) => a.aggregationCall);
    const plain = list.filter((a) => !a.aggregationCall && !a.initOnly);
    let chosen: Assignment;
    const s0 = calls[0];
    if (s0 !== undefined) {
      const other = calls.find((a) => a.kind !== s0.kind) ?? plain[0];
      if (other !== undefined) {
        throw badProgram(
          `map ${name} is assigned ${s0.assignedAs} at line ${s0.at.line}, column ${s0.at.column} and ${other.assignedAs} here: a map holds one kind of value; use two maps`,
          other.at.line,
          other.at.column,
        );
      }
      chosen = s0;
    } else {
      // Plain maps: `++` alone is a count, `+=` (with or without `++`) a sum, anything else a plain value.
      const kinds = new Set(plain.map((a) => a.kind));
      const kind: MapKind =
        kinds.size === 0 ? 'value' : kinds.has('value') ? 'value' : kinds.has('sum') ? 'sum' : 'count';
      chosen = plain.find((a) => a.kind === kind) ?? first;
      chosen = { ...chosen, kind };
    }
    const keySource = list.find((a) => a.keys.length > 0) ?? first;
    const keyArity = keySource.keys.length;
    const described = keySource.keys.map(describeKey);
    const keyNames = uniqueNames(described.map((d, i) => d.name ?? `key${i}`));
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
