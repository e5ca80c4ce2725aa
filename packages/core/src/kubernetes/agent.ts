// The node agent: watches the Trace ConfigMaps of its own namespace and its own Node, runs every trace meant for
// this node (agent-plan.ts decides, agent-trace.ts runs), serves one /metrics and /healthz for all of them, and
// reports per-trace state in its node's status Lease. The API server may come and go: traces keep running.
import { hostname } from 'node:os';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import type { LogRecord } from '../runner.js';
import { AgentTrace } from './agent-trace.js';
import type { AgentTraceOptions } from './agent-trace.js';
import { planTraces } from './agent-plan.js';
import type { NodeView } from './agent-plan.js';
import { serveAgentMetrics } from './agent-server.js';
import { renderSelfMetrics } from './agent-self-metrics.js';
import type { AgentCounters } from './agent-self-metrics.js';
import type { KubeClient } from './kube-client.js';
import { agentFieldManager } from './kube-client.js';
import { ListWatch } from './list-watch.js';
import { CgroupTree } from './cgroup-tree.js';
import { nodeStatusLease } from './node-status.js';
import { PodCache } from './pod-cache.js';
import { PodWatch } from './pod-watch.js';
import type { NodeStatus, NodeTraceStatus } from './node-status.js';
import { decodeTraceConfigMap, traceConfigMapSelector } from './trace-document.js';

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
   * Pod labels on maps keyed by cgroup or pid (default on): one node-scoped pod watch, the host's cgroup tree.
   * `false` turns them off (no pod watch at all).
   */
  podLabels?: false | { deletedGraceMillis?: number; workload?: boolean; hostRoot?: string };
}

/** The resource attributes of every trace's metrics on this node. */
export function agentResourceAttributes(options: Pick<AgentOptions, 'node' | 'clusterName' | 'podName'> & { namespace: string }): Record<string, string> {
  return {
    'k8s.node.name': options.node,
    'host.name': options.node,
    'service.instance.id': options.podName === undefined ? options.node : `${options.namespace}.${options.podName}.agent`,
    ...(options.clusterName === undefined ? {} : { 'k8s.cluster.name': options.clusterName }),
  };
}

export class Agent {
  readonly node: string;
  readonly namespace: string;
  private readonly options: AgentOptions;
  private readonly client: KubeClient;
  private readonly log: (record: LogRecord) => void;
  private readonly traces = new Map<string, AgentTrace>();
  private readonly others = new Map<string, NodeTraceStatus>();
  private readonly loggedProblems = new Map<string, string>();
  private readonly traceWatch: ListWatch<V1ConfigMap>;
  private nodeTimer: NodeJS.Timeout | undefined;
  private readonly nodeReads = { gets: 0, failures: 0 };
  private nodeView: NodeView;
  private readonly counters: AgentCounters = { statusWrites: 0, statusWriteFailures: 0, mergeConflicts: 0 };
  private watching = false;
  private reconcileScheduled = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private statusFailing = false;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private server: { url: string; close(): Promise<void> } | undefined;
  private readonly startedAt = new Date().toISOString();
  private readonly resourceAttributes: Record<string, string>;
  private pods: { tree: CgroupTree; cache: PodCache; watch: PodWatch; workload: boolean } | undefined;

