// Reads bpftrace's `-f json` output (0.17 to 0.26), one NDJSON line at a time, into typed events.
// It scans each line itself instead of calling JSON.parse: map entries keep bpftrace's order and duplicates
// (keys that collide in bpftrace's lossy key encoding), and entries are built without an intermediate object.
// The scanner is json-scanner.ts, value conversion json-values.ts, buckets json-buckets.ts, keys keys.ts.
//
// Decisions, where the JSON alone cannot tell:
// - Kind: `map` lines take the program's kind (count/sum/min/max/value), else `value`; `stats` lines are `stats`
//   for objects and `avg` for plain numbers; `hist` lines take hist/lhist from the program, else from the bucket
//   shapes, by the same rules as text (histogramKindOfEntries in histogram.ts).
// - Keys: without a program, split on every `,` (integers become numbers, a stack stays whole); with one, into
//   exactly keyArity parts, extra commas going to the last string position (as the text reader does). A guess or
//   a key that does not fit the program's types gives one problem event per map, and the entry is kept.
// - 0.22–0.23 double-escaped keys are repaired when the caller gives bpftraceVersion (json-key-escapes.ts), else
//   taken as given; 0.24+ keys without spaces/parentheses are taken as given (the loss is bpftrace's). Integers past 2^53 (numbers, or 0.24+ strings) become the nearest JS number.
// - Buckets `{min: -2^31, max: 0}` (0.17–0.19) become [2^31, 2^32-1]; other impossible ones are rebuilt from
//   their neighbours (json-buckets.ts). A bucket without a count drops that entry, with a problem event.
// - 0.17's `\uffffffXX` byte escapes are decoded as UTF-8, invalid bytes kept as in utf8.ts. Blank lines (0.17–0.23, before the exit dump) mark
//   later samples `final`. tseries lines, unknown types and invalid JSON become problem events; helper_error,
//   runtime_error, errorf and warnf become runtime-error events; print() of a value becomes text shown as text.
import type { Emit, FormatReader, FormatReaderOptions } from './format-reader.js';
import { problemText } from './format-reader.js';
import { histogramKindOfEntries } from './histogram.js';
import { bucketsOf, repairBuckets } from './json-buckets.js';
import { escapesKeysTwice, unescapeKeyOnce } from './json-key-escapes.js';
import { JsonObject, JsonScanner, JsonSyntaxError, toNumber } from './json-scanner.js';
import type { JsonValue } from './json-scanner.js';
import { isStatsObject, plainOf, statsOf, textOf } from './json-values.js';
import { keyPlanOf, splitJsonKey } from './keys.js';
import type { KeyPlan } from './keys.js';
import type { KeyPart, MapEntry, MapInfo, MapKind, MapSample, ProgramInfo } from './types.js';

/** The fast path met something only the general path reports properly. */
class NotFast extends Error {}

/** Kinds that `map`-type JSON can carry; anything else the program claims is ignored for this type. */
const MAP_TYPE_KINDS: ReadonlySet<MapKind> = new Set<MapKind>(['count', 'sum', 'min', 'max', 'value']);

/** `map` JSON does not say count from sum from a plain value: the program does; without it, `value`. */
function mapTypeKind(info: MapInfo | undefined): MapKind {
  return info !== undefined && MAP_TYPE_KINDS.has(info.kind) ? info.kind : 'value';
}

/** hist or lhist: the program says, else the bucket shapes (histogramKindOfEntries). */
function histTypeKind(info: MapInfo | undefined, entries: readonly MapEntry[]): MapKind {
  return info !== undefined && (info.kind === 'hist' || info.kind === 'lhist')
    ? info.kind
    : histogramKindOfEntries(entries);
}

export class JsonFormatReader implements FormatReader {
  private readonly emit: Emit;
  private readonly maps = new Map<string, MapInfo>();
  private readonly plans = new Map<string, KeyPlan | undefined>();
  private readonly scanner = new JsonScanner();
  /** Maps whose keys did not split cleanly, already reported. */
  private readonly doubted = new Set<string>();
  /** 0.17–0.23 print blank lines right before the exit-time dump, even in JSON mode; nothing else is blank. */
  private final = false;
  private readonly keysEscapedTwice: boolean;
  private lineNumber = 0;
  private text = '';

