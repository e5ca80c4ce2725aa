// The line-level contract between the streaming parser and the two output formats.
// The stream splits and decodes chunks; a FormatReader turns whole lines into events.
import type { ParseEvent, ProgramInfo } from './types.js';

export type Emit = (event: ParseEvent) => void;

export interface FormatReaderOptions {
  emit: Emit;
  /** What the .bt source says about each map: real kinds, key arity and types. */
  program?: ProgramInfo | undefined;
  /** The bpftrace version that wrote the output (`0.23.2`), when known: some versions' quirks need it. */
  bpftraceVersion?: string | undefined;
}

export interface FormatReader {
  /** One line of output, without its `\n` (a trailing `\r` is already removed). `lineNumber` is 1-based. */
  line(text: string, lineNumber: number): void;
  /**
   * The same for a line that arrived in more than one chunk, given as its pieces (a trailing `\r` removed), for a
   * reader that can read it without joining them; the stream joins them for one that cannot.
   */
  pieces?(pieces: readonly string[], lineNumber: number): void;
  /** End of input: flush what is pending; a block cut short becomes a `problem` event, never a throw. */
  end(): void;
}

/** How much of a line a `problem` event quotes: enough to find it, not a whole runaway line. */
const PROBLEM_TEXT_LIMIT = 200;

/** The text a `problem` event quotes: the line, cut at PROBLEM_TEXT_LIMIT characters with `…`. */
export function problemText(text: string): string {
  return text.length > PROBLEM_TEXT_LIMIT ? `${text.slice(0, PROBLEM_TEXT_LIMIT)}…` : text;
}