  constructor(options: AgentOptions) {
    this.options = options;
    this.client = options.client;
    this.node = options.node;
    this.namespace = options.client.namespace;
    this.log = (record) => {
      try {
        options.onLog?.(record);
      } catch {
        // a failing log sink must not stop the agent
      }
    };
    this.nodeView = { name: options.node, labels: undefined };
    this.resourceAttributes = agentResourceAttributes({ ...options, namespace: this.namespace });
    const backoff = {
      ...(options.minBackoffMillis === undefined ? {} : { minBackoffMillis: options.minBackoffMillis }),
      ...(options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: options.maxBackoffMillis }),
    };
    const namespace = this.namespace;
    this.traceWatch = new ListWatch<V1ConfigMap>({
      ...backoff,
      client: this.client,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      call: { verb: 'list', resource: 'configmaps', namespace },
      labelSelector: traceConfigMapSelector,
      list: () => this.client.core.listNamespacedConfigMap({ namespace, labelSelector: traceConfigMapSelector }),
      onChange: () => this.scheduleReconcile(),
      onSynced: () => {
        if (!this.watching) this.log({ level: 'info', msg: 'watching traces', namespace, server: this.client.server });
        this.watching = true;
        this.scheduleReconcile();
        this.writeStatusSoon();
      },
      onError: (error, retry) => {
        if (this.watching || this.loggedProblems.get('watch') !== error.message) {
          this.log({ level: 'warn', msg: `cannot watch traces: ${error.message}; traces keep running, retrying`, retryInMillis: retry });
          this.loggedProblems.set('watch', error.message);
        }
        this.watching = false;
      },
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
        this.counters.mergeConflicts++;
        if (this.loggedProblems.get('merge') !== families.join(',')) {
          this.loggedProblems.set('merge', families.join(','));
          this.log({ level: 'warn', msg: `two traces export ${families.join(', ')} with different types: only the first is served; rename one (maps.@m.metric or metrics.prefix)` });
        }
      },
      health: () => `ok: ${this.traces.size} traces, ${this.watching ? 'watching' : 'not watching'} the API server\n`,
    });
    this.startPodLabels();
    this.traceWatch.start();
    void this.readNode();
    const heartbeat = (this.options.heartbeatSeconds ?? 30) * 1000;
    this.heartbeat = setInterval(() => this.writeStatusSoon(0), heartbeat);
    this.log({ level: 'info', msg: 'ktrace agent started', node: this.node, namespace: this.namespace, metrics: `${this.server.url}/metrics` });
    return { url: this.server.url };
  }

  /** Stops every trace (final dumps exported), writes a last status, stops serving. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.traceWatch.stop();
    if (this.nodeTimer !== undefined) clearTimeout(this.nodeTimer);
    this.pods?.watch.stop();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    if (this.statusTimer !== undefined) clearTimeout(this.statusTimer);
    await Promise.all([...this.traces.values()].map((t) => t.stop()));
    this.traces.clear();
    this.others.clear();
    await this.writing;
    await this.writeStatus().catch(() => undefined);
    await this.server?.close();
    this.log({ level: 'info', msg: 'ktrace agent stopped' });
  }

  /** One pod watch for the node and the host's cgroup tree, shared by every trace; without cgroup2, no pod labels. */
  private startPodLabels(): void {
    const options = this.options.podLabels;
    if (options === false) return;
    let tree: CgroupTree;
    try {
      tree = new CgroupTree(options?.hostRoot === undefined ? {} : { hostRoot: options.hostRoot });
    } catch (error) {
      this.log({ level: 'warn', msg: `no pod labels: ${isKtraceError(error) || error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const cache = new PodCache({ nodeName: this.node, ...(options?.deletedGraceMillis === undefined ? {} : { deletedGraceMillis: options.deletedGraceMillis }) });
    const watch = new PodWatch({
      kubeConfig: this.client.kubeConfig,
      nodeName: this.node,
      cache,
      ...(this.options.minBackoffMillis === undefined ? {} : { initialBackoffMillis: this.options.minBackoffMillis }),
      ...(this.options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: this.options.maxBackoffMillis }),
      onLog: (level, message) => this.log({ level, msg: `pod watch: ${message}` }),
    });
    watch.start();
    this.pods = { tree, cache, watch, workload: options?.workload ?? false };
  }

  /**
   * Reads this node's labels (a get, which is all the RBAC grants), again every nodeRefreshSeconds: node labels
   * change rarely, and a get per minute costs the API server less than a watch per node.
   */
  private async readNode(): Promise<void> {
    if (this.stopped) return;
    const before = JSON.stringify(this.nodeView);
    this.nodeReads.gets++;
    try {
      const node = await this.client.call({ verb: 'get', resource: 'nodes', name: this.node }, () => this.client.core.readNode({ name: this.node }));
      this.nodeView = { name: this.node, labels: { ...(node.metadata?.labels ?? {}) } };
    } catch (error) {
      this.nodeReads.failures++;
      const message = isKtraceError(error) ? error.message : String(error);
      // labels once read stay good while the API server is away
      if (this.nodeView.labels === undefined) this.nodeView = { name: this.node, labels: undefined, unknownBecause: message };
      if (this.loggedProblems.get('node') !== message) {
        this.loggedProblems.set('node', message);
        this.log({ level: 'warn', msg: `cannot read node ${this.node}: ${message}${this.nodeView.labels === undefined ? '; traces with a nodeSelector wait' : ''}` });
      }
    }
    if (JSON.stringify(this.nodeView) !== before) this.scheduleReconcile();
    const retry = this.nodeView.labels === undefined ? Math.min(this.options.maxBackoffMillis ?? 30_000, 5_000) : (this.options.nodeRefreshSeconds ?? 60) * 1000;
    if (!this.stopped) {
      this.nodeTimer = setTimeout(() => void this.readNode(), retry);
      this.nodeTimer.unref();
    }
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
      trace = new AgentTrace(name, {
        resourceAttributes: this.resourceAttributes,
        onLog: (record) => this.log({ ...record, trace: name }),
        onChange: () => this.writeStatusSoon(),
        ...(this.options.bpftrace === undefined ? {} : { bpftrace: this.options.bpftrace }),
        ...(this.options.otlpEndpoint === undefined ? {} : { otlpEndpoint: this.options.otlpEndpoint }),
        ...(this.options.otlpIntervalMillis === undefined ? {} : { otlpIntervalMillis: this.options.otlpIntervalMillis }),
        ...(this.options.runner === undefined ? {} : { runner: this.options.runner }),
        ...(this.pods === undefined ? {} : { pods: { tree: this.pods.tree, cache: this.pods.cache, workload: this.pods.workload } }),
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
    void trace.stop().then(() => this.writeStatusSoon());
  }

  private reconcile(): void {
    const documents = this.traceWatch.objects().map((configMap) => ({ configMap: configMap.metadata?.name ?? '', decoded: decodeTraceConfigMap(configMap) }));
    const plans = planTraces(documents, this.nodeView);
    const planned = new Set(plans.map((p) => p.name));
    for (const name of [...this.traces.keys()]) if (!planned.has(name)) this.retire(name);
    for (const name of [...this.others.keys()]) if (!planned.has(name)) this.others.delete(name);
    for (const plan of plans) {
      if (plan.action === 'run') {
        this.others.delete(plan.name);
        const trace = this.traceFor(plan.name);
        if (trace.digest !== plan.trace.digest) {
          this.log({ level: 'info', msg: trace.digest === undefined ? 'starting trace' : 'trace changed: restarting it, counters carried', trace: plan.name, digest: plan.trace.digest });
          if (plan.trace.podSelector !== undefined || plan.trace.namespaceSelector !== undefined) {
            this.log({ level: 'warn', msg: 'podSelector and namespaceSelector are not applied by this agent yet: the trace sees every process of the node', trace: plan.name });
          }
        }
        trace.want(plan.trace);
        continue;
      }
      this.retire(plan.name);
      const status: NodeTraceStatus =
        plan.action === 'invalid' ? { state: 'invalid', error: plan.error } : { state: 'skipped', reason: plan.reason, digest: plan.digest };
      const problem = plan.action === 'invalid' ? plan.error : plan.reason;
      if (this.loggedProblems.get(`trace:${plan.name}`) !== problem) {
        this.loggedProblems.set(`trace:${plan.name}`, problem);
        this.log(plan.action === 'invalid' ? { level: 'error', msg: `invalid trace: ${plan.error}`, trace: plan.name } : { level: 'info', msg: `trace skipped: ${plan.reason}`, trace: plan.name });
      }
      this.others.set(plan.name, status);
    }
    this.writeStatusSoon();
  }

  /** Every trace's state on this node. */
  traceStatuses(): Record<string, NodeTraceStatus> {
    const out: Record<string, NodeTraceStatus> = {};
    for (const [name, status] of this.others) out[name] = status;
    for (const [name, trace] of this.traces) out[name] = trace.status();
    return out;
  }

  private nodeStatus(): NodeStatus {
    return {
      node: this.node,
      updatedAt: new Date().toISOString(),
      heartbeatSeconds: this.options.heartbeatSeconds ?? 30,
      agent: { version: this.options.version ?? '0.1.0', startedAt: this.startedAt, pid: process.pid, ...(hostname() === '' ? {} : {}) },
      watching: this.watching,
      traces: this.stopped ? {} : this.traceStatuses(),
    };
  }

  private writeStatusSoon(delayMillis = 500): void {
    if (this.stopped || this.statusTimer !== undefined) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (this.writing !== undefined) {
        this.writeStatusSoon(delayMillis);
        return;
      }
      this.writing = this.writeStatus()
        .catch(() => undefined)
        .finally(() => {
          this.writing = undefined;
        });
    }, delayMillis);
    this.statusTimer.unref();
  }

  private async writeStatus(): Promise<void> {
    try {
      await this.client.apply(nodeStatusLease(this.nodeStatus(), this.namespace), { fieldManager: agentFieldManager, force: true });
      this.counters.statusWrites++;
      if (this.statusFailing) this.log({ level: 'info', msg: 'node status written again' });
      this.statusFailing = false;
    } catch (error) {
      this.counters.statusWriteFailures++;
      if (!this.statusFailing) this.log({ level: 'warn', msg: `cannot write the node status: ${isKtraceError(error) ? error.message : String(error)}; retrying at the next change or heartbeat` });
      this.statusFailing = true;
      throw error;
    }
  }

  private selfMetrics(): string {
    return renderSelfMetrics({
      statuses: this.traceStatuses(),
      rss: new Map([...this.traces].map(([name, trace]) => [name, trace.rssBytes()])),
      watching: this.watching,
      counters: this.counters,
      watches: [this.traceWatch.stats],
      nodeReads: this.nodeReads,
      nodeLabelsKnown: this.nodeView.labels !== undefined,
      ...(this.pods === undefined ? {} : { pods: { cached: this.pods.cache.size, watch: this.pods.watch.status() } }),
    });
  }
}
