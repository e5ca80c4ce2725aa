// bpftrace's text output (0.17–0.26) read line by line into ordered events: map samples, printf text,
// attached-probe counts, lost events, and a problem for every line that cannot be read. Keys and values are
// printed raw, so the program (when given) decides how keys split and which kind a map really is.
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
import { histogramKindOfEntries, isHistogramKind, parseBucketLine } from './histogram.js';
import { assignPieces, keyPart, parseInteger } from './keys.js';
import type {
  HistogramBucket,
  KeyPart,
  MapEntry,
  MapInfo,
  MapKind,
  MapSample,
  PlainValue,
  ProblemEvent,
  RuntimeErrorEvent,
  StatsValue,
} from './types.js';

type Mode = 'top' | 'key' | 'hist' | 'maybe-hist';

const PROBLEM_TEXT_LIMIT = 200;
/** A string key is at most a few lines (bpftrace strings are short); past this the key is taken as cut. */
const MAX_KEY_LINES = 64;
/** A line that starts a map entry: it cannot continue the key before it. */
const MAP_LINE_START = /^@[A-Za-z0-9_]*[[:]/;

export class TextFormatReader implements FormatReader {
  private readonly emit: Emit;
  private readonly maps = new Map<string, MapInfo>();

  private mode: Mode = 'top';
  private final = false;
  private blankRun = 0;
  /** After a helper warning: 1 = the source line comes next, 2 = its `~~~` marker comes next. */
  private echo: 0 | 1 | 2 = 0;
  private echoHeld = '';

  private pending: MapSample | undefined;
  private pendingKind: MapKind | undefined;
  private pendingInfo: MapInfo | undefined;
  private pendingKeys = new Set<string>();
  /** Sort value of the last entry added (see orderOf); -Infinity when entries are not ordered by value. */
  private pendingOrder = Number.NEGATIVE_INFINITY;
  /** Whether the pending sample's entries are still ascending as signed / as unsigned 64-bit values. */
  private signedOrder = true;
  private unsignedOrder = true;
  private pendingProblems: ProblemEvent[] = [];
  /** The last entry's value is a stack being folded from indented lines; the next blank line ends it. */
  private stackValue = false;

  // A multi-line key being collected (mode 'key').
  private keyName = '';
  private keyRaw = '';
  private keyLine = 0;
  /** Lines so far of a string key with newlines (0: the key being read is a stack key). */
  private keyStringLines = 0;
  /** The lines of that key so far, given back as text if no `]: ` closes it. */
  private keyHeld: Array<[string, number]> = [];

  // A histogram block being collected (modes 'hist' and 'maybe-hist').
  private histName = '';
  private histKeyRaw: string | undefined;
  private histLine = 0;
  private histHeader = '';
  private histBuckets: HistogramBucket[] = [];
  /** A `[X]` label (log2 hist only) was seen in the pending sample: tells hist from a step-1 lhist. */
  private singleLabels = false;
  /** The same, for the block being read (it joins the pending sample when the block is done). */
  private histSingle = false;

  constructor(options: FormatReaderOptions) {
    this.emit = options.emit;
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
        this.histLineIn(text, lineNumber);
        return;
      case 'maybe-hist':
        this.maybeHistLine(text, lineNumber);
        return;
      case 'key':
        this.keyLineIn(text, lineNumber);
        return;
    }
  }

  end(): void {
    if (this.echo === 2) this.emit({ type: 'text', source: 'printf', text: this.echoHeld });
    this.echo = 0;
    if (this.mode === 'key' && this.keyStringLines > 0) {
      // An unclosed string key: the held lines were text.
      const held = this.keyHeld;
      this.keyHeld = [];
      this.keyStringLines = 0;
      this.mode = 'top';
      this.flush();
      this.emit({ type: 'text', source: 'printf', text: (held[0] as [string, number])[0] });
      for (const [line, number] of held.slice(1)) this.topLine(line, number);
    } else if (this.mode === 'key') {
      this.problem(
        this.keyLine,
        `${this.keyName}[${this.keyRaw}`,
        `the output ended inside the multi-line key of ${this.keyName} that starts on line ${this.keyLine}; that entry is lost (was bpftrace killed while printing?)`,
      );
    } else if (this.mode === 'hist') {
      const kept = this.histBuckets.length;
      const reason = `the output ended inside the histogram block of ${this.histName} that starts on line ${this.histLine}, before its closing blank line; ${kept} bucket(s) were read and kept, later buckets may be missing`;
      if (kept > 0) this.finishHist();
      this.problem(this.histLine, this.histHeader, reason);
    } else if (this.mode === 'maybe-hist') {
      // A `@x: ` header with nothing after it at all: an empty string value is the only complete reading.
      this.mode = 'top';
      this.addEntry(this.histName, this.histKeyRaw, {
        key: this.splitKey(this.histKeyRaw, this.maps.get(this.histName)),
        value: '',
      });
    }
    this.mode = 'top';
    this.flush();
  }

  /**
   * Emits the map sample being collected, if any, when a line shows the sample is over (another map, text, a
   * blank line, end of input). Does nothing in the middle of a hist block or a multi-line key.
   */
  private flush(): void {
    if (this.mode !== 'top' || this.pending === undefined) return;
    const sample = this.pending;
    if (this.pendingKind === undefined) {
      sample.kind = histogramKindOfEntries(sample.entries, this.singleLabels);
    }
    this.pending = undefined;
    this.pendingKind = undefined;
    this.pendingKeys = new Set();
    this.stackValue = false;
    this.singleLabels = false;
    this.emit(sample);
    if (this.pendingProblems.length > 0) {
      const problems = this.pendingProblems;
      this.pendingProblems = [];
      for (const p of problems) this.emit(p);
    }
  }

  // ── top level ────────────────────────────────────────────────────────────────────────────────────

  private topLine(text: string, lineNumber: number): void {
    if (this.echo !== 0 && this.echoLine(text)) return;
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
        this.flush();
        this.emit({ type: 'attached', probes });
        return;
      }
    } else if (c0 === 76 /* L */ && text.startsWith('Lost ') && text.endsWith(' events')) {
      const events = parseInteger(text, 5, text.length - 7);
      if (!Number.isNaN(events)) {
        this.flush();
        this.emit({ type: 'lost', events });
        return;
      }
    }
    if (this.pending !== undefined && this.continueValue(text, c0)) return;
    if (text.indexOf(': WARNING: ') > 0 && this.helperWarning(text)) return;
    this.flush();
    this.emit({ type: 'text', source: 'printf', text });
  }

  /**
   * ≤0.23 prints helper errors (`-k`) on stdout: `stdin:1:37-60: WARNING: Failed to probe_read: Bad address (-14)`,
   * then the program's source line and a `~~~` marker under the failing call. The warning becomes a
   * runtime-error event; the two echo lines are swallowed (the source line is held until the marker confirms it).
   */
  private helperWarning(text: string): boolean {
    const at = text.indexOf(': WARNING: ');
    const loc = /(?:^|:)(\d+)(?::(\d+)-\d+|-\d+)$/.exec(text.slice(0, at));
    if (loc === null) return false;
    this.flush();
    const line = Number(loc[1]);
    const event: RuntimeErrorEvent = { type: 'runtime-error', message: text.slice(at + 11), line };
    if (loc[2] !== undefined) {
      event.column = Number(loc[2]);
      this.echo = 1;
    }
    this.emit(event);
    return true;
  }

  /** The lines after a helper warning: the echoed source line, then its marker. False: not an echo after all. */
  private echoLine(text: string): boolean {
    if (this.echo === 1) {
      this.echo = 2;
      this.echoHeld = text;
      return true;
    }
    this.echo = 0;
    if (/^\s*~+\s*$/.test(text)) return true;
    // No marker: the held line was ordinary output.
    this.emit({ type: 'text', source: 'printf', text: this.echoHeld });
    return false;
  }

  private blank(): void {
    if (this.stackValue) {
      this.stackValue = false;
      return;
    }
    // ≤0.23 ends an avg/stats map with a blank line and ≥0.24 does not; that blank still counts towards the
    // two that announce the exit dump, or a ≥0.24 `print(@avg)` right before exit would hide the dump.
    this.flush();
    this.blankRun++;
    if (this.blankRun >= 2) this.final = true;
  }

  /** A line that continues the last entry's string value: stack frames, or (in the exit dump) a value with newlines. */
  private continueValue(text: string, c0: number): boolean {
    const sample = this.pending;
    if (sample === undefined || (this.pendingKind !== undefined && this.pendingKind !== 'value')) return false;
    const entry = sample.entries[sample.entries.length - 1];
    if (entry === undefined || typeof entry.value !== 'string') return false;
    const indented = c0 === 32 || c0 === 9;
    if (indented && (this.stackValue || entry.value === '')) {
      const frame = text.trim();
      entry.value = entry.value === '' ? frame : `${entry.value}\n${frame}`;
      this.stackValue = true;
      return true;
    }
    if (this.final && !this.stackValue) {
      entry.value = `${entry.value}\n${text}`;
      return true;
    }
    return false;
  }

  /** `@name: V`, `@name[K]: V`, a hist header, or the first line of a multi-line key. False: not a map line. */
  private mapLine(text: string, lineNumber: number): boolean {
    const n = text.length;
    let name: string;
    let i: number;
    let info: MapInfo | undefined;
    const pendingName = this.pending?.name;
    if (
      pendingName !== undefined &&
      text.startsWith(pendingName) &&
      (text.charCodeAt(pendingName.length) === 58 || text.charCodeAt(pendingName.length) === 91)
    ) {
      name = pendingName;
      i = pendingName.length;
      info = this.pendingInfo;
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
    if (keyStart === n || text.endsWith(', ') || info?.keyTypes.includes('string') === true) {
      // A stack key (`@ks[` then indented frames), or a string key with a newline in it (a comm can hold one).
      this.mode = 'key';
      this.keyName = name;
      this.keyRaw = text.slice(keyStart);
      this.keyLine = lineNumber;
      this.keyStringLines = keyStart === n || text.endsWith(', ') ? 0 : 1;
      this.keyHeld = [[text, lineNumber]];
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
      this.problem(
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
        this.addEntry(name, keyRaw, { key: this.splitKey(keyRaw, info), value: n });
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
    if (entry !== undefined) this.addEntry(name, keyRaw, entry);
    if (rest !== undefined && !this.mapLine(rest, lineNumber)) {
      this.problem(
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
    const key = this.splitKey(keyRaw, info);
    const kind = info?.kind;
    if (kind === 'stats' || (kind === undefined && isStatsText(valueText))) {
      const stats = parseStats(valueText);
      if (stats === undefined) {
        this.problem(
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
      this.problem(
        lineNumber,
        text,
        `${name} is a ${kind}() map in the program but its value is not an integer; the entry is skipped (is the program the one that produced this output?)`,
      );
      return undefined;
    }
    return { key, value };
  }

  /** `keyRaw` undefined: a keyless map (`@x: 1`), unlike `@ks[]: 1` (an empty key). */
  private addEntry(name: string, keyRaw: string | undefined, entry: MapEntry): void {
    const seen = keyRaw ?? '';
    let sample = this.pending;
    const histogram = entry.buckets !== undefined;
    if (sample !== undefined) {
      const pendingHistogram = sample.entries[0]?.buckets !== undefined;
      // A new print() of the same map started when a key repeats, or when the sort order breaks: bpftrace
      // prints numeric maps ascending by value (average for stats, total count for hist/lhist), compared as
      // signed or as unsigned 64-bit integers depending on the map (min/max always unsigned), so the order
      // breaks only when it breaks both ways.
      const order = orderOf(entry);
      const last = this.pendingOrder;
      if (order < last) this.signedOrder = false;
      if (asUnsigned(order) < asUnsigned(last)) this.unsignedOrder = false;
      const restart = !this.signedOrder && !this.unsignedOrder;
      this.pendingOrder = order;
      if (sample.name !== name || this.pendingKeys.has(seen) || pendingHistogram !== histogram || restart) {
        this.flush();
        sample = undefined;
      }
    }
    this.stackValue = false;
    if (sample === undefined) {
      this.pendingOrder = orderOf(entry);
      this.signedOrder = true;
      this.unsignedOrder = true;
      const info = this.maps.get(name);
      this.pendingInfo = info;
      let kind: MapKind | undefined = info?.kind;
      if (kind === undefined && !histogram) kind = entry.stats !== undefined ? 'stats' : 'value';
      sample = { type: 'map', name, kind: kind ?? 'hist', entries: [] };
      if (this.final) sample.final = true;
      this.pending = sample;
      this.pendingKind = kind;
    }
    this.pendingKeys.add(seen);
    sample.entries.push(entry);
  }

  private problem(line: number, text: string, reason: string): void {
    const event: ProblemEvent = {
      type: 'problem',
      line,
      text: text.length > PROBLEM_TEXT_LIMIT ? `${text.slice(0, PROBLEM_TEXT_LIMIT)}…` : text,
      reason,
    };
    if (this.pending !== undefined) this.pendingProblems.push(event);
    else this.emit(event);
  }

  // ── multi-line keys ──────────────────────────────────────────────────────────────────────────────

  private keyLineIn(text: string, lineNumber: number): void {
    const c0 = text.charCodeAt(0);
    if (this.keyStringLines > 0) {
      if (this.stringKeyLine(text, lineNumber)) return;
      // Not a key after all (printf text that starts like one): the held lines are text, as they would have been.
      this.mode = 'top';
      this.keyStringLines = 0;
      const held = this.keyHeld;
      this.keyHeld = [];
      this.flush();
      this.emit({ type: 'text', source: 'printf', text: (held[0] as [string, number])[0] });
      for (const [line, number] of held.slice(1)) this.topLine(line, number);
      this.topLine(text, lineNumber);
      return;
    }
    if (c0 === 32 || c0 === 9) {
      this.keyRaw += `\n${text}`;
      return;
    }
    if (c0 === 93 /* ] */ || (c0 === 44 /* , */ && text.charCodeAt(1) === 32)) {
      const name = this.keyName;
      const info = this.maps.get(name);
      const sep = info?.kind === 'value' ? text.indexOf(']: ') : text.lastIndexOf(']: ');
      if (sep >= 0) {
        this.mode = 'top';
        const keyRaw = `${this.keyRaw}\n${text.slice(0, sep)}`;
        this.entryLine(name, keyRaw, text, sep + 3, info, this.keyLine);
        return;
      }
      if (text.endsWith(']:')) {
        this.mode = 'top';
        this.header(name, `${this.keyRaw}\n${text.slice(0, text.length - 2)}`, info, this.keyLine, text, true);
        return;
      }
      if (text.endsWith(', ') || text === ',') {
        this.keyRaw += `\n${text}`;
        return;
      }
    }
    this.mode = 'top';
    this.problem(
      this.keyLine,
      `${this.keyName}[${this.keyRaw}`,
      `the multi-line key of ${this.keyName} that starts on line ${this.keyLine} was not closed by \`]: \` (line ${lineNumber} interrupts it); that entry is skipped`,
    );
    this.topLine(text, lineNumber);
  }

  /**
   * The next line of a string key that holds newlines (`@m[a` / `b]: 1` is the key "a\nb"): any line continues it
   * until one holds `]: ` (or ends with `]:`, a histogram header), except a line that starts another entry.
   * False: not a continuation (the caller reports the key as cut).
   */
  private stringKeyLine(text: string, lineNumber: number): boolean {
    if (text.length === 0 || MAP_LINE_START.test(text) || this.keyStringLines >= MAX_KEY_LINES) return false;
    this.keyStringLines++;
    const name = this.keyName;
    const info = this.maps.get(name);
    const sep = info?.kind === 'value' ? text.indexOf(']: ') : text.lastIndexOf(']: ');
    if (sep >= 0) {
      this.mode = 'top';
      this.keyStringLines = 0;
      this.entryLine(name, `${this.keyRaw}\n${text.slice(0, sep)}`, text, sep + 3, info, this.keyLine);
      return true;
    }
    if (text.endsWith(']:')) {
      this.mode = 'top';
      this.keyStringLines = 0;
      this.header(name, `${this.keyRaw}\n${text.slice(0, text.length - 2)}`, info, this.keyLine, text, true);
      return true;
    }
    this.keyRaw += `\n${text}`;
    this.keyHeld.push([text, lineNumber]);
    return true;
  }

  // ── histogram blocks ─────────────────────────────────────────────────────────────────────────────

  /** A map line with nothing after its colon: a hist/lhist header, or (≤0.22, no program) maybe an empty string. */
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
        this.problem(
          lineNumber,
          text,
          `${name} is a ${kind}() map in the program but this line has no value; the entry is skipped`,
        );
        return true;
      }
      const entry: MapEntry = { key: this.splitKey(keyRaw, info), value: '' };
      this.addEntry(name, keyRaw, entry);
      return true;
    }
    this.mode = kind !== undefined || certain ? 'hist' : 'maybe-hist';
    this.histName = name;
    this.histKeyRaw = keyRaw;
    this.histLine = lineNumber;
    this.histHeader = text;
    this.histBuckets = [];
    this.histSingle = false;
    return true;
  }

  private histLineIn(text: string, lineNumber: number): void {
    if (text.length === 0) {
      this.finishHist();
      return;
    }
    const bucket = parseBucketLine(text);
    if (bucket !== undefined) {
      this.histBuckets.push(bucket);
      if (bucket.min === bucket.max && bucket.min !== null && isSingleLabel(text)) this.histSingle = true;
      return;
    }
    const kept = this.histBuckets.length;
    if (kept === 0) {
      // No bucket at all: not a histogram (a ≥0.24 tseries() graph, or another multi-line value).
      this.mode = 'top';
      this.problem(
        this.histLine,
        this.histHeader,
        `${this.histName} on line ${this.histLine} is followed by no histogram bucket (line ${lineNumber} is not one): ktrace reads hist() and lhist() blocks, not tseries() graphs or other multi-line values; the lines that follow are passed on as text`,
      );
    } else {
      this.finishHist();
      this.problem(
        this.histLine,
        this.histHeader,
        `the histogram block of ${this.histName} that starts on line ${this.histLine} was cut by line ${lineNumber}, which is not a bucket line; the ${kept} bucket(s) before it are kept, later ones may be missing`,
      );
    }
    this.topLine(text, lineNumber);
  }

  private maybeHistLine(text: string, lineNumber: number): void {
    if (text.length === 0) {
      this.finishHist();
      return;
    }
    const bucket = parseBucketLine(text);
    if (bucket !== undefined) {
      this.mode = 'hist';
      this.histBuckets.push(bucket);
      if (bucket.min === bucket.max && bucket.min !== null && isSingleLabel(text)) this.histSingle = true;
      return;
    }
    // Not a histogram after all: `@x: ` was an empty string value.
    this.mode = 'top';
    const entry: MapEntry = { key: this.splitKey(this.histKeyRaw, this.maps.get(this.histName)), value: '' };
    this.addEntry(this.histName, this.histKeyRaw, entry);
    this.topLine(text, lineNumber);
  }

  private finishHist(): void {
    this.mode = 'top';
    const buckets = this.histBuckets;
    this.histBuckets = [];
    const entry: MapEntry = { key: this.splitKey(this.histKeyRaw, this.maps.get(this.histName)), buckets };
    this.addEntry(this.histName, this.histKeyRaw, entry);
    if (this.histSingle) this.singleLabels = true;
  }

  // ── keys and values ──────────────────────────────────────────────────────────────────────────────

  private splitKey(raw: string | undefined, info: MapInfo | undefined): KeyPart[] {
    if (raw === undefined) return [];
    const arity = info?.keyArity;
    if (raw.length === 0) return arity === 0 ? [] : [''];
    const types = info?.keyTypes;
    if (arity === 1) return [keyPart(raw, types?.[0])];
    const comma = raw.indexOf(', ');
    if (comma < 0 && raw.charCodeAt(0) !== 10) return [keyPart(raw, types?.[0])];
    // Hot path: `string, int` (comm, pid): the int is whatever follows the last `, `.
    if (arity === 2 && types?.[0] === 'string' && types[1] === 'int' && raw.charCodeAt(0) !== 10) {
      const last = raw.lastIndexOf(', ');
      const n = parseInteger(raw, last + 2, raw.length);
      if (!Number.isNaN(n)) return [raw.slice(0, last), n];
    }
    if (raw.indexOf('\n') < 0 && (arity === undefined || arity === 0)) return splitPlainKey(raw, types);
    const pieces = splitKeyPieces(raw);
    if (arity === undefined || arity === 0 || pieces.length <= arity) {
      const parts = new Array<KeyPart>(pieces.length);
      for (let k = 0; k < pieces.length; k++) parts[k] = keyPart(pieces[k] ?? '', types?.[k]);
      return parts;
    }
    // No assignment fits the types: the tail goes to the last position.
    const assigned = assignPieces(pieces, types ?? [], arity, ', ') ?? [
      ...pieces.slice(0, arity - 1),
      pieces.slice(arity - 1).join(', '),
    ];
    const parts = new Array<KeyPart>(arity);
    for (let k = 0; k < arity; k++) parts[k] = keyPart(assigned[k] ?? '', types?.[k]);
    return parts;
  }
}

/** `count 3, average 3, total 11` (≤0.23) or `{ .count = 3, .average = 3, .total = 11 }` (≥0.24). */
function parseStats(text: string): StatsValue | undefined {
  if (text.charCodeAt(0) === 123 /* { */) return statsFrom(text, '{ .count = ', ', .average = ', ', .total = ', ' }');
  return statsFrom(text, 'count ', ', average ', ', total ', '');
}

/** A value as bpftrace's unsigned sort sees it: negative numbers wrap above every non-negative one. */
function asUnsigned(n: number): number {
  return n < 0 && n !== Number.NEGATIVE_INFINITY ? n + 18446744073709551616 : n;
}

/** What bpftrace sorts a map's entries by; -Infinity for values it sorts by key (strings, tuples). */
function orderOf(entry: MapEntry): number {
  const value = entry.value;
  if (typeof value === 'number') return value;
  if (entry.stats !== undefined) return entry.stats.average;
  const buckets = entry.buckets;
  if (buckets !== undefined) {
    let total = 0;
    for (const b of buckets) total += b.count;
    return total;
  }
  return Number.NEGATIVE_INFINITY;
}

/** `[5]   1 |@|` rather than `[5, 6)   1 |@|`. */
function isSingleLabel(line: string): boolean {
  const close = line.indexOf(']');
  return close > 0 && close < line.indexOf(' ');
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** `Attaching 2 probes...`, `Attaching 1 probe...`, `Attached 3 probes`: the number, or -1. */
function attachedCount(text: string): number {
  const start = text.indexOf(' ') + 1;
  const end = text.indexOf(' ', start);
  if (end < 0) return -1;
  const rest = text.slice(end + 1);
  if (rest !== 'probes...' && rest !== 'probe...' && rest !== 'probes' && rest !== 'probe') return -1;
  const n = parseInteger(text, start, end);
  return Number.isNaN(n) ? -1 : n;
}

function isStatsText(text: string): boolean {
  return text.startsWith('count ') || text.startsWith('{ .count = ');
}

function statsFrom(
  text: string,
  countTag: string,
  averageTag: string,
  totalTag: string,
  tail: string,
): StatsValue | undefined {
  const c = text.indexOf(countTag);
  const a = text.indexOf(averageTag, c);
  const t = text.indexOf(totalTag, a);
  if (c !== 0 || a < 0 || t < 0 || !text.endsWith(tail)) return undefined;
  const count = parseInteger(text, c + countTag.length, a);
  const average = parseInteger(text, a + averageTag.length, t);
  const total = parseInteger(text, t + totalTag.length, text.length - tail.length);
  if (Number.isNaN(count) || Number.isNaN(average) || Number.isNaN(total)) return undefined;
  return { count, average, total };
}

/** A plain value: integer → number, `(a, b)` → array, anything else (strings, structs) → the string verbatim. */
function parsePlainValue(text: string): PlainValue {
  const n = parseInteger(text, 0, text.length);
  if (!Number.isNaN(n)) return n;
  if (text.charCodeAt(0) === 40 && text.charCodeAt(text.length - 1) === 41) {
    const cursor = { at: 0 };
    const tuple = parseTuple(text, cursor);
    // bpftrace tuples have at least two elements; `(sd-pam)` is a comm, not a tuple.
    if (tuple !== undefined && tuple.length >= 2 && cursor.at === text.length) return tuple;
  }
  return text;
}

/** Reads `(e1, e2, …)` from `text` at `cursor.at`; elements are split on `, ` at this depth. */
function parseTuple(text: string, cursor: { at: number }): PlainValue[] | undefined {
  const out: PlainValue[] = [];
  let i = cursor.at + 1;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === 40 /* ( */) {
      const inner = { at: i };
      const nested = parseTuple(text, inner);
      if (nested === undefined) return undefined;
      out.push(nested);
      i = inner.at;
    } else {
      // An element runs to the next `, ` or `)` at this depth (nested braces of struct elements included).
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === 123 || c === 91) depth++;
        else if ((c === 125 || c === 93) && depth > 0) depth--;
        else if (depth === 0 && (c === 41 || (c === 44 && text.charCodeAt(j + 1) === 32))) break;
      }
      if (j >= n) return undefined;
      const element = text.slice(i, j);
      const num = parseInteger(element, 0, element.length);
      out.push(Number.isNaN(num) ? element : num);
      i = j;
    }
    const c = text.charCodeAt(i);
    if (c === 41 /* ) */) {
      cursor.at = i + 1;
      return out;
    }
    if (c === 44 && text.charCodeAt(i + 1) === 32) {
      i += 2;
      continue;
    }
    return undefined;
  }
}

