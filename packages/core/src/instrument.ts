// Program instrumentation: what ktrace adds to a user's .bt program so its maps flow out continuously
// (a periodic print() of the exported maps, exit-time clearing of scratch maps) without the user editing it.
import { KtraceError, isAggregation } from '@ktrace/parser';
import type { MapInfo, ProgramInfo } from '@ktrace/parser';

export interface InstrumentOptions {
  /** The program as the user wrote it. */
  source: string;
  /** What readProgram() found in it. */
  program: ProgramInfo;
  intervalMillis: number;
  /** Maps to export; by default every aggregation map (count, sum, min, max, avg, stats, hist, lhist). */
  exportMaps?: readonly string[];
}

export interface InstrumentedProgram {
  /** The program bpftrace runs: the user's text unchanged at its own line numbers, plus ktrace's additions. */
  source: string;
  /** Maps whose samples ktrace exports. */
  exported: string[];
  /** Exported maps the program prints itself (ktrace adds no print for them). */
  printedByProgram: string[];
  /** Maps ktrace prints every interval. */
  printedByKtrace: string[];
  /** Maps cleared at exit so the exit-time dump does not print them (scratch maps such as `@start[tid]`). */
  clearedAtExit: string[];
  /** Probes ktrace added (its interval probe, an END of its own): bpftrace's attached count includes them. */
  addedProbes: number;
  /** The probes the program names (as written, BEGIN and END included), for messages. */
  probes: string[];
  /** The program calls exit(): a clean exit of bpftrace is then the program's own end. */
  callsExit: boolean;
}

interface Span {
  start: number;
  end: number;
}

/**
 * Walks the source skipping comments and strings, calling `visit` for each code character with its brace depth.
 * Enough structure to find the top-level END probe without a full bpftrace grammar.
 */
export function scanCode(source: string, visit: (index: number, depth: number) => void): void {
  let depth = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 2;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '{') {
      visit(i, depth);
      depth++;
      i++;
      continue;
    }
    if (c === '}') {
      depth = Math.max(0, depth - 1);
      visit(i, depth);
      i++;
      continue;
    }
    visit(i, depth);
    i++;
  }
}

/** The probe list before a body, without preprocessor lines (#include, #define) above the first probe, nor spaces. */
export function probeList(header: string): string {
  return header
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
}

/**
 * The body of the top-level `END { … }` probe (between its braces), if the program has one; `alone` is false when
 * END shares its body with other probes (`interval:s:5, END { … }`), which then runs while the program runs too.
 */
function findEndBody(source: string): (Span & { alone: boolean; last: string }) | undefined {
  let found: (Span & { alone: boolean; last: string }) | undefined;
  let endKeywordAt = -1;
  let bodyStart = -1;
  let alone = false;
  let header = '';
  // The body's last code character (comments and strings left out): `;`, `{` or `}` end a statement; anything
  // else is a last statement written without its optional `;`.
  let last = '{';
  scanCode(source, (i, depth) => {
    if (found !== undefined) return;
    const c = source[i];
    if (bodyStart === -1 && depth === 0) {
      if (
        c === 'E' &&
        source.startsWith('END', i) &&
        !/[A-Za-z0-9_:]/.test(source[i - 1] ?? ' ') &&
        !/[A-Za-z0-9_:]/.test(source[i + 3] ?? ' ')
      ) {
        endKeywordAt = i;
      } else if (c === '{' && endKeywordAt !== -1) {
        bodyStart = i + 1;
        alone = probeList(header) === 'END';
      }
      header = c === '}' || c === '{' ? '' : header + (c ?? '');
    } else if (bodyStart !== -1 && depth === 0 && c === '}') {
      found = { start: bodyStart, end: i, alone, last };
    } else if (bodyStart !== -1 && c !== undefined && !/\s/.test(c)) {
      last = c;
    }
  });
  return found;
}

/**
 * The probe lists of the program's top-level blocks, split at commas: `tracepoint:a:b /pid == 1/ {` gives
 * `tracepoint:a:b`. Preprocessor lines and comments are left out.
 */
export function programProbes(source: string): string[] {
  const probes: string[] = [];
  let header = '';
  scanCode(source, (i, depth) => {
    const c = source[i] ?? '';
    if (depth === 0 && c === '{') {
      const text = header
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'))
        .join('\n')
        .trim();
      for (const part of text.split(',')) {
        const probe = part.trim().split(/\s/)[0] ?? '';
        if (probe !== '') probes.push(probe);
      }
      header = '';
    } else if (depth === 0 && c === '}') {
      header = '';
    } else if (depth === 0) {
      header += c;
    }
  });
  return probes;
}