  constructor(options: FormatReaderOptions) {
    this.emit = options.emit;
    this.keysEscapedTwice = escapesKeysTwice(options.bpftraceVersion);
    const program: ProgramInfo | undefined = options.program;
    for (const info of program?.maps ?? []) this.maps.set(info.name, info);
  }

  line(text: string, lineNumber: number): void {
    if (isBlank(text)) {
      this.final = true;
      return;
    }
    this.lineNumber = lineNumber;
    this.text = text;
    this.scanner.reset(text);
    if (this.fastMapLine()) return;
    let parsed: JsonValue;
    try {
      parsed = this.scanner.parse(text);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      this.problem(
        `not valid JSON (${error.message}); bpftrace ≤0.21 prints some values unquoted (strftime, strerror, cgroup_path, pointers): the line is skipped`,
      );
      return;
    }
    if (!(parsed instanceof JsonObject)) {
      this.problem('a JSON line that is not an object with a "type": not bpftrace -f json output');
      return;
    }
    this.envelope(parsed);
  }

  /**
   * A long line in the pieces it arrived in: a map is read from them a window at a time (JsonScanner.resetPieces),
   * never made one string; any other line is joined and read as one.
   */
  pieces(pieces: readonly string[], lineNumber: number): void {
    this.lineNumber = lineNumber;
    this.scanner.resetPieces(pieces);
    this.text = this.scanner.window;
    if (!this.fastMapLine()) this.line(pieces.join(''), lineNumber);
  }

  end(): void {
    // Every JSON line is complete in itself: nothing can be pending.
  }

  /**
   * The hot path: `{"type": "map"|"hist", "data": {"@name": …}}` read straight into entries. False (nothing
   * emitted) for any other line, or one it cannot read, which then takes the general path. The scanner holds the
   * line (reset or resetPieces); each map entry is a unit (unitStart, resume), so a line in pieces reads right.
   */
  private fastMapLine(): boolean {
    const sc = this.scanner;
    try {
      if (sc.open(123) || sc.key() !== 'type') return false;
      const type = sc.value();
      if ((type !== 'map' && type !== 'hist') || !sc.more(125) || sc.key() !== 'data') return false;
      const samples: MapSample[] = [];
      if (!sc.open(123)) {
        do {
          const name = sc.key();
          samples.push(type === 'map' ? this.fastMap(name) : this.fastHist(name));
          sc.takeRest(); // the closing brackets: bpftrace prints one map per line
        } while (sc.more(125));
      }
      if (sc.more(125)) return false;
      sc.atEnd();
      for (const sample of samples) this.emit(sample);
      return true;
    } catch (error) {
      if (error instanceof JsonSyntaxError || error instanceof NotFast) return false;
      throw error;
    }
  }

  private fastMap(name: string): MapSample {
    const sc = this.scanner;
    const info = this.maps.get(name);
    const entries: MapEntry[] = [];
    if (sc.peek() === 123 && !(info !== undefined && info.keyArity === 0)) {
      const plan = this.planFor(name);
      for (let more = !sc.open(123); more; ) {
        const start = sc.unitStart();
        try {
          const key = this.entryKey(plan, name);
          const v = sc.value();
          more = sc.more(125);
          entries.push({ key, value: typeof v === 'number' ? v : plainOf(v) });
        } catch (error) {
          sc.resume(start, error);
        }
      }
    } else {
      entries.push({ key: [], value: plainOf(sc.value()) });
    }
    return this.sample(name, mapTypeKind(info), entries);
  }

  private fastHist(name: string): MapSample {
    const sc = this.scanner;
    const info = this.maps.get(name);
    const entries: MapEntry[] = [];
    if (sc.peek() === 91) {
      const buckets = sc.buckets();
      if (buckets === undefined) throw new NotFast();
      entries.push({ key: [], buckets: repairBuckets(buckets) });
    } else {
      const plan = this.planFor(name);
      for (let more = !sc.open(123); more; ) {
        const start = sc.unitStart();
        try {
          const key = this.entryKey(plan, name);
          const buckets = sc.buckets();
          if (buckets === undefined) throw new NotFast();
          more = sc.more(125);
          entries.push({ key, buckets: repairBuckets(buckets) });
        } catch (error) {
          sc.resume(start, error);
        }
      }
    }
    return this.sample(name, histTypeKind(info, entries), entries);
  }

