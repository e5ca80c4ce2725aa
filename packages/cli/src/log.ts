// How every long-running command (run, export, parse, agent) logs to stderr: JSON lines when stderr is not a
// terminal (a log collector reads them), readable `ktrace: …` lines when it is; --log-format chooses.
import type { LogRecord } from '@ktrace/core';
import { KtraceError } from '@ktrace/parser';
import type { ProblemEvent } from '@ktrace/parser';
import { visible } from './live-view-text.js';

export type LogFormat = 'json' | 'text';

export const LOG_FORMAT_HELP = 'auto | json | text: JSON lines, or readable lines (auto: text on a terminal)';

/** `--log-format`: `auto` (or nothing) is text when the stream is a terminal, JSON lines when it is not. */
export function logFormatOption(value: string | undefined, stream: { isTTY?: boolean } = process.stderr): LogFormat {
  switch (value ?? 'auto') {
    case 'auto':
      return stream.isTTY === true ? 'text' : 'json';
    case 'json':
    case 'text':
      return value as LogFormat;
    default:
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: `--log-format must be auto, json or text, not "${value}"`,
      });
  }
}

// JSON escapes C0 controls; C1 (a terminal's 8-bit CSI) and bidi overrides are escaped too, still valid JSON.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function fieldText(value: unknown): string {
  if (typeof value !== 'string') return visible(JSON.stringify(value) ?? String(value));
  return visible(/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));
}

/** One record as a line (with its newline) in the chosen format. */
export function formatLogRecord(record: LogRecord, format: LogFormat, time: Date = new Date()): string {
  if (format === 'json') {
    const line = JSON.stringify({ time: time.toISOString(), ...record }).replace(
      UNSAFE_IN_JSON,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    return `${line}\n`;
  }
  const { level, msg, ...fields } = record;
  const label = level === 'warn' ? 'warning: ' : level === 'info' ? '' : `${level}: `;
  const extra = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}=${fieldText(value)}`)
    .join('');
  return `ktrace: ${label}${visible(msg, 'newlines')}${extra}\n`;
}

export interface LogWriterOptions {
  readonly format: LogFormat;
  /** Also write debug records. */
  readonly verbose?: boolean;
  readonly stream?: NodeJS.WritableStream;
}

/** The sink a command hands to the SDK (`onLog`) and uses for its own records. */
export function createLogWriter(options: LogWriterOptions): (record: LogRecord) => void {
  const stream = options.stream ?? process.stderr;
  return (record) => {
    if (record.level === 'debug' && options.verbose !== true) return;
    stream.write(formatLogRecord(record, options.format));
  };
}

/** What the parser could not read, as a warning: `line N: reason`, and the line's text as `input`. */
export function problemRecord(event: ProblemEvent): LogRecord {
  return {
    level: 'warn',
    msg: `line ${event.line}: ${event.reason}`,
    ...(event.text === '' ? {} : { input: event.text }),
  };
}