/** Whether the program's code (comments and strings left out) calls exit(). */
export function callsExit(source: string): boolean {
  let code = '';
  scanCode(source, (i) => {
    code += source[i] ?? '';
  });
  return /\bexit\s*\(/.test(code);
}

/** The default exported maps: every aggregation; plain-value maps (scratch state such as `@start[tid] = nsecs`) are not. */
export function defaultExportedMaps(program: ProgramInfo): string[] {
  return program.maps.filter((m) => isAggregation(m.kind)).map((m) => m.name);
}

function intervalProbe(intervalMillis: number): string {
  return intervalMillis % 1000 === 0 ? `interval:s:${intervalMillis / 1000}` : `interval:ms:${intervalMillis}`;
}

/**
 * Adds `interval:… { print(@a); … }` for the exported maps the program does not print itself, and clears
 * non-exported maps at exit. The exit-time dump prints every map bpftrace holds; a scratch map keyed by tid
 * can hold tens of thousands of entries, which would cost time and memory at the worst moment (shutdown)
 * and is not exported anyway, so ktrace clears it in END (inserted into the program's own END when it has one:
 * bpftrace allows only one END probe).
 */
export function instrumentProgram(options: InstrumentOptions): InstrumentedProgram {
  const { source, program } = options;
  const known = new Map<string, MapInfo>(program.maps.map((m) => [m.name, m]));
  const exported =
    options.exportMaps === undefined || options.exportMaps.length === 0
      ? defaultExportedMaps(program)
      : [...options.exportMaps];
  for (const name of exported) {
    if (!known.has(name)) {
      const names = program.maps.map((m) => m.name).join(', ');
      throw new KtraceError({
        code: 'KTRACE_BAD_SPEC',
        message: `map ${name} is listed for export but the program has no such map${names === '' ? ' (it has no maps at all)' : ` (its maps: ${names})`}`,
      });
    }
  }
  if (exported.length === 0) {
    const plain = program.maps.map((m) => m.name);
    throw new KtraceError({
      code: 'KTRACE_BAD_PROGRAM',
      message:
        plain.length === 0
          ? 'the program has no maps, so there is nothing to export: aggregate into a map, e.g. @calls[comm] = count(); or @latency_us = hist($d);'
          : `the program has no aggregation maps to export (only plain-value maps: ${plain.join(', ')}); list the ones to export under maps: in the spec, or aggregate with count(), sum(), hist()…`,
    });
  }

  // A print() only in BEGIN or END (bpftrace's own tools print in END) does not make the map flow while it runs.
  const printedByProgram = exported.filter((m) => known.get(m)?.printed === true);
  const printedByKtrace = exported.filter((m) => known.get(m)?.printed !== true);
  const exportedSet = new Set(exported);
  const clearedAtExit = program.maps.map((m) => m.name).filter((m) => !exportedSet.has(m));

  let text = source.endsWith('\n') ? source : `${source}\n`;
  const end = findEndBody(text);
  // An END that shares its body with other probes runs while the program runs: clearing there would wipe the
  // program's state (e.g. @start[tid]) every time, and bpftrace allows no second END, so nothing is cleared.
  if (end !== undefined && !end.alone) clearedAtExit.splice(0);
  if (clearedAtExit.length > 0) {
    const clears = clearedAtExit.map((m) => `clear(${m});`).join(' ');
    if (end === undefined) {
      text += `END { ${clears} }\n`;
    } else {
      // Cleared after the program's own END statements, so what END prints itself still prints. bpftrace allows
      // no empty statement, so a `;` is added only when the last statement has none (`END { printf("bye\n") }`).
      const separator = end.last === ';' || end.last === '{' || end.last === '}' ? '' : ';';
      text = `${text.slice(0, end.end)}${separator} ${clears} ${text.slice(end.end)}`;
    }
  }
  let addedProbes = 0;
  if (clearedAtExit.length > 0 && end === undefined) addedProbes++;
  if (printedByKtrace.length > 0) {
    text += `${intervalProbe(options.intervalMillis)} { ${printedByKtrace.map((m) => `print(${m});`).join(' ')} }\n`;
    addedProbes++;
  }
  return {
    source: text,
    exported,
    printedByProgram,
    printedByKtrace,
    clearedAtExit,
    addedProbes,
    probes: programProbes(source),
    callsExit: callsExit(source),
  };
}
