// The node agent: watches the Trace ConfigMaps of its own namespace, its own Node and its node's pods, runs every
// trace meant for this node (agent-plan.ts decides, agent-trace.ts runs), serves one /metrics and /healthz for all
// of them, and reports per-trace state in its node's status Lease. The API server may come and go: traces keep running.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { LogRecord } from '../runner.js';
import { NodeReader } from './agent-node.js';
import { KTRACE_VERSION } from './defaults.js';
import { planTraces } from './agent-plan.js';
import { AgentPods } from './agent-pods.js';
import type { AgentPodsOptions } from './agent-pods.js';
import { renderSelfMetrics } from './agent-self-metrics.js';
import { serveAgentMetrics } from './agent-server.js';
import { NodeStatusReporter } from './agent-status.js';
import { AgentTrace } from './agent-trace.js';
import type { AgentTraceOptions } from './agent-trace.js';
import type { RetryPolicy } from './agent-trace-retry.js';
import type { KubeClient } from './kube-client.js';
import { ListWatch } from './list-watch.js';
import type { NodeTraceStatus } from './node-status.js';
import { decodeTraceConfigMap, traceConfigMapSelector } from './trace-document.js';
import type { DecodedTraceConfigMap } from './trace-document.js';

export interface AgentOptions {
  client: KubeClient;
  /** This node's name (--node-name, NODE_NAME). */
  node: string;
  /** Where /metrics and /healthz are served; default 127.0.0.1:9464. */
  listen?: string;
  /** k8s.cluster.name. */
  clusterName?: string;
  bpftrace?: string;
  otlpEndpoint?: string;
  otlpIntervalMillis?: number;
  /** How often the node's status is refreshed even when nothing changed. Default 30 s. */
  heartbeatSeconds?: number;
  onLog?: (record: LogRecord) => void;
  /** Runner options for every trace (restart backoff, stop timeout, env). */
  runner?: AgentTraceOptions['runner'];
  /** How often the node's labels are read again. Default 60 s. */
  nodeRefreshSeconds?: number;
  /** Watch backoff (tests shorten it). */
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** The pod the agent runs in (POD_NAME), for service.instance.id. */
  podName?: string;
  version?: string;
  /**
   * Pod labels on maps keyed by cgroup or pid, and pod selection (default on): one node-scoped pod watch, the host's
   * cgroup tree. `false` turns them off (no pod watch at all; traces that select pods are then skipped).
   */
  podLabels?: AgentPodsOptions['podLabels'];
  /** The most series one trace exports from this node (--max-series-per-trace). Default 20 000. */
  maxSeriesPerTrace?: number;
  /** When a failed trace is tried again (a compile error waits for its document to change). */
  traceRetry?: RetryPolicy;
}

export const defaultMaxSeriesPerTrace = 20_000;

/** The resource attributes of every trace's metrics on this node. */
export function agentResourceAttributes(
  options: Pick<AgentOptions, 'node' | 'clusterName' | 'podName'> & { namespace: string },
): Record<string, string> {
  return {
    'k8s.node.name': options.node,
    'host.name': options.node,
    'service.instance.id':
      options.podName === undefined ? options.node : `${options.namespace}.${options.podName}.agent`,
    ...(options.clusterName === undefined ? {} : { 'k8s.cluster.name': options.clusterName }),
  };
}

export class Agent {
  readonly node: string;
  readonly namespace: string;
  private readonly options: AgentOptions;
  private readonly log: (record: LogRecord) => void;
  private readonly traces = new Map<string, AgentTrace>();
  private readonly others = new Map<string, NodeTraceStatus>();
  private readonly loggedProblems = new Map<string, string>();
  private readonly traceWatch: ListWatch<V1ConfigMap>;
  private readonly nodeReader: NodeReader;
  private readonly pods: AgentPods;
  private readonly status: NodeStatusReporter;
  private mergeConflicts = 0;
  /** Decoded documents by ConfigMap uid and resourceVersion: pod events replan often, documents change rarely. */
  private decoded = new Map<string, DecodedTraceConfigMap>();
  private watching = false;
  private reconcileScheduled = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private server: { url: string; close(): Promise<void> } | undefined;
  private readonly resourceAttributes: Record<string, string>;