  private sample(name: string, kind: MapKind, entries: MapEntry[]): MapSample {
    const sample: MapSample = { type: 'map', name, kind, entries };
    if (this.final) sample.final = true;
    return sample;
  }

  private problem(reason: string): void {
    this.emit({ type: 'problem', line: this.lineNumber, text: problemText(this.text), reason });
  }

  private envelope(obj: JsonObject): void {
    const type = obj.get('type');
    const data = obj.get('data');
    switch (type) {
      case 'map':
      case 'hist':
      case 'stats': {
        if (!(data instanceof JsonObject)) {
          this.problem(`a "${type}" line without a map object in "data"`);
          return;
        }
        for (let i = 0; i < data.keys.length; i++) this.mapSample(type, data.keys[i] ?? '', data.values[i] ?? null);
        return;
      }
      case 'printf':
      case 'time':
      case 'cat':
      case 'join':
        this.emit({ type: 'text', source: type, text: typeof data === 'string' ? data : textOf(data ?? null) });
        return;
      case 'syscall':
        this.emit({ type: 'text', source: 'system', text: typeof data === 'string' ? data : textOf(data ?? null) });
        return;
      case 'value':
        this.emit({ type: 'text', source: 'value', text: textOf(data ?? null) });
        return;
      case 'attached_probes': {
        const probes =
          toNumber(data instanceof JsonObject ? data.get('probes') : undefined) ?? toNumber(obj.get('count'));
        if (probes === undefined) this.problem('an attached_probes line without a probe count');
        else this.emit({ type: 'attached', probes });
        return;
      }
      case 'lost_events': {
        const events =
          toNumber(data instanceof JsonObject ? data.get('events') : undefined) ?? toNumber(obj.get('count'));
        // 0.17 also reports a watchpoint running out of registers with this type and a string `data`.
        if (events !== undefined) this.emit({ type: 'lost', events });
        else if (typeof data === 'string') this.emit({ type: 'runtime-error', message: data });
        else this.problem('a lost_events line without an event count');
        return;
      }
      case 'helper_error': {
        const msg = obj.get('msg');
        const helper = obj.get('helper');
        const retcode = obj.get('retcode');
        const base = `helper ${typeof helper === 'string' ? helper : '?'} failed (retcode ${typeof retcode === 'number' ? retcode : '?'})`;
        this.runtimeError(obj, typeof msg === 'string' && msg !== '' ? `${base}: ${msg}` : base);
        return;
      }
      case 'runtime_error':
      case 'errorf':
      case 'warnf': {
        const msg = obj.get('msg') ?? data ?? '';
        const text = typeof msg === 'string' ? msg : textOf(msg);
        this.runtimeError(obj, type === 'warnf' ? `warning: ${text}` : text);
        return;
      }
      case 'tseries':
        this.problem('tseries() maps are not read by ktrace: use hist(), lhist() or count() for metrics');
        return;
      case 'benchmark_results':
      case 'benchmark_result':
      case 'test_result':
        // bpftrace's own bench/test modes, not trace output: passed on as text so nothing is lost.
        this.emit({ type: 'text', source: 'other', text: this.text });
        return;
      default:
        this.problem(
          typeof type === 'string'
            ? `unknown JSON output type "${type}" (newer bpftrace?): the line is skipped`
            : 'a JSON line without a "type": not bpftrace -f json output',
        );
    }
  }

  private runtimeError(obj: JsonObject, message: string): void {
    const line = toNumber(obj.get('line'));
    const column = toNumber(obj.get('col'));
    this.emit({
      type: 'runtime-error',
      message,
      ...(line === undefined ? {} : { line }),
      ...(column === undefined ? {} : { column }),
    });
  }

  private planFor(name: string): KeyPlan | undefined {
    if (this.plans.has(name)) return this.plans.get(name);
    const plan = keyPlanOf(this.maps.get(name));
    this.plans.set(name, plan);
    return plan;
  }

