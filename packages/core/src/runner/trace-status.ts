// What a running trace reports about itself (TraceStatus) and how it ended (TraceResult): the public shapes of
// the SDK's runner, kept apart from the machinery that fills them.

export type TraceState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface TraceStatus {
  state: TraceState;
  /** bpftrace's pid while it runs. */
  pid: number | undefined;
  restarts: number;
  bpftracePath: string;
  bpftraceVersion: string;
  attachedProbes: number | undefined;
  /** Map samples received (periodic and final). */
  samples: number;
  /** When the last map sample arrived (ms since epoch). */
  lastDumpAt: number | undefined;
  lostEvents: number;
  /** Bytes bpftrace has written to stdout, all runs together. */
  outputBytes: number;
  /** The maps exported as metrics. */
  exportedMaps: string[];
  /** The /metrics URL when the exporter listens. */
  metricsUrl: string | undefined;
  /** Why bpftrace counts as stalled now (stopped, or silent though it printed before); /healthz says the same. */
  stalled: string | undefined;
  /** Why the trace failed, when state is `failed`. */
  error: string | undefined;
}

export interface TraceResult {
  /** `stopped`: stop(), a signal or the duration; `exited`: the program ended itself (exit()). */
  reason: 'stopped' | 'exited';
  restarts: number;
}
