// Lines bpftrace itself writes among the program's text output: `Attaching N probes...`, `Lost N events`, and
// ≤0.23's helper warnings on stdout with the source line and `~~~` marker it echoes under them.
import type { Emit } from './format-reader.js';
import { parseInteger } from './keys.js';
import type { RuntimeErrorEvent } from './types.js';

/** `Attaching 2 probes...`, `Attaching 1 probe...`, `Attached 3 probes`: the number, or -1. */
export function attachedCount(text: string): number {
  const start = text.indexOf(' ') + 1;
  const end = text.indexOf(' ', start);
  if (end < 0) return -1;
  const rest = text.slice(end + 1);
  if (rest !== 'probes...' && rest !== 'probe...' && rest !== 'probes' && rest !== 'probe') return -1;
  const n = parseInteger(text, start, end);
  return Number.isNaN(n) ? -1 : n;
}

/** `Lost 15 events`: the number, or NaN. */
export function lostCount(text: string): number {
  if (!text.startsWith('Lost ') || !text.endsWith(' events')) return Number.NaN;
  return parseInteger(text, 5, text.length - 7);
}

/**
 * ≤0.23 prints helper errors (`-k`) on stdout: `stdin:1:37-60: WARNING: Failed to probe_read: Bad address (-14)`.
 * The runtime-error event of such a line, or undefined when it is not one.
 */
export function helperWarning(text: string): RuntimeErrorEvent | undefined {
  const at = text.indexOf(': WARNING: ');
  if (at <= 0) return undefined;
  const loc = /(?:^|:)(\d+)(?::(\d+)-\d+|-\d+)$/.exec(text.slice(0, at));
  if (loc === null) return undefined;
  const event: RuntimeErrorEvent = { type: 'runtime-error', message: text.slice(at + 11), line: Number(loc[1]) };
  if (loc[2] !== undefined) event.column = Number(loc[2]);
  return event;
}

/**
 * The two lines bpftrace echoes after a helper warning with a column: the program's source line, then a `~~~`
 * marker under the failing call. Both are swallowed; the source line is held until the marker confirms it, and
 * given back as text when no marker follows.
 */
export class WarningEcho {
  private next: 'nothing' | 'source-line' | 'marker' = 'nothing';
  private held = '';
  private readonly emit: Emit;

  constructor(emit: Emit) {
    this.emit = emit;
  }

  get expected(): boolean {
    return this.next !== 'nothing';
  }

  /** A warning with a column was read: its echo comes next. */
  expect(): void {
    this.next = 'source-line';
  }

  /** True when the line was part of the echo; false when it is not (a held line was given back as text first). */
  take(text: string): boolean {
    if (this.next === 'source-line') {
      this.next = 'marker';
      this.held = text;
      return true;
    }
    this.next = 'nothing';
    if (/^\s*~+\s*$/.test(text)) return true;
    this.emit({ type: 'text', source: 'printf', text: this.held });
    return false;
  }

  /** End of input: a held source line without its marker was output. */
  end(): void {
    if (this.next === 'marker') this.emit({ type: 'text', source: 'printf', text: this.held });
    this.next = 'nothing';
  }
}
