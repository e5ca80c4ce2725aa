// One exported key's state: what bpftrace printed last in the key's current life, and what earlier lives (or the
// deltas of a cleared map) carried forward. Counters are `carried + printed`, so they never lose an increment.

export class Series {
  /** The key's labels as Prometheus text (`comm="bash",pid="1"`); the values are read back with labelValuesOf. */
  readonly labelText: string;
  readonly startMs: number;
  seenDump: number;
  /** The dump whose entries last named this key (finds a key printed twice in one dump). */
  mark = 0;
  /** counter value, or stats count: printed in the current life, and carried from earlier ones. */
  printed = 0;
  carried = 0;
  /** stats total. */
  printedSum = 0;
  carriedSum = 0;
  /** gauge value, or stats average. */
  gauge = 0;
  printedBuckets: Float64Array | undefined;
  carriedBuckets: Float64Array | undefined;

  constructor(labelText: string, startMs: number, seenDump: number) {
    this.labelText = labelText;
    this.startMs = startMs;
    this.seenDump = seenDump;
  }

  /** The exported counter value (counters), or the stats count. */
  get total(): number {
    return this.carried + this.printed;
  }

  get sumTotal(): number {
    return this.carriedSum + this.printedSum;
  }

  /** Per-bucket (non-cumulative) exported counts, length = layout bounds + 1; into `out` when given (a renderer's). */
  bucketCounts(length: number, out = new Float64Array(length)): Float64Array {
    const raw = this.printedBuckets;
    const carry = this.carriedBuckets;
    for (let i = 0; i < length; i++) out[i] = (raw?.[i] ?? 0) + (carry?.[i] ?? 0);
    return out;
  }
}

/** The series' current bpftrace life ended (restart, deletion): what it printed becomes carried total. */
export function carryForward(series: Series): void {
  series.carried += series.printed;
  series.printed = 0;
  series.carriedSum += series.printedSum;
  series.printedSum = 0;
  const raw = series.printedBuckets;
  if (raw !== undefined) {
    const carry = (series.carriedBuckets ??= new Float64Array(raw.length));
    for (let i = 0; i < raw.length; i++) carry[i] = (carry[i] as number) + (raw[i] as number);
    raw.fill(0);
  }
}
