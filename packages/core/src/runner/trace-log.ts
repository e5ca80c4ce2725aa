// The log records of a trace: their shape, a sink that can never break the trace, and how a line bpftrace writes
// on stderr is graded (its ERROR and WARNING words; the harmless RLIMIT_MEMLOCK notice of 0.17 as debug).

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

/** bpftrace 0.17 prints this when it cannot raise RLIMIT_MEMLOCK, then works (newer kernels account BPF memory by cgroup). */
export function isHarmlessStderr(line: string): boolean {
  return line.includes("couldn't set RLIMIT_MEMLOCK");
}

/** The log record for one line of bpftrace's stderr. */
export function stderrRecord(line: string): LogRecord {
  if (isHarmlessStderr(line)) return { level: 'debug', msg: line, stream: 'bpftrace-stderr' };
  const level: LogLevel = /\bERROR\b/.test(line) ? 'error' : /\bWARNING\b/.test(line) ? 'warn' : 'info';
  return { level, msg: line, stream: 'bpftrace-stderr' };
}
