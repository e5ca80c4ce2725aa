// The streaming parser: takes bpftrace stdout in chunks split anywhere, decodes UTF-8, cuts whole lines,
// keeps undecodable bytes distinct (utf8.ts), detects text or JSON from the first non-blank line, and hands lines to that format's reader.
import { JsonFormatReader } from './json-format.js';
import { TextFormatReader } from './text-format.js';
import { ByteKeepingDecoder } from './utf8.js';
import type { FormatReader } from './format-reader.js';
import type { ParseEvent, ProgramInfo } from './types.js';

export interface OutputParserOptions {
  onEvent: (event: ParseEvent) => void;
  /** `auto` (the default) reads the first non-blank line: `{` means JSON, anything else text. */
  format?: 'auto' | 'text' | 'json';
  /** What the .bt source says about each map (see readProgram): real kinds and key splitting. */
  program?: ProgramInfo;
  /**
   * A line longer than this (in UTF-16 units) is dropped, reported as a problem with `cause: 'line-too-long'`.
   * Default 256 Mi: a 1M-key map printed by `-f json` is one line of about 22 MB. JavaScript strings stop near
   * 512 Mi units, so a larger limit cannot be kept.
   */
  maxLineLength?: number;
  /** The bpftrace version that wrote the output, when known (0.22–0.23 JSON keys are repaired with it). */
  bpftraceVersion?: string;
}

export const DEFAULT_MAX_LINE_LENGTH = 256 * 1024 * 1024;
const STRING_LIMIT = 512 * 1024 * 1024 - 64;
const PROBLEM_TEXT = 200;

export class OutputParser {
  private readonly onEvent: (event: ParseEvent) => void;
  private readonly format: 'auto' | 'text' | 'json';
  private readonly program: ProgramInfo | undefined;
  private readonly maxLineLength: number;
  private readonly bpftraceVersion: string | undefined;
  /** Undecodable bytes are kept (as lone surrogates), so keys differing only in them stay distinct. */
  private readonly decoder = new ByteKeepingDecoder();
  private reader: FormatReader | undefined;
  /** Blank lines seen before the format is known: they matter to the text reader, so they are replayed. */
  private leadingBlanks: number[] = [];
  /** The unfinished last line, in pieces, so a long line arriving in many chunks is not copied again and again. */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Set while dropping the rest of an over-long line. */
  private dropping = false;
  private lineNumber = 0;
  private ended = false;

  constructor(options: OutputParserOptions) {
    this.onEvent = options.onEvent;
    this.format = options.format ?? 'auto';
    this.program = options.program;
    this.maxLineLength = Math.min(options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH, STRING_LIMIT);
    this.bpftraceVersion = options.bpftraceVersion;
    if (this.format !== 'auto') this.reader = this.makeReader(this.format);
  }

  write(chunk: string | Uint8Array): void {
    if (this.ended) return;
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk);
    if (text.length > 0) this.take(text);
  }

  end(): void {
    if (this.ended) return;
    const rest = this.decoder.end();
    if (rest.length > 0) this.take(rest);
    this.ended = true;
    if (this.dropping) {
      this.dropping = false;
    } else if (this.pendingLength > 0) {
      const last = this.pending.join('');
      this.pending = [];
      this.pendingLength = 0;
      this.lineNumber++;
      this.line(last);
    }
    if (this.reader === undefined) this.reader = this.makeReader('text');
    this.flushBlanks();
    try {
      this.reader.end();
    } catch (error) {
      this.internalProblem(this.lineNumber, '', error);
    }
  }

  private take(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.lineNumber++;
      if (this.dropping) {
        this.dropping = false;
      } else if (this.pendingLength > 0) {
        const pieces = this.pending;
        const length = this.pendingLength + nl - start;
        pieces.push(text.slice(start, nl));
        this.pending = [];
        this.pendingLength = 0;
        if (length > this.maxLineLength) this.tooLong(pieces.join(''), this.lineNumber);
        else this.linePieces(pieces);
      } else if (nl - start > this.maxLineLength) {
        this.tooLong(text.slice(start, start + PROBLEM_TEXT), this.lineNumber);
      } else {
        this.line(text.slice(start, nl));
      }
      start = nl + 1;
    }
    if (start < text.length && !this.dropping) {
      const piece = start === 0 ? text : text.slice(start);
      this.pending.push(piece);
      this.pendingLength += piece.length;
      if (this.pendingLength > this.maxLineLength) {
        // Report it now and drop the rest as it comes: waiting for its end could take forever.
        this.tooLong(this.pending.join('').slice(0, PROBLEM_TEXT), this.lineNumber + 1);
        this.pending = [];
        this.pendingLength = 0;
        this.dropping = true;
      }
    }
  }

  private tooLong(text: string, line: number): void {
    this.onEvent({
      type: 'problem',
      line,
      text: text.slice(0, PROBLEM_TEXT),
      reason: `line longer than ${this.maxLineLength} characters without a newline: dropped (is this bpftrace output?)`,
      cause: 'line-too-long',
    });
  }

  /**
   * A line that came in several chunks. A reader that takes pieces gets them as they are: a long line joined is
   * a string too large for V8's young generation, given fresh pages of its own, and on a VM their page faults
   * can cost more than reading the line (docs/benchmarks.md, session 10).
   */
  private linePieces(pieces: string[]): void {
    if (this.reader?.pieces === undefined) {
      this.line(pieces.join(''));
      return;
    }
    if (pieces[pieces.length - 1] === '') pieces.pop();
    const tail = pieces[pieces.length - 1] as string;
    if (tail.endsWith('\r')) pieces[pieces.length - 1] = tail.slice(0, -1);
    try {
      this.reader.pieces(pieces, this.lineNumber);
    } catch (error) {
      this.internalProblem(this.lineNumber, pieces[0] as string, error);
    }
  }

  private line(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.reader === undefined) {
      if (text.trim() === '') {
        this.leadingBlanks.push(this.lineNumber);
        return;
      }
      this.reader = this.makeReader(text.trimStart().startsWith('{') ? 'json' : 'text');
      this.flushBlanks();
    }
    try {
      this.reader.line(text, this.lineNumber);
    } catch (error) {
      this.internalProblem(this.lineNumber, text, error);
    }
  }

  private flushBlanks(): void {
    if (this.leadingBlanks.length === 0 || this.reader === undefined) return;
    const blanks = this.leadingBlanks;
    this.leadingBlanks = [];
    for (const n of blanks) {
      try {
        this.reader.line('', n);
      } catch (error) {
        this.internalProblem(n, '', error);
      }
    }
  }

  /** A reader that throws is a bug in ktrace; the input still must not stop the stream. */
  private internalProblem(line: number, text: string, error: unknown): void {
    this.onEvent({
      type: 'problem',
      line,
      text: text.slice(0, PROBLEM_TEXT),
      reason: `internal parser error, line skipped (please report it): ${error instanceof Error ? error.message : String(error)}`,
    });
  }

  private makeReader(format: 'text' | 'json'): FormatReader {
    const options = { emit: this.onEvent, program: this.program, bpftraceVersion: this.bpftraceVersion };
    return format === 'json' ? new JsonFormatReader(options) : new TextFormatReader(options);
  }
}

/** Parses a whole output at once; the same events as feeding it to an OutputParser in any chunks. */
export function parseOutput(text: string, options: Omit<OutputParserOptions, 'onEvent'> = {}): ParseEvent[] {
  const events: ParseEvent[] = [];
  const parser = new OutputParser({ ...options, onEvent: (e) => events.push(e) });
  parser.write(text);
  parser.end();
  return events;
}
