// Output limits of a bpftrace run: its stdout byte rate over a sliding window (a program that floods is stopped)
// and how many of its text lines (printf, stderr) reach the log per second. Counting only: the clock is the caller's.

export const RATE_WINDOW_SECONDS = 5;
export const TEXT_LOG_PER_SECOND = 20;

export function bytesPerSecond(n: number): string {
  if (n >= 1_048_576) return `${(n / 1_048_576).toFixed(1)} MiB/s`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB/s`;
  return `${Math.round(n)} B/s`;
}

/** Bytes per second over the last RATE_WINDOW_SECONDS; `tick()` once a second closes the current second. */
export class OutputRate {
  private readonly seconds: number[] = [];
  private current = 0;

  constructor(private readonly limitBytesPerSecond: number) {}

  add(bytes: number): void {
    this.current += bytes;
  }

  /** Closes this second; a flood (the window's average above the limit) as the message to stop with, if any. */
  tick(): string | undefined {
    this.seconds.push(this.current);
    this.current = 0;
    if (this.seconds.length > RATE_WINDOW_SECONDS) this.seconds.shift();
    const total = this.seconds.reduce((a, b) => a + b, 0);
    if (total <= this.limitBytesPerSecond * RATE_WINDOW_SECONDS) return undefined;
    const rate = total / this.seconds.length;
    return `bpftrace floods its output: ${bytesPerSecond(rate)} over the last ${this.seconds.length} s, above limits.maxOutputBytesPerSecond (${bytesPerSecond(this.limitBytesPerSecond)}); stopped it. Aggregate in a map (e.g. @calls[comm] = count()) instead of printf() on a hot probe, or raise the limit`;
  }
}

/** At most TEXT_LOG_PER_SECOND text lines logged per second; the rest are counted and reported at the tick. */
export class TextLogLimit {
  private logged = 0;
  private suppressed = 0;

  /** True when this line may be logged. */
  admit(): boolean {
    if (this.logged < TEXT_LOG_PER_SECOND) {
      this.logged++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** Starts a new second; how many lines were not logged in the one that ended. */
  tick(): number {
    const suppressed = this.suppressed;
    this.logged = 0;
    this.suppressed = 0;
    return suppressed;
  }
}
