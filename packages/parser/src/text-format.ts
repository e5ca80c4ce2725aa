// bpftrace's text output (0.17–0.26) read line by line into ordered events: map samples, printf text,
// attached-probe counts, lost events, and a problem for every line that cannot be read. Keys and values are
// printed raw, so the program (when given) decides how keys split and which kind a map really is.
// This file routes each line; the print() being collected is text-pending-sample.ts, hist blocks
// text-hist-block.ts, multi-line keys text-multiline-key.ts, bpftrace's own lines text-bpftrace-lines.ts,
// values text-values.ts, and key splitting keys.ts.
//
// Decisions, where the text alone cannot tell (users need them too: the README's sample schema should say so):
// - Kind without a program: a hist/lhist block is `hist` or `lhist` by its labels (see histogramKindOf);
//   `count N, average …` / `{ .count = …}` is `stats`; every other map is `value` (count, sum, min, max and
//   avg print the same plain integer; only the program knows which one it is).
// - Keys without a program are split on `, `, and a part that is a decimal integer becomes a number. With a
//   program, the key is split into exactly `keyArity` parts: `int` positions take one integer piece, and the
//   pieces left over (strings that contained `, `) go to the LAST string position when several could take them.
// - Stack keys (`@ks[\n    f1\n    f2\n]`) fold to one string: frames in order, leading whitespace removed,
//   joined by `\n` (`"f1\nf2"`); an empty stack (`@ks[]`) is `""`. Stack values fold the same way.
// - A key of a program map with a string position whose line has no `]: ` continues on the next lines (a string
//   with newlines) until a line holds `]: `; a blank line or a map line first means it was text after all.
// - Tuple values `(1, -2, three)` (two or more elements) become arrays, integers as numbers; `(sd-pam)` stays a
//   string. A string element containing `, ` or parentheses splits wrongly. Struct values `{ .m = 2 }` stay
//   strings, verbatim.
// - Integers beyond 2^53 (u64 counts) become the nearest JS number.
// - One sample per print(): consecutive entries of one map, until a key repeats or bpftrace's ascending sort
//   order breaks (a new print() of the same map). ≤0.23 writes the exit "\n\n" to stdout even with `-o FILE`,
//   so maps read from such a file are never `final`.
// - Blank lines are structure, never text events: they end hist blocks, avg/stats maps (≤0.23), stack
//   values, stand for empty maps (≤0.23), and two in a row announce the exit-time dump (samples after it
//   carry `final: true`). A program that itself prints two blank lines (`printf("\n\n")`) is indistinguishable.
// - A ≤0.23 helper-error warning on stdout (`file:6:19-31: WARNING: Failed to …`) is a `runtime-error` event;
//   the source line and `~~~` marker bpftrace echoes under it are swallowed.
// - Any other line is a `text` event with source `printf` (printf, time, cat, join, system and print() of a
//   non-map value look alike in text). In the exit-time dump, a line that is not a map line continues the
//   previous string value (`@nl: line1` / `line2`).
import type { Emit, FormatReader, FormatReaderOptions } from './format-reader.js';
import { isHistogramKind } from './histogram.js';
import { parseInteger, splitTextKey } from './keys.js';
import { attachedCount, helperWarning, lostCount, WarningEcho } from './text-bpftrace-lines.js';
import { HistogramBlock } from './text-hist-block.js';
import { MultiLineKey } from './text-multiline-key.js';
import { PendingSample } from './text-pending-sample.js';
import { isStatsText, parsePlainValue, parseStats } from './text-values.js';
import type { MapEntry, MapInfo } from './types.js';

/**
 * What the next line belongs to: the top level, a multi-line key, a histogram block, or the block after a `@x: `
 * header that may still turn out to be an empty string value (≤0.22 without a program).
 */
type Mode = 'top' | 'key' | 'hist' | 'hist-or-empty-value';

export class TextFormatReader implements FormatReader {
  private readonly emit: Emit;
  private readonly maps = new Map<string, MapInfo>();
  private readonly sample: PendingSample;
  private readonly hist = new HistogramBlock();
  private readonly key = new MultiLineKey();
  private readonly echo: WarningEcho;
  private mode: Mode = 'top';
  private blankRun = 0;