/** A key without stacks split on every `, `, integer parts as numbers (unless typed `string`), in one pass. */
function splitPlainKey(raw: string, types: readonly string[] | undefined): KeyPart[] {
  const parts: KeyPart[] = [];
  let start = 0;
  for (let k = 0; ; k++) {
    const comma = nextKeySeparator(raw, start);
    const end = comma < 0 ? raw.length : comma;
    const n = types?.[k] === 'string' ? Number.NaN : parseInteger(raw, start, end);
    parts.push(Number.isNaN(n) ? raw.slice(start, end) : n);
    if (comma < 0) return parts;
    start = comma + 2;
  }
}

/**
 * The next `, ` that separates key parts from `start`: a part that opens with `{`, `(` or `[` (a struct such as
 * `{ .m = 2, .n = 3 }`, a tuple or an array) runs to its matching close, when it has one.
 */
function nextKeySeparator(raw: string, start: number): number {
  const open = raw.charCodeAt(start);
  if (open === 123 || open === 40 || open === 91) {
    let depth = 0;
    for (let i = start; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 123 || c === 40 || c === 91) depth++;
      else if (c === 125 || c === 41 || c === 93) {
        depth--;
        if (depth === 0) return raw.indexOf(', ', i + 1);
      }
    }
  }
  return raw.indexOf(', ', start);
}

/** Splits a raw key on `, `, keeping each stack (`\n    f1\n    f2\n`) whole even if a frame contains `, `. */
function splitKeyPieces(raw: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (;;) {
    let end: number;
    let next: number;
    if (raw.charCodeAt(start) === 10) {
      // A stack: its frames run to the `\n` that the next `, ` (or the end) follows.
      const close = raw.indexOf('\n, ', start + 1);
      end = close < 0 ? raw.length : close + 1;
      next = close < 0 ? -1 : close + 3;
    } else {
      const sep = nextKeySeparator(raw, start);
      end = sep < 0 ? raw.length : sep;
      next = sep < 0 ? -1 : sep + 2;
    }
    pieces.push(raw.slice(start, end));
    if (next < 0) return pieces;
    start = next;
  }
}
