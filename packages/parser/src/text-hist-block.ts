// One hist()/lhist() block of text output: the `@name[key]:` header, then bucket lines up to a blank line.
// It collects the buckets and says, in words a user can act on, how a block that was cut short went wrong.
import { parseBucketLine } from './histogram.js';
import type { HistogramBucket } from './types.js';

export class HistogramBlock {
  name = '';
  /** The key as printed; undefined for a keyless map. */
  keyRaw: string | undefined;
  /** The header's line number and text, for problem events. */
  line = 0;
  header = '';
  /** A `[X]` label (log2 hist only) was seen: the block cannot be a step-1 lhist. */
  sawSingleLabel = false;
  private buckets: HistogramBucket[] = [];

  start(name: string, keyRaw: string | undefined, line: number, header: string): void {
    this.name = name;
    this.keyRaw = keyRaw;
    this.line = line;
    this.header = header;
    this.buckets = [];
    this.sawSingleLabel = false;
  }

  /** Adds a bucket line; false when the line is not one. */
  add(text: string): boolean {
    const bucket = parseBucketLine(text);
    if (bucket === undefined) return false;
    this.buckets.push(bucket);
    if (bucket.min === bucket.max && bucket.min !== null && isSingleLabel(text)) this.sawSingleLabel = true;
    return true;
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  /** The buckets read; the block is then empty. */
  take(): HistogramBucket[] {
    const buckets = this.buckets;
    this.buckets = [];
    return buckets;
  }

  endedReason(): string {
    return `the output ended inside the histogram block of ${this.name} that starts on line ${this.line}, before its closing blank line; ${this.buckets.length} bucket(s) were read and kept, later buckets may be missing`;
  }

  cutReason(lineNumber: number): string {
    return `the histogram block of ${this.name} that starts on line ${this.line} was cut by line ${lineNumber}, which is not a bucket line; the ${this.buckets.length} bucket(s) before it are kept, later ones may be missing`;
  }

  /** A header followed by no bucket at all: not a histogram (a ≥0.24 tseries() graph, or another multi-line value). */
  notHistogramReason(lineNumber: number): string {
    return `${this.name} on line ${this.line} is followed by no histogram bucket (line ${lineNumber} is not one): ktrace reads hist() and lhist() blocks, not tseries() graphs or other multi-line values; the lines that follow are passed on as text`;
  }
}

/** `[5]   1 |@|` rather than `[5, 6)   1 |@|`. */
function isSingleLabel(line: string): boolean {
  const close = line.indexOf(']');
  return close > 0 && close < line.indexOf(' ');
}
