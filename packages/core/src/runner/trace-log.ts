// The log records of a trace: their shape, a sink that can never break the trace, how a line bpftrace writes
// on stderr is graded (its ERROR and WARNING words; bpftrace-errors.ts's benign warnings as debug), and what the
// last lines say of the final dump's OTLP delivery.

import { isBenignStderr } from '../bpftrace-errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log line: what happened, plus fields (pid, map, probes, stderr text…). */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

/** The caller's sink, guarded: a sink that throws loses that record, not the trace. */
export function safeSink(onLog: LogSink | undefined): LogSink {
  return (record) => {
    try {
      onLog?.(record);
    } catch {
      // A failing log sink must not break the trace.
    }
  };
}

/** The log record for one line of bpftrace's stderr. */
export function stderrRecord(line: string): LogRecord {
  if (isBenignStderr(line)) return { level: 'debug', msg: line, stream: 'bpftrace-stderr' };
  const level: LogLevel = /\bERROR\b/.test(line) ? 'error' : /\bWARNING\b/.test(line) ? 'warn' : 'info';
  return { level, msg: line, stream: 'bpftrace-stderr' };
}

/** What the last log lines say of the final dump's delivery to the OTLP collector. */
export interface OtlpDeliveryNote {
  level: 'info' | 'warn';
  text: string;
  otlp: 'delivered' | 'not delivered';
}

/** The note for the exporter's shutdown result; undefined when no collector was configured. */
export function otlpDeliveryNote(
  otlp: { url: string; delivered: boolean; error?: string } | undefined,
): OtlpDeliveryNote | undefined {
  if (otlp === undefined) return undefined;
  return otlp.delivered
    ? { level: 'info', text: `the final dump reached the OTLP collector at ${otlp.url}`, otlp: 'delivered' }
    : {
        level: 'warn',
        text: `the final dump did not reach the OTLP collector at ${otlp.url}: ${otlp.error ?? 'unknown error'}`,
        otlp: 'not delivered',
      };
}
