// The map sample the text reader is collecting: the entries of one print(), until a key repeats or bpftrace's
// sort order breaks. Problems found meanwhile wait for it, so events come out in the order of the output.
import type { Emit } from './format-reader.js';
import { problemText } from './format-reader.js';
import { histogramKindOfEntries } from './histogram.js';
import type { MapEntry, MapInfo, MapKind, MapSample, ProblemEvent } from './types.js';

export class PendingSample {
  /** Samples started from now on came after the exit-time "\n\n". */
  final = false;
  /** The last entry's value is a stack being folded from indented lines; the next blank line ends it. */
  foldingStack = false;
  /** A `[X]` label (log2 hist only) was seen in this sample: tells hist from a step-1 lhist. */
  sawSingleLabel = false;

  private readonly emit: Emit;
  private sample: MapSample | undefined;
  /** Fixed when the sample starts; undefined for a histogram whose buckets decide hist or lhist at the end. */
  private kind: MapKind | undefined;
  private mapInfo: MapInfo | undefined;
  private keys = new Set<string>();
  /** Sort value of the last entry added (see orderOf); -Infinity when entries are not ordered by value. */
  private order = Number.NEGATIVE_INFINITY;
  /** Whether the entries are still ascending as signed / as unsigned 64-bit values. */
  private signedOrder = true;
  private unsignedOrder = true;
  private problems: ProblemEvent[] = [];

  constructor(emit: Emit) {
    this.emit = emit;
  }

  /** The map being collected, if any. */
  get name(): string | undefined {
    return this.sample?.name;
  }

  /** What the program says about the map being collected. */
  get info(): MapInfo | undefined {
    return this.mapInfo;
  }

  /** `keyRaw` undefined: a keyless map (`@x: 1`), unlike `@ks[]: 1` (an empty key). */
  add(name: string, keyRaw: string | undefined, entry: MapEntry, info: MapInfo | undefined): void {
    const seen = keyRaw ?? '';
    let sample = this.sample;
    const histogram = entry.buckets !== undefined;
    if (sample !== undefined) {
      const pendingHistogram = sample.entries[0]?.buckets !== undefined;
      // A new print() of the same map started when a key repeats, or when the sort order breaks: bpftrace
      // prints numeric maps ascending by value (average for stats, total count for hist/lhist), compared as
      // signed or as unsigned 64-bit integers depending on the map (min/max always unsigned), so the order
      // breaks only when it breaks both ways.
      const order = orderOf(entry);
      const last = this.order;
      if (order < last) this.signedOrder = false;
      if (asUnsigned(order) < asUnsigned(last)) this.unsignedOrder = false;
      const restart = !this.signedOrder && !this.unsignedOrder;
      this.order = order;
      if (sample.name !== name || this.keys.has(seen) || pendingHistogram !== histogram || restart) {
        this.end();
        sample = undefined;
      }
    }
    this.foldingStack = false;
    if (sample === undefined) {
      this.order = orderOf(entry);
      this.signedOrder = true;
      this.unsignedOrder = true;
      this.mapInfo = info;
      let kind: MapKind | undefined = info?.kind;
      if (kind === undefined && !histogram) kind = entry.stats !== undefined ? 'stats' : 'value';
      sample = { type: 'map', name, kind: kind ?? 'hist', entries: [] };
      if (this.final) sample.final = true;
      this.sample = sample;
      this.kind = kind;
    }
    this.keys.add(seen);
    sample.entries.push(entry);
  }

  /** The sample is over (another map, text, a blank line, end of input): emits it, then its problems. */
  end(): void {
    const sample = this.sample;
    if (sample === undefined) return;
    if (this.kind === undefined) sample.kind = histogramKindOfEntries(sample.entries, this.sawSingleLabel);
    this.sample = undefined;
    this.kind = undefined;
    this.keys = new Set();
    this.foldingStack = false;
    this.sawSingleLabel = false;
    this.emit(sample);
    if (this.problems.length > 0) {
      const problems = this.problems;
      this.problems = [];
      for (const p of problems) this.emit(p);
    }
  }

  /** A problem event; while a sample is collected, it follows that sample. */
  problem(line: number, text: string, reason: string): void {
    const event: ProblemEvent = { type: 'problem', line, text: problemText(text), reason };
    if (this.sample !== undefined) this.problems.push(event);
    else this.emit(event);
  }

  /** A line that continues the last entry's string value: stack frames, or (in the exit dump) a value with newlines. */
  continueValue(text: string, c0: number): boolean {
    const sample = this.sample;
    if (sample === undefined || (this.kind !== undefined && this.kind !== 'value')) return false;
    const entry = sample.entries[sample.entries.length - 1];
    if (entry === undefined || typeof entry.value !== 'string') return false;
    const indented = c0 === 32 || c0 === 9;
    if (indented && (this.foldingStack || entry.value === '')) {
      const frame = text.trim();
      entry.value = entry.value === '' ? frame : `${entry.value}\n${frame}`;
      this.foldingStack = true;
      return true;
    }
    if (this.final && !this.foldingStack) {
      entry.value = `${entry.value}\n${text}`;
      return true;
    }
    return false;
  }
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
