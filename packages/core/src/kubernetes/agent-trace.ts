// One cluster trace on this node: runs it with the local runner (startTrace, the same supervisor as `ktrace run`)
// into an exporter the agent owns, so a changed document restarts bpftrace while its counters carry on (same
// exporter, restart recorded) whenever the export shape is unchanged. Changes are applied one at a time, latest wins.
import { readFileSync } from 'node:fs';
import { createExporter } from '@ktrace/exporter';
import type { Exporter, ExporterOptions } from '@ktrace/exporter';
import { isKtraceError } from '@ktrace/parser';
import type { ProgramInfo } from '@ktrace/parser';
import { exporterOptionsFor } from '../exporter-options.js';
import { addCgroupKey, podLabelsMaps } from '../key-rewrite.js';
import { startTrace } from '../runner.js';
import { planTrace } from '../runner/trace-plan.js';
import type { TracePlan } from '../runner/trace-plan.js';
import type { LogRecord, StartTraceOptions, TraceHandle } from '../runner.js';
import type { TraceSpec } from '../trace-spec.js';
import type { CgroupTree } from './cgroup-tree.js';
import type { NodeTraceState, NodeTraceStatus } from './node-status.js';
import type { PodCache } from './pod-cache.js';
import { PodLabeler, podLabeledMaps } from './pod-labels.js';
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
  runner?: Pick<StartTraceOptions, 'env' | 'restartDelayMillis' | 'maxRestartDelayMillis' | 'maxFailedStarts' | 'stopTimeoutMillis'>;
  /**
   * Pod labels: maps keyed by `cgroup` or `pid` (or with `podLabels: true`, which adds `cgroup` to their key) get
   * k8s_namespace_name, k8s_pod_name, k8s_container_name and container_id from the node's pods.
   */
  pods?: { tree: CgroupTree; cache: PodCache; workload?: boolean };
}

/** The program as bpftrace runs it: `podLabels: true` maps get `cgroup` added to their key first. */
function withPodKeys(spec: TraceSpec): TraceSpec {
  const maps = podLabelsMaps(spec.maps);
  if (maps.length === 0) return spec;
  return { ...spec, program: addCgroupKey(spec.program, maps).source };
}

/** An exporter whose map samples pass through the pod labeler first. */
function labelled(exporter: Exporter, labeler: PodLabeler): Exporter {
  return {
    store: exporter.store,
    handle(event) {
      if (event.type === 'map') {
        exporter.handle(labeler.rewrite(event));
        return;
      }
      // a new bpftrace run: its maps start empty
      if (event.type === 'attached') labeler.restarted();
      exporter.handle(event);
    },
    recordRestart() {
      labeler.restarted();
      exporter.recordRestart();
    },
    setUp: (up) => exporter.setUp(up),
    start: () => exporter.start(),
    prometheusText: () => exporter.prometheusText(),
    shutdown: () => exporter.shutdown(),
  };
}

