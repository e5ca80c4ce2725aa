// One cluster trace on this node: runs it with the local runner (startTrace, the same supervisor as `ktrace run`)
// into an exporter the agent owns, so a changed document restarts bpftrace while its counters carry on (same
// exporter, restart recorded) whenever the export shape is unchanged. Changes are applied one at a time, latest wins;
// a failed version is tried again as agent-trace-retry.ts says.
import { readFileSync } from 'node:fs';
import type { Exporter } from '@ktrace/exporter';
import { isKtraceError, KtraceError } from '@ktrace/parser';
import { startTrace } from '../runner.js';
import type { LogRecord, StartTraceOptions, TraceHandle } from '../runner.js';
import { selectsPods } from './agent-selection.js';
import { createTraceExporter, prepareTrace } from './agent-trace-export.js';
import type { PreparedTrace, TracePods } from './agent-trace-export.js';
import { retryAfter } from './agent-trace-retry.js';
import type { RetryPolicy } from './agent-trace-retry.js';
import type { NodeTraceState, NodeTraceStatus } from './node-status.js';
import type { PodMeta } from './pod-cache.js';
import type { ClusterTrace } from './trace-document.js';

export interface AgentTraceOptions {
  /** The bpftrace binary (ktrace agent --bpftrace). */
  bpftrace?: string;
  /** The node's resource attributes (k8s.node.name, …); the trace adds ktrace.trace.name. */
  resourceAttributes: Record<string, string>;
  otlpEndpoint?: string;
  otlpIntervalMillis?: number;
  onLog: (record: LogRecord) => void;
  /** Something a status report shows has changed. */
  onChange: () => void;
  /** Passed to startTrace (restart backoff, stop timeout, env). */
  runner?: Pick<
    StartTraceOptions,
    'env' | 'restartDelayMillis' | 'maxRestartDelayMillis' | 'maxFailedStarts' | 'stopTimeoutMillis'
  >;
  /**
   * Pod labels: maps keyed by `cgroup` or `pid` (or with `podLabels: true`, which adds `cgroup` to their key) get
   * k8s_namespace_name, k8s_pod_name, k8s_container_name and container_id from the node's pods.
   */
  pods?: TracePods;
  /**
   * Whether a trace that selects pods (podSelector, namespaceSelector) selects this pod now; asked at every dump.
   * Without it (or without `pods`), such a trace fails: it would otherwise see every process of the node.
   */
  selects?: (trace: ClusterTrace, pod: PodMeta) => boolean;
  /** The most series one trace exports (the agent's --max-series-per-trace); the spec's limits are capped by it. */
  maxSeries?: number;
  /** When a failed version is tried again. */
  retry?: RetryPolicy;
}

/** Two versions that run the same program the same way and differ only in which pods they select. */
function onlySelectorsDiffer(a: ClusterTrace, b: ClusterTrace): boolean {
  return selectsPods(a) && selectsPods(b) && JSON.stringify(a.spec) === JSON.stringify(b.spec);
}

export class AgentTrace {
  readonly name: string;
  private readonly options: AgentTraceOptions;
  private desired: ClusterTrace | null;
  private running: ClusterTrace | undefined;
  private handle: TraceHandle | undefined;
  private exporter: Exporter | undefined;
  private signature: string | undefined;
  private state: NodeTraceState = 'starting';
  private error: string | undefined;
  /** The digest that failed: not tried again until the document changes or its retry is due. */
  private failedDigest: string | undefined;
  /** Consecutive failures of the version that failed last. */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The failed version is to be started again although it is the one that ran. */
  private retryDue = false;
  private pumping: Promise<void> | undefined;

  constructor(name: string, options: AgentTraceOptions) {
    this.name = name;
    this.options = options;
    this.desired = null;
  }

  /** Run this version of the trace (start it, or restart it if it changed). */
  want(trace: ClusterTrace): void {
    if (trace.digest !== this.desired?.digest && trace.digest !== this.failedDigest) this.clearRetry();
    this.desired = trace;
    this.pump();
  }

  /** Stop it (its final dump is exported, then its series go) and resolve when stopped. */
  async stop(): Promise<void> {
    this.desired = null;
    this.clearRetry();
    this.pump();
    while (this.pumping !== undefined) await this.pumping;
  }

  get digest(): string | undefined {
    return this.running?.digest;
  }

