// A map key that bpftrace's text output spreads over several lines: a stack key (`@ks[` then indented frames,
// closed by `]: value`), or a string key that holds a newline (`@m[a` / `b]: 1`). It collects the key's lines and
// says when the key is complete, when it was cut, and when it was never a key (printf text that looked like one).
import type { MapInfo } from './types.js';

/** What the next line did to the key: continued it, closed it (with a value or as a histogram header), or not. */
export type KeyStep = 'more' | 'entry' | 'header' | 'not-a-key' | 'cut';

/** A string key is at most a few lines (bpftrace strings are short); past this the key is taken as cut. */
const MAX_KEY_LINES = 64;
/** A line that starts a map entry: it cannot continue the key before it. */
const MAP_LINE_START = /^@[A-Za-z0-9_]*[[:]/;

export class MultiLineKey {
  name = '';
  /** The key as printed so far; complete after `entry` or `header`. */
  raw = '';
  /** The line the key starts on. */
  line = 0;
  /** After `entry`: where the value starts in the closing line. */
  valueStart = 0;
  shape: 'stack' | 'string' = 'stack';
  private stringLines = 0;
  /** The lines of a string key so far, given back as text if no `]: ` closes it. */
  private held: Array<[string, number]> = [];

  /** `text` is the line that opens the key, `raw` what it holds after the `[`. */
  start(name: string, raw: string, line: number, text: string, shape: 'stack' | 'string'): void {
    this.name = name;
    this.raw = raw;
    this.line = line;
    this.shape = shape;
    this.stringLines = shape === 'string' ? 1 : 0;
    this.held = [[text, line]];
  }

  next(text: string, lineNumber: number, info: MapInfo | undefined): KeyStep {
    return this.shape === 'string' ? this.nextStringLine(text, lineNumber, info) : this.nextStackLine(text, info);
  }

  /** The lines held so far (the opening line first), when the key turned out to be text. */
  takeHeld(): Array<[string, number]> {
    const held = this.held;
    this.held = [];
    return held;
  }

  /** The key's lines as one problem text. */
  get text(): string {
    return `${this.name}[${this.raw}`;
  }

  cutReason(lineNumber: number): string {
    return `the multi-line key of ${this.name} that starts on line ${this.line} was not closed by \`]: \` (line ${lineNumber} interrupts it); that entry is skipped`;
  }

  endedReason(): string {
    return `the output ended inside the multi-line key of ${this.name} that starts on line ${this.line}; that entry is lost (was bpftrace killed while printing?)`;
  }

  /** An indented frame continues a stack key; `]: ` (or `, ` and the next key part) closes it. */
  private nextStackLine(text: string, info: MapInfo | undefined): KeyStep {
    const c0 = text.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      this.raw += `\n${text}`;
      return 'more';
    }
    if (c0 === 93 /* ] */ || (c0 === 44 /* , */ && text.charCodeAt(1) === 32)) {
      const step = this.close(text, info);
      if (step !== 'more') return step;
      if (text.endsWith(', ') || text === ',') {
        this.raw += `\n${text}`;
        return 'more';
      }
    }
    return 'cut';
  }

  /**
   * Any line continues a string key until one holds `]: ` (or ends with `]:`, a histogram header), except a blank
   * line or one that starts another entry: then it was text after all.
   */
  private nextStringLine(text: string, lineNumber: number, info: MapInfo | undefined): KeyStep {
    if (text.length === 0 || MAP_LINE_START.test(text) || this.stringLines >= MAX_KEY_LINES) return 'not-a-key';
    this.stringLines++;
    const step = this.close(text, info);
    if (step !== 'more') return step;
    this.raw += `\n${text}`;
    this.held.push([text, lineNumber]);
    return 'more';
  }

  /** `entry` or `header` when the line closes the key (the key then complete in `raw`), else `more`. */
  private close(text: string, info: MapInfo | undefined): KeyStep {
    const sep = info?.kind === 'value' ? text.indexOf(']: ') : text.lastIndexOf(']: ');
    if (sep >= 0) {
      this.raw = `${this.raw}\n${text.slice(0, sep)}`;
      this.valueStart = sep + 3;
      return 'entry';
    }
    if (text.endsWith(']:')) {
      this.raw = `${this.raw}\n${text.slice(0, text.length - 2)}`;
      return 'header';
    }
    return 'more';
  }
}