/** What decides how samples become series: while it is unchanged, one exporter (and its counters) carries on. */
function exportSignature(spec: TraceSpec, program: ProgramInfo): string {
  return JSON.stringify({
    maps: program.maps.map((m) => [m.name, m.kind, m.args, m.keyArity, m.keyNames, m.cleared, m.clearedApart ?? false, m.partial ?? false]),
    options: spec.maps,
    include: spec.include ?? null,
    prefix: spec.metrics.prefix ?? null,
    limits: [spec.limits.maxSeries, spec.limits.maxSeriesPerMap, spec.limits.maxLabelValueLength, spec.limits.expireAfterDumps],
    resource: spec.metrics.resourceAttributes ?? null,
    otlp: [spec.metrics.otlpEndpoint ?? null, spec.metrics.otlpIntervalMillis ?? null],
  });
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
  /** The digest that failed: not tried again until the document changes. */
  private failedDigest: string | undefined;
  private pumping: Promise<void> | undefined;

  constructor(name: string, options: AgentTraceOptions) {
    this.name = name;
    this.options = options;
    this.desired = null;
  }

  /** Run this version of the trace (start it, or restart it if it changed). */
  want(trace: ClusterTrace): void {
    this.desired = trace;
    this.pump();
  }

  /** Stop it (its final dump is exported, then its series go) and resolve when stopped. */
  async stop(): Promise<void> {
    this.desired = null;
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
    if (this.exporter !== undefined) out.series = this.exporter.store.size;
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
          if (desired.digest === this.running?.digest || desired.digest === this.failedDigest) break;
          await this.startRun(desired);
        }
      } finally {
        this.pumping = undefined;
      }
      // a change that arrived during the last step
      if (this.desired === null ? this.running !== undefined || this.exporter !== undefined : this.desired.digest !== this.running?.digest && this.desired.digest !== this.failedDigest) {
        this.pump();
      }
    })();
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

  /** The exporter of a trace (with the pod labeler in front when its maps are keyed by cgroup or pid). */
  private exporterFor(trace: ClusterTrace, spec: TraceSpec, plan: TracePlan): Exporter {
    const program = plan.programInfo;
    const { listen: _listen, ...metrics } = spec.metrics;
    const maps = { ...spec.maps };
    let labeler: PodLabeler | undefined;
    const pods = this.options.pods;
    if (pods !== undefined) {
      const keyed = podLabeledMaps(program, { only: plan.instrumented.exported });
      if (Object.keys(keyed).length > 0) {
        labeler = new PodLabeler({
          cgroupPath: (id) => pods.tree.pathOf(id),
          procCgroup: (pid) => pods.tree.procCgroupOf(pid),
          resolvePod: (info) => pods.cache.resolve(info),
          maps: keyed,
          ...(pods.workload === undefined ? {} : { workload: pods.workload }),
        });
        for (const name of Object.keys(keyed)) {
          const info = program.maps.find((m) => m.name === name);
          maps[name] = { ...maps[name], labels: labeler.labelNames(name, maps[name]?.labels ?? info?.keyNames ?? []) };
        }
      }
    }
    const options: ExporterOptions = {
      ...exporterOptionsFor({ program, maps, include: plan.instrumented.exported, metrics, limits: spec.limits }),
      resourceAttributes: { ...this.options.resourceAttributes, ...spec.metrics.resourceAttributes, 'ktrace.trace.name': trace.name },
      onWarning: (message) => this.options.onLog({ level: 'warn', msg: message }),
    };
    const otlp = spec.metrics.otlpEndpoint ?? this.options.otlpEndpoint;
    if (otlp !== undefined) options.otlpEndpoint = otlp;
    const otlpInterval = spec.metrics.otlpIntervalMillis ?? this.options.otlpIntervalMillis;
    if (otlpInterval !== undefined) options.otlpIntervalMillis = otlpInterval;
    const exporter = createExporter(options);
    return labeler === undefined ? exporter : labelled(exporter, labeler);
  }

  private async startRun(trace: ClusterTrace): Promise<void> {
    const restart = this.running !== undefined;
    await this.stopRun();
    let spec: TraceSpec;
    let plan: TracePlan;
    try {
      spec = withPodKeys(trace.spec);
      plan = planTrace(spec);
    } catch (error) {
      this.fail(trace, error);
      return;
    }
    const signature = exportSignature(spec, plan.programInfo);
    if (this.exporter !== undefined && signature !== this.signature) {
      this.options.onLog({ level: 'info', msg: 'the trace exports other series now: its series start again', trace: trace.name });
      await this.dropExporter();
    }
    if (this.exporter === undefined) {
      this.exporter = this.exporterFor(trace, spec, plan);
      this.signature = signature;
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
        spec,
        exporter: this.exporter,
        ...(this.options.bpftrace === undefined ? {} : { bpftrace: this.options.bpftrace }),
        onLog: (record) => {
          this.options.onLog(record);
          if (record.msg === 'bpftrace attached probes' || record.msg === 'first map sample exported' || record.msg === 'restarting bpftrace') {
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

  private syncState(): void {
    const s = this.handle?.status().state;
    if (s === 'running' || s === 'restarting' || s === 'starting') this.setState(s, undefined);
    else this.options.onChange();
  }

  private fail(trace: ClusterTrace, error: unknown): void {
    this.failedDigest = trace.digest;
    const message = isKtraceError(error) ? error.message : String(error);
    this.options.onLog({ level: 'error', msg: `trace ${trace.name} failed: ${message}`, trace: trace.name, ...(isKtraceError(error) ? { code: error.code } : {}) });
    this.setState('failed', message);
  }
}