  constructor(options: FormatReaderOptions) {
    this.emit = options.emit;
    this.sample = new PendingSample(options.emit);
    this.echo = new WarningEcho(options.emit);
    for (const info of options.program?.maps ?? []) {
      this.maps.set(info.name.startsWith('@') ? info.name : `@${info.name}`, info);
    }
  }

  line(text: string, lineNumber: number): void {
    switch (this.mode) {
      case 'top':
        this.topLine(text, lineNumber);
        return;
      case 'hist':
      case 'hist-or-empty-value':
        this.histLine(text, lineNumber);
        return;
      case 'key':
        this.keyLine(text, lineNumber);
        return;
    }
  }

  end(): void {
    this.echo.end();
    const mode = this.mode;
    this.mode = 'top';
    if (mode === 'key' && this.key.shape === 'string') {
      this.releaseKeyLines();
    } else if (mode === 'key') {
      this.sample.problem(this.key.line, this.key.text, this.key.endedReason());
    } else if (mode === 'hist') {
      const reason = this.hist.endedReason();
      if (this.hist.bucketCount > 0) this.finishHist();
      this.sample.problem(this.hist.line, this.hist.header, reason);
    } else if (mode === 'hist-or-empty-value') {
      // A `@x: ` header with nothing after it at all: an empty string value is the only complete reading.
      this.addEmptyValue();
    }
    this.sample.end();
  }

  private topLine(text: string, lineNumber: number): void {
    if (this.echo.expected && this.echo.take(text)) return;
    if (text.length === 0) {
      this.blank();
      return;
    }
    const c0 = text.charCodeAt(0);
    if (c0 === 64 /* @ */ && this.mapLine(text, lineNumber)) {
      this.blankRun = 0;
      return;
    }
    this.blankRun = 0;
    if (c0 === 65 /* A */ && (text.startsWith('Attaching ') || text.startsWith('Attached '))) {
      const probes = attachedCount(text);
      if (probes >= 0) {
        this.sample.end();
        this.emit({ type: 'attached', probes });
        return;
      }
    } else if (c0 === 76 /* L */) {
      const events = lostCount(text);
      if (!Number.isNaN(events)) {
        this.sample.end();
        this.emit({ type: 'lost', events });
        return;
      }
    }
    if (this.sample.continueValue(text, c0)) return;
    const warning = helperWarning(text);
    if (warning !== undefined) {
      this.sample.end();
      if (warning.column !== undefined) this.echo.expect();
      this.emit(warning);
      return;
    }
    this.sample.end();
    this.emit({ type: 'text', source: 'printf', text });
  }

  private blank(): void {
    if (this.sample.foldingStack) {
      this.sample.foldingStack = false;
      return;
    }
    // ≤0.23 ends an avg/stats map with a blank line and ≥0.24 does not; that blank still counts towards the
    // two that announce the exit dump, or a ≥0.24 `print(@avg)` right before exit would hide the dump.
    this.sample.end();
    this.blankRun++;
    if (this.blankRun >= 2) this.sample.final = true;
  }