  private mapSample(type: 'map' | 'hist' | 'stats', name: string, payload: JsonValue): void {
    const info = this.maps.get(name);
    const keyed =
      payload instanceof JsonObject &&
      !(type === 'stats' && isStatsObject(payload) && (info === undefined || info.keyArity === 0)) &&
      !(type === 'map' && info !== undefined && info.keyArity === 0);
    const entries: MapEntry[] = [];
    // Reads each value of the payload (one keyless value, or an object of keyed ones) into an entry; the key is
    // split only for entries that are kept. Returns how many values could not be read.
    const each = (entryOf: (value: JsonValue) => MapEntry | undefined): number => {
      let bad = 0;
      if (!keyed) {
        const entry = entryOf(payload);
        if (entry === undefined) bad++;
        else entries.push(entry);
        return bad;
      }
      const plan = this.planFor(name);
      for (let i = 0; i < payload.keys.length; i++) {
        const entry = entryOf(payload.values[i] ?? null);
        if (entry === undefined) {
          bad++;
          continue;
        }
        entry.key = this.key(payload.keys[i] ?? '', plan, name);
        entries.push(entry);
      }
      return bad;
    };
    let kind: MapKind;
    let bad: number;
    if (type === 'hist') {
      bad = each((value) => {
        const buckets = bucketsOf(value);
        return buckets === undefined ? undefined : { key: [], buckets };
      });
      kind = histTypeKind(info, entries);
    } else if (type === 'stats') {
      let sawStats = false;
      let sawAvg = false;
      bad = each((value) => {
        if (value instanceof JsonObject) {
          const stats = statsOf(value);
          if (stats !== undefined) sawStats = true;
          return stats === undefined ? undefined : { key: [], stats };
        }
        const n = toNumber(value);
        if (n !== undefined) sawAvg = true;
        return n === undefined ? undefined : { key: [], value: n };
      });
      kind = sawStats && !sawAvg ? 'stats' : sawAvg && !sawStats ? 'avg' : info?.kind === 'stats' ? 'stats' : 'avg';
      if (sawStats && sawAvg) this.problem(`map ${name} mixes stats() objects and avg() numbers`);
    } else {
      bad = each((value) => ({ key: [], value: plainOf(value) }));
      kind = mapTypeKind(info);
    }
    if (bad > 0)
      this.problem(`map ${name}: ${bad} value(s) are not what a "${type}" map holds; those entries are skipped`);
    this.emit(this.sample(name, kind, entries));
  }

  /**
   * The fast path's entry key: an integer where splitJsonKey would make one of the whole key (no program, or
   * one position that is not a string or stack) is read in place (JsonScanner.intKey); any other by key().
   */
  private entryKey(plan: KeyPlan | undefined, name: string): KeyPart[] {
    const type = plan?.types[0];
    if (plan === undefined || plan.arity === 0 || (plan.arity === 1 && type !== 'string' && type !== 'stack')) {
      const n = this.scanner.intKey();
      if (!Number.isNaN(n)) return [n];
    }
    return this.key(this.scanner.key(), plan, name);
  }

  private key(escaped: string, plan: KeyPlan | undefined, name: string): KeyPart[] {
    // 0.22–0.23 escape keys twice (json-key-escapes.ts): repaired when the caller says which version wrote this.
    const raw = this.keysEscapedTwice ? unescapeKeyOnce(escaped) : escaped;
    const split = splitJsonKey(raw, plan);
    if (split.doubt !== undefined && !this.doubted.has(name)) {
      // Once per map: the same keys come back in every print.
      this.doubted.add(name);
      const types = plan?.types.join(', ') ?? '';
      this.problem(
        split.doubt === 'ambiguous'
          ? `map ${name}: key ${JSON.stringify(problemText(raw))} has a "," that more than one string key (${types}) could hold; it went to the last one. JSON joins key parts with "," and cannot say which; keep commas out of all but one string key`
          : `map ${name}: key ${JSON.stringify(problemText(raw))} does not fit the program's key types (${types}); it is split as well as possible. Is --program the program that produced this output?`,
      );
    }
    return split.parts;
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