  status(): NodeTraceStatus {
    const s = this.handle?.status();
    const out: NodeTraceStatus = { state: this.state };
    if (this.running !== undefined) out.digest = this.running.digest;
    if (s !== undefined) {
      if (s.attachedProbes !== undefined) out.attachedProbes = s.attachedProbes;
      if (s.lastDumpAt !== undefined) out.lastDumpAt = new Date(s.lastDumpAt).toISOString();
      out.restarts = s.restarts;
      out.samples = s.samples;
    }
    if (this.exporter !== undefined) out.series = this.exporter.store.exportedSeries;
    if (this.error !== undefined) out.error = this.error;
    return out;
  }

  /** bpftrace's pid while it runs. */
  pid(): number | undefined {
    return this.handle?.status().pid;
  }

  /** bpftrace's resident memory in bytes (from /proc), while it runs. */
  rssBytes(): number | undefined {
    const pid = this.pid();
    if (pid === undefined) return undefined;
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match === null ? undefined : Number(match[1]) * 1024;
    } catch {
      return undefined;
    }
  }

  /** CPU seconds (user + system) of the bpftrace process running now: starts again from 0 when it restarts. */
  cpuSeconds(): number | undefined {
    const pid = this.pid();
    if (pid === undefined) return undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime (fields 14 and 15), in USER_HZ ticks: 100 per second on Linux
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return undefined;
    }
  }

  /** Prometheus series this trace exports now, as --max-series-per-trace counts them. */
  seriesCount(): number {
    return this.exporter?.store.exportedSeries ?? 0;
  }

  /** This trace's exposition (series and self-metrics), or undefined when nothing is exported. */
  async prometheusText(): Promise<string | undefined> {
    return this.exporter?.prometheusText();
  }

  private setState(state: NodeTraceState, error?: string): void {
    const changed = state !== this.state || error !== this.error;
    this.state = state;
    this.error = error;
    if (changed) this.options.onChange();
  }

  private pump(): void {
    if (this.pumping !== undefined) return;
    this.pumping = (async () => {
      // let the assignment above happen first: a body that finishes without awaiting would otherwise clear
      // `pumping` before it is set, and every later change would wait forever behind it
      await Promise.resolve();
      try {
        for (;;) {
          const desired = this.desired;
          if (desired === null) {
            if (this.running === undefined && this.exporter === undefined) break;
            await this.stopRun();
            await this.dropExporter();
            this.running = undefined;
            this.setState('stopping');
            continue;
          }
          if (!this.needsStart(desired)) break;
          await this.startRun(desired);
        }
      } finally {
        this.pumping = undefined;
      }
      // a change that arrived during the last step
      if (
        this.desired === null
          ? this.running !== undefined || this.exporter !== undefined
          : this.needsStart(this.desired)
      ) {
        this.pump();
      }
    })();
  }

  /** A version not failed (or whose retry is due) and not the one running. */
  private needsStart(desired: ClusterTrace): boolean {
    return desired.digest !== this.failedDigest && (desired.digest !== this.running?.digest || this.retryDue);
  }

  private async stopRun(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle === undefined) return;
    this.options.onLog({ level: 'debug', msg: 'stopping bpftrace', pid: handle.status().pid });
    try {
      await handle.stop();
    } catch {
      // its failure was reported when it happened
    }
  }

  private async dropExporter(): Promise<void> {
    const exporter = this.exporter;
    this.exporter = undefined;
    this.signature = undefined;
    await exporter?.shutdown().catch(() => undefined);
  }

  private async startRun(trace: ClusterTrace): Promise<void> {
    if (this.handle !== undefined && this.running !== undefined && onlySelectorsDiffer(this.running, trace)) {
      // applied at export: the running bpftrace and its counters go on untouched
      this.running = trace;
      this.options.onLog({ level: 'info', msg: 'the pod selection changed: applied without restarting bpftrace' });
      this.options.onChange();
      return;
    }
    const restart = this.running !== undefined;
    this.retryDue = false;
    await this.stopRun();
    let prepared: PreparedTrace;
    try {
      const selecting = selectsPods(trace);
      if (selecting && (this.options.pods === undefined || this.options.selects === undefined)) {
        throw new KtraceError({
          code: 'KTRACE_MISSING_KERNEL_FEATURE',
          message: `trace ${trace.name} selects pods, but this agent has no pod labels (--no-pod-labels, or no cgroup v2 tree): it is not run, since it would see every process of the node`,
        });
      }
      prepared = prepareTrace(trace.spec, {
        selecting,
        ...(this.options.maxSeries === undefined ? {} : { maxSeries: this.options.maxSeries }),
      });
    } catch (error) {
      this.fail(trace, error);
      return;
    }
    if (this.exporter !== undefined && prepared.signature !== this.signature) {
      this.options.onLog({
        level: 'info',
        msg: 'the trace exports other series now: its series start again',
        trace: trace.name,
      });
      await this.dropExporter();
    }
    if (this.exporter === undefined) {
      this.exporter = this.exporterFor(trace, prepared);
      this.signature = prepared.signature;
    } else if (restart) {
      // bpftrace starts again from zero: what it printed so far is carried, so counters stay monotonic.
      this.exporter.recordRestart();
    }
    this.running = trace;
    this.failedDigest = undefined;
    this.setState(restart ? 'restarting' : 'starting');
    let handle: TraceHandle;
    try {
      handle = await startTrace({
        ...this.options.runner,
        spec: prepared.spec,
        exporter: this.exporter,
        ...(this.options.bpftrace === undefined ? {} : { bpftrace: this.options.bpftrace }),
        onLog: (record) => {
          this.options.onLog(record);
          if (
            record.msg === 'bpftrace attached probes' ||
            record.msg === 'first map sample exported' ||
            record.msg === 'restarting bpftrace'
          ) {
            this.syncState();
          }
        },
      });
    } catch (error) {
      this.fail(trace, error);
      return;
    }
    if (this.desired === null || this.desired.digest !== trace.digest) {
      // changed while bpftrace was being checked and started: the pump applies the newer wish
      this.handle = handle;
      return;
    }
    this.handle = handle;
    this.syncState();
    handle.done.then(
      () => {
        if (this.handle === handle) {
          this.handle = undefined;
          this.setState('stopping');
        }
      },
      (error: unknown) => {
        if (this.handle === handle) {
          this.handle = undefined;
          this.fail(trace, error);
        }
      },
    );
  }

  private exporterFor(trace: ClusterTrace, prepared: PreparedTrace): Exporter {
    const selects = this.options.selects;
    return createTraceExporter({
      name: trace.name,
      prepared,
      resourceAttributes: this.options.resourceAttributes,
      ...(this.options.otlpEndpoint === undefined ? {} : { otlpEndpoint: this.options.otlpEndpoint }),
      ...(this.options.otlpIntervalMillis === undefined ? {} : { otlpIntervalMillis: this.options.otlpIntervalMillis }),
      ...(this.options.pods === undefined ? {} : { pods: this.options.pods }),
      // the version running now decides: a changed selector applies with the same exporter
      ...(selects === undefined || !selectsPods(trace)
        ? {}
        : { select: (pod: PodMeta) => this.running !== undefined && selects(this.running, pod) }),
      onWarning: (message) => this.options.onLog({ level: 'warn', msg: message }),
    });
  }

  private syncState(): void {
    const s = this.handle?.status().state;
    if (s === 'running') this.failures = 0;
    if (s === 'running' || s === 'restarting' || s === 'starting') this.setState(s, undefined);
    else this.options.onChange();
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
  }

  private fail(trace: ClusterTrace, error: unknown): void {
    this.failedDigest = trace.digest;
    this.failures++;
    const message = isKtraceError(error) ? error.message : String(error);
    const decision = retryAfter(error, this.failures, this.options.retry);
    const next = decision.retry
      ? `retrying in ${decision.inMillis < 1000 ? `${decision.inMillis} ms` : `${Math.round(decision.inMillis / 1000)} s`}`
      : decision.why;
    this.options.onLog({
      level: 'error',
      msg: `trace ${trace.name} failed: ${message}; ${next}`,
      trace: trace.name,
      ...(isKtraceError(error) ? { code: error.code } : {}),
    });
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (decision.retry) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.failedDigest !== trace.digest) return;
        this.failedDigest = undefined;
        this.retryDue = true;
        this.options.onLog({ level: 'info', msg: 'retrying the failed trace', trace: trace.name });
        this.pump();
      }, decision.inMillis);
      this.retryTimer.unref();
    }
    this.setState('failed', `${message} (${next})`);
  }
}