  constructor(options: AgentOptions) {
    this.options = options;
    this.node = options.node;
    this.namespace = options.client.namespace;
    this.log = (record) => {
      try {
        options.onLog?.(record);
      } catch {
        // a failing log sink must not stop the agent
      }
    };
    this.resourceAttributes = agentResourceAttributes({ ...options, namespace: this.namespace });
    const backoff = {
      ...(options.minBackoffMillis === undefined ? {} : { minBackoffMillis: options.minBackoffMillis }),
      ...(options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: options.maxBackoffMillis }),
    };
    const { client } = options;
    const namespace = this.namespace;
    this.traceWatch = new ListWatch<V1ConfigMap>({
      ...backoff,
      client,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      call: { verb: 'list', resource: 'configmaps', namespace },
      labelSelector: traceConfigMapSelector,
      list: () => client.core.listNamespacedConfigMap({ namespace, labelSelector: traceConfigMapSelector }),
      onChange: () => this.scheduleReconcile(),
      onSynced: () => {
        if (!this.watching) this.log({ level: 'info', msg: 'watching traces', namespace, server: client.server });
        this.watching = true;
        this.scheduleReconcile();
        this.status.changed();
      },
      onError: (error, retry) => {
        if (this.watching || this.loggedProblems.get('watch') !== error.message) {
          this.log({
            level: 'warn',
            msg: `cannot watch traces: ${error.message}; traces keep running, retrying`,
            retryInMillis: retry,
          });
          this.loggedProblems.set('watch', error.message);
        }
        this.watching = false;
      },
    });
    this.nodeReader = new NodeReader({
      client,
      node: this.node,
      ...(options.nodeRefreshSeconds === undefined ? {} : { refreshSeconds: options.nodeRefreshSeconds }),
      ...(options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: options.maxBackoffMillis }),
      log: this.log,
      onChange: () => this.scheduleReconcile(),
    });
    this.pods = new AgentPods({
      ...backoff,
      client,
      node: this.node,
      podLabels: options.podLabels ?? {},
      log: (level, msg) => this.log({ level, msg }),
      onChange: () => this.scheduleReconcile(),
    });
    this.status = new NodeStatusReporter({
      client,
      node: this.node,
      heartbeatSeconds: options.heartbeatSeconds ?? 30,
      version: options.version ?? KTRACE_VERSION,
      log: this.log,
      snapshot: () => ({ watching: this.watching, traces: this.traceStatuses() }),
    });
  }

  /** Starts serving, watching and reporting. KTRACE_LISTEN when the address cannot be bound. */
  async start(): Promise<{ url: string }> {
    this.server = await serveAgentMetrics(this.options.listen ?? '127.0.0.1:9464', {
      selfMetrics: () => this.selfMetrics(),
      traceExpositions: async () => {
        const parts = [];
        for (const [name, trace] of [...this.traces].sort(([a], [b]) => a.localeCompare(b))) {
          const text = await trace.prometheusText().catch(() => undefined);
          if (text !== undefined) parts.push({ labels: { trace: name }, text });
        }
        return parts;
      },
      onConflict: (families) => {
        this.mergeConflicts++;
        if (this.loggedProblems.get('merge') !== families.join(',')) {
          this.loggedProblems.set('merge', families.join(','));
          this.log({
            level: 'warn',
            msg: `two traces export ${families.join(', ')} with different types: only the first is served; rename one (maps.@m.metric or metrics.prefix)`,
          });
        }
      },
      health: () => `ok: ${this.traces.size} traces, ${this.watching ? 'watching' : 'not watching'} the API server\n`,
    });
    this.pods.start();
    this.traceWatch.start();
    this.nodeReader.start();
    this.status.start();
    this.log({
      level: 'info',
      msg: 'ktrace agent started',
      node: this.node,
      namespace: this.namespace,
      metrics: `${this.server.url}/metrics`,
    });
    return { url: this.server.url };
  }

  /** Stops every trace (final dumps exported), writes a last status, stops serving. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.traceWatch.stop();
    this.nodeReader.stop();
    this.pods.stop();
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    await Promise.all([...this.traces.values()].map((t) => t.stop()));
    this.traces.clear();
    this.others.clear();
    await this.status.stop();
    await this.server?.close();
    this.log({ level: 'info', msg: 'ktrace agent stopped' });
  }

  /** Every trace's state on this node. */
  traceStatuses(): Record<string, NodeTraceStatus> {
    const out: Record<string, NodeTraceStatus> = {};
    for (const [name, status] of this.others) out[name] = status;
    for (const [name, trace] of this.traces) out[name] = trace.status();
    return out;
  }

  private scheduleReconcile(): void {
    if (this.reconcileScheduled || this.stopped) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  private traceFor(name: string): AgentTrace {
    let trace = this.traces.get(name);
    if (trace === undefined) {
      const { options } = this;
      const pods = this.pods.tracePods();
      trace = new AgentTrace(name, {
        resourceAttributes: this.resourceAttributes,
        onLog: (record) => this.log({ ...record, trace: name }),
        onChange: () => this.status.changed(),
        ...(options.bpftrace === undefined ? {} : { bpftrace: options.bpftrace }),
        ...(options.otlpEndpoint === undefined ? {} : { otlpEndpoint: options.otlpEndpoint }),
        ...(options.otlpIntervalMillis === undefined ? {} : { otlpIntervalMillis: options.otlpIntervalMillis }),
        ...(options.runner === undefined ? {} : { runner: options.runner }),
        ...(options.traceRetry === undefined ? {} : { retry: options.traceRetry }),
        ...(pods === undefined ? {} : { pods, selects: (t, pod) => this.pods.selects(t, pod) }),
        maxSeries: options.maxSeriesPerTrace ?? defaultMaxSeriesPerTrace,
      });
      this.traces.set(name, trace);
    }
    return trace;
  }

  private retire(name: string): void {
    const trace = this.traces.get(name);
    if (trace === undefined) return;
    this.traces.delete(name);
    this.log({ level: 'info', msg: 'stopping trace', trace: name });
    void trace.stop().then(() => this.status.changed());
  }

  private documents(): Array<{ configMap: string; decoded: DecodedTraceConfigMap }> {
    const kept = new Map<string, DecodedTraceConfigMap>();
    const out = this.traceWatch.objects().map((configMap) => {
      const key = `${configMap.metadata?.uid ?? configMap.metadata?.name ?? ''}@${configMap.metadata?.resourceVersion ?? ''}`;
      const decoded = this.decoded.get(key) ?? decodeTraceConfigMap(configMap);
      kept.set(key, decoded);
      return { configMap: configMap.metadata?.name ?? '', decoded };
    });
    this.decoded = kept;
    return out;
  }

  private reconcile(): void {
    const documents = this.documents();
    this.pods.watchNamespaces(documents.some((d) => d.decoded.ok && d.decoded.trace.namespaceSelector !== undefined));
    const plans = planTraces(documents, this.nodeReader.view, this.pods.view());
    const planned = new Set(plans.map((p) => p.name));
    for (const name of [...this.traces.keys()]) if (!planned.has(name)) this.retire(name);
    for (const name of [...this.others.keys()]) if (!planned.has(name)) this.others.delete(name);
    for (const plan of plans) {
      if (plan.action === 'run') {
        this.others.delete(plan.name);
        this.loggedProblems.delete(`trace:${plan.name}`);
        const trace = this.traceFor(plan.name);
        if (trace.digest !== plan.trace.digest) {
          this.log({
            level: 'info',
            msg: trace.digest === undefined ? 'starting trace' : 'trace changed: applying it, counters carried',
            trace: plan.name,
            digest: plan.trace.digest,
          });
        }
        trace.want(plan.trace);
        continue;
      }
      this.retire(plan.name);
      const status: NodeTraceStatus =
        plan.action === 'invalid'
          ? { state: 'invalid', error: plan.error }
          : { state: 'skipped', reason: plan.reason, digest: plan.digest };
      const problem = plan.action === 'invalid' ? plan.error : plan.reason;
      if (this.loggedProblems.get(`trace:${plan.name}`) !== problem) {
        this.loggedProblems.set(`trace:${plan.name}`, problem);
        this.log(
          plan.action === 'invalid'
            ? { level: 'error', msg: `invalid trace: ${plan.error}`, trace: plan.name }
            : { level: 'info', msg: `trace skipped: ${plan.reason}`, trace: plan.name },
        );
      }
      this.others.set(plan.name, status);
    }
    this.planAtNextExpiry();
    this.status.changed();
  }

  /** A deleted pod leaves the cache when its grace period ends: a trace left with no selected pod then stops. */
  private planAtNextExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const at = this.pods.nextExpiryAt();
    if (at === undefined) return;
    this.expiryTimer = setTimeout(() => this.scheduleReconcile(), Math.max(0, at - Date.now()) + 10);
    this.expiryTimer.unref();
  }

  private selfMetrics(): string {
    const pods = this.pods.stats();
    return renderSelfMetrics({
      statuses: this.traceStatuses(),
      costs: new Map(
        [...this.traces].map(([name, trace]) => {
          const rssBytes = trace.rssBytes();
          const cpuSeconds = trace.cpuSeconds();
          return [
            name,
            {
              series: trace.seriesCount(),
              ...(rssBytes === undefined ? {} : { rssBytes }),
              ...(cpuSeconds === undefined ? {} : { cpuSeconds }),
            },
          ];
        }),
      ),
      watching: this.watching,
      counters: {
        mergeConflicts: this.mergeConflicts,
        statusWrites: this.status.counters.writes,
        statusWriteFailures: this.status.counters.failures,
      },
      watches: [this.traceWatch.stats],
      nodeReads: this.nodeReader.reads,
      nodeLabelsKnown: this.nodeReader.view.labels !== undefined,
      ...(pods === undefined ? {} : { pods }),
    });
  }
}