  /** `@name: V`, `@name[K]: V`, a hist header, or the first line of a multi-line key. False: not a map line. */
  private mapLine(text: string, lineNumber: number): boolean {
    const n = text.length;
    let name: string;
    let i: number;
    let info: MapInfo | undefined;
    const pendingName = this.sample.name;
    if (
      pendingName !== undefined &&
      text.startsWith(pendingName) &&
      (text.charCodeAt(pendingName.length) === 58 || text.charCodeAt(pendingName.length) === 91)
    ) {
      name = pendingName;
      i = pendingName.length;
      info = this.sample.info;
    } else {
      i = 1;
      while (i < n && isNameChar(text.charCodeAt(i))) i++;
      name = text.slice(0, i);
      info = this.maps.get(name);
    }
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) {
      if (i + 1 === n) return this.header(name, undefined, info, lineNumber, text, true);
      if (text.charCodeAt(i + 1) !== 32) return false;
      return this.entryLine(name, undefined, text, i + 2, info, lineNumber);
    }
    if (c !== 91 /* [ */) return false;
    const keyStart = i + 1;
    let sep = info?.kind === 'value' ? text.indexOf(']: ', keyStart) : text.lastIndexOf(']: ');
    if (sep >= keyStart && info === undefined) {
      // Without a program, the last `]: ` is right (keys may contain `]: `, numbers never do) unless the
      // line holds several entries of a map with separator-less values (`@m[0]: a@m[1]: b`, ≤0.23).
      const first = text.indexOf(']: ', keyStart);
      if (first !== sep && text.indexOf(`${name}[`, first) >= 0) sep = first;
    }
    if (sep >= keyStart) return this.entryLine(name, text.slice(keyStart, sep), text, sep + 3, info, lineNumber);
    if (n >= keyStart + 2 && text.charCodeAt(n - 1) === 58 && text.charCodeAt(n - 2) === 93) {
      return this.header(name, text.slice(keyStart, n - 2), info, lineNumber, text, true);
    }
    const stack = keyStart === n || text.endsWith(', ');
    if (stack || info?.keyTypes.includes('string') === true) {
      // A stack key (`@ks[` then indented frames), or a string key with a newline in it (a comm can hold one).
      this.mode = 'key';
      this.key.start(name, text.slice(keyStart), lineNumber, text, stack ? 'stack' : 'string');
      return true;
    }
    return false;
  }

  private entryLine(
    name: string,
    keyRaw: string | undefined,
    text: string,
    valueStart: number,
    info: MapInfo | undefined,
    lineNumber: number,
  ): boolean {
    if (valueStart >= text.length) return this.header(name, keyRaw, info, lineNumber, text, false);
    const kind = info?.kind;
    if (isHistogramKind(kind)) {
      this.sample.problem(
        lineNumber,
        text,
        `${name} is a ${kind}() map in the program, but this line holds a plain value, not a histogram header; the entry is skipped`,
      );
      return true;
    }
    // Hot path: an integer value (count, sum, min, max, avg, plain ints) is read in place, without a slice.
    if (kind !== 'stats') {
      const n = parseInteger(text, valueStart, text.length);
      if (!Number.isNaN(n)) {
        this.sample.add(name, keyRaw, { key: splitTextKey(keyRaw, info), value: n }, info);
        return true;
      }
    }
    let valueText = text.slice(valueStart);
    // ≤0.23 prints no separator after ksym/usym/kstack/ustack/inet values: `@m[0]: a@m[1]: b` is two entries.
    let rest: string | undefined;
    if ((kind === undefined || kind === 'value') && valueText.indexOf('@') >= 0) {
      const at = valueText.indexOf(`${name}[`);
      if (at >= 0) {
        rest = valueText.slice(at);
        valueText = valueText.slice(0, at);
      }
    }
    const entry = this.entry(name, keyRaw, valueText, info, lineNumber, text);
    if (entry !== undefined) this.sample.add(name, keyRaw, entry, info);
    if (rest !== undefined && !this.mapLine(rest, lineNumber)) {
      this.sample.problem(
        lineNumber,
        rest,
        `could not read the rest of a line of ${name} printed without a separator (a bpftrace ≤0.23 bug with ksym/kstack/inet values)`,
      );
    }
    return true;
  }

  /** Builds one scalar/stats entry from its value text; undefined (and a problem) when the value does not fit the kind. */
  private entry(
    name: string,
    keyRaw: string | undefined,
    valueText: string,
    info: MapInfo | undefined,
    lineNumber: number,
    text: string,
  ): MapEntry | undefined {
    const key = splitTextKey(keyRaw, info);
    const kind = info?.kind;
    if (kind === 'stats' || (kind === undefined && isStatsText(valueText))) {
      const stats = parseStats(valueText);
      if (stats === undefined) {
        this.sample.problem(
          lineNumber,
          text,
          `${name} is a stats() map but its value is not \`count N, average N, total N\` nor \`{ .count = N, .average = N, .total = N }\`; the entry is skipped`,
        );
        return undefined;
      }
      return { key, stats };
    }
    if (kind === undefined || kind === 'value') return { key, value: parsePlainValue(valueText) };
    const value = parseInteger(valueText, 0, valueText.length);
    if (Number.isNaN(value)) {
      this.sample.problem(
        lineNumber,
        text,
        `${name} is a ${kind}() map in the program but its value is not an integer; the entry is skipped (is the program the one that produced this output?)`,
      );
      return undefined;
    }
    return { key, value };
  }

  /**
   * A map line with nothing after its colon: a hist/lhist header, or (≤0.22, no program) maybe an empty string.
   * `certain`: the line ends at the colon, so it cannot be an empty string value.
   */
  private header(
    name: string,
    keyRaw: string | undefined,
    info: MapInfo | undefined,
    lineNumber: number,
    text: string,
    certain: boolean,
  ): boolean {
    const kind = info?.kind;
    if (kind !== undefined && !isHistogramKind(kind)) {
      if (kind !== 'value') {
        this.sample.problem(
          lineNumber,
          text,
          `${name} is a ${kind}() map in the program but this line has no value; the entry is skipped`,
        );
        return true;
      }
      this.sample.add(name, keyRaw, { key: splitTextKey(keyRaw, info), value: '' }, info);
      return true;
    }
    this.mode = kind !== undefined || certain ? 'hist' : 'hist-or-empty-value';
    this.hist.start(name, keyRaw, lineNumber, text);
    return true;
  }

  private histLine(text: string, lineNumber: number): void {
    if (text.length === 0) {
      this.finishHist();
      return;
    }
    if (this.hist.add(text)) {
      this.mode = 'hist';
      return;
    }
    const hist = this.hist;
    if (this.mode === 'hist-or-empty-value') {
      // Not a histogram after all: `@x: ` was an empty string value.
      this.mode = 'top';
      this.addEmptyValue();
    } else if (hist.bucketCount === 0) {
      this.mode = 'top';
      this.sample.problem(hist.line, hist.header, hist.notHistogramReason(lineNumber));
    } else {
      const reason = hist.cutReason(lineNumber);
      this.finishHist();
      this.sample.problem(hist.line, hist.header, reason);
    }
    this.topLine(text, lineNumber);
  }

  private finishHist(): void {
    this.mode = 'top';
    const hist = this.hist;
    const info = this.maps.get(hist.name);
    this.sample.add(hist.name, hist.keyRaw, { key: splitTextKey(hist.keyRaw, info), buckets: hist.take() }, info);
    if (hist.sawSingleLabel) this.sample.sawSingleLabel = true;
  }

  /** The `@x: ` header read into the histogram block was an empty string value. */
  private addEmptyValue(): void {
    const hist = this.hist;
    const info = this.maps.get(hist.name);
    this.sample.add(hist.name, hist.keyRaw, { key: splitTextKey(hist.keyRaw, info), value: '' }, info);
  }

  private keyLine(text: string, lineNumber: number): void {
    const key = this.key;
    const info = this.maps.get(key.name);
    switch (key.next(text, lineNumber, info)) {
      case 'more':
        return;
      case 'entry':
        this.mode = 'top';
        this.entryLine(key.name, key.raw, text, key.valueStart, info, key.line);
        return;
      case 'header':
        this.mode = 'top';
        this.header(key.name, key.raw, info, key.line, text, true);
        return;
      case 'not-a-key':
        // Printf text that starts like a key: the held lines are text, as they would have been.
        this.mode = 'top';
        this.releaseKeyLines();
        this.topLine(text, lineNumber);
        return;
      case 'cut':
        this.mode = 'top';
        this.sample.problem(key.line, key.text, key.cutReason(lineNumber));
        this.topLine(text, lineNumber);
        return;
    }
  }

  /** The lines of a string key that was never closed, read again as what they were: text, then whatever follows. */
  private releaseKeyLines(): void {
    const [first, ...rest] = this.key.takeHeld();
    this.sample.end();
    if (first !== undefined) this.emit({ type: 'text', source: 'printf', text: first[0] });
    for (const [line, number] of rest) this.topLine(line, number);
  }
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
