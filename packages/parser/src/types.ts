// The typed events the parser emits for bpftrace output: the contract every other package reads.
// Field names are what `ktrace parse` prints as NDJSON, so changing one is a breaking change.

/** The aggregation behind a map. `value` is a map assigned plain values (`@x = 5`, strings, tuples). */
export type MapKind = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stats' | 'hist' | 'lhist' | 'value';

/** One position of a map key: integers as numbers, everything else (comm, stacks, structs) as strings. */
export type KeyPart = string | number;

/** A histogram bucket with inclusive integer bounds; `null` marks an open end. */
export interface HistogramBucket {
  min: number | null;
  max: number | null;
  count: number;
}

export interface StatsValue {
  count: number;
  average: number;
  total: number;
}

/** A plain map value: numbers, strings, or tuples of them (as printed by bpftrace). */
export type PlainValue = number | string | null | PlainValue[];

export interface MapEntry {
  key: KeyPart[];
  /** count, sum, min, max, avg and plain values. */
  value?: PlainValue;
  /** hist and lhist, bucket bounds ascending. */
  buckets?: HistogramBucket[];
  /** stats. */
  stats?: StatsValue;
}

/** One printed map: every entry bpftrace printed for it in one `print()` or the exit-time dump. */
export interface MapSample {
  type: 'map';
  /** Map name as written in the program, with its `@` (`@` alone for the anonymous map). */
  name: string;
  kind: MapKind;
  entries: MapEntry[];
  /** True when the sample came from the dump bpftrace prints as it exits. */
  final?: boolean;
}

/** printf/time/cat/join/system output and `print()` of non-map values. */
export interface TextEvent {
  type: 'text';
  source: 'printf' | 'time' | 'cat' | 'join' | 'system' | 'value' | 'other';
  text: string;
}

export interface AttachedEvent {
  type: 'attached';
  probes: number;
}

export interface LostEvent {
  type: 'lost';
  events: number;
}

/** Errors bpftrace reports at run time in its output (helper errors, errorf, runtime_error). */
export interface RuntimeErrorEvent {
  type: 'runtime-error';
  message: string;
  line?: number;
  column?: number;
}

/** Something the parser could not read. It never throws on input; it reports what it skipped. */
export interface ProblemEvent {
  type: 'problem';
  /** 1-based line number in the stream. */
  line: number;
  /** The offending text (truncated to a reasonable length). */
  text: string;
  reason: string;
  /** Set when a limit, not the text, dropped the line: `line-too-long` (OutputParserOptions.maxLineLength). */
  cause?: 'line-too-long';
}

export type ParseEvent = MapSample | TextEvent | AttachedEvent | LostEvent | RuntimeErrorEvent | ProblemEvent;

export type OutputFormat = 'text' | 'json';

/** `string` covers comm, str(), func, probe, ksym/usym; `stack` covers kstack/ustack (multi-line in text). */
export type KeyType = 'int' | 'string' | 'stack' | 'unknown';

/** What reading the .bt source tells about one map. */
export interface MapInfo {
  name: string;
  kind: MapKind;
  /** Numeric literal arguments of the aggregation: `lhist(x, 0, 100, 10)` → [0, 100, 10]; `hist(x, 2)` → [2]. */
  args: number[];
  /** Number of key positions (0 for a keyless map). */
  keyArity: number;
  /** A label name per key position: `comm`, `pid`, `fd` (from `args->fd`), else `key0`, `key1`… */
  keyNames: string[];
  /** What each key position holds, as far as the source tells: lets the text reader split `a, b` keys whose strings contain `, `. */
  keyTypes: KeyType[];
  /**
   * True when the program's printed values of the map are deltas: it calls `clear(@m)` or `zero(@m)` outside
   * BEGIN/END, each time in a probe that also prints it (`interval:s:10 { print(@m); clear(@m); }`).
   */
  cleared: boolean;
  /**
   * True when the program clears the map while it runs in a probe that does not print it (print every second, clear
   * every minute; or never print it): its values then drop at each clear, so they are cumulative with resets.
   */
  clearedApart?: boolean;
  /** True when the program print()s the map in a probe that fires while it runs (not only in BEGIN/END). */
  printed?: boolean;
  /** True when the program prints the map with a top limit (`print(@m, 10)`): a key missing from a print was not deleted. */
  partial?: boolean;
  /**
   * The `div` of `print(@m, top, div)` in a probe that fires while the program runs: bpftrace divides the printed
   * values of count/sum/min/max/avg maps by it, but not those of its exit-time dump.
   */
  printDivisor?: number;
  /** Where the map is first assigned (1-based). */
  line: number;
  column: number;
}

export interface ProgramInfo {
  maps: MapInfo[];
  /** True when the program already calls print() on maps itself. */
  printsMaps: boolean;
}
