// What the agent knows of its node's pods, for pod labels and pod selection: the host's cgroup tree, one
// node-scoped pod watch feeding the pod cache, and — only while some trace has a namespaceSelector — one cluster-wide
// watch of Namespace objects for their labels. Every trace shares them; changes are reported so traces are replanned.
import type { V1Namespace } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import { podSelected, selectsPods } from './agent-selection.js';
import type { PodSelectionView, SelectorsOf } from './agent-selection.js';
import type { TracePods } from './agent-trace-export.js';
import { CgroupTree } from './cgroup-tree.js';
import type { KubeClient } from './kube-client.js';
import { ListWatch } from './list-watch.js';
import type { ListWatchStats, ListWatchStatus } from './list-watch.js';
import { PodCache } from './pod-cache.js';
import type { PodMeta } from './pod-cache.js';
import { PodWatch } from './pod-watch.js';

export interface AgentPodsOptions {
  client: KubeClient;
  node: string;
  /** `false`: no pod labels, no pod watch, and traces that select pods are not run. */
  podLabels: false | { deletedGraceMillis?: number; workload?: boolean; hostRoot?: string; maxPods?: number };
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
  log: (level: 'info' | 'warn', message: string) => void;
  /** Pods or namespace labels changed: plans may change. */
  onChange: () => void;
}

export interface AgentPodsStats {
  cached: number;
  watch: ListWatchStatus;
  /** The namespace watch's requests, while it runs or since it last ran. */
  namespaces: ListWatchStats;
}

export class AgentPods {
  private readonly options: AgentPodsOptions;
  private readonly live: { tree: CgroupTree; cache: PodCache; watch: PodWatch; workload: boolean } | undefined;
  /** Why there are no pod labels on this agent. */
  private readonly missing: string | undefined;
  private namespaceWatch: ListWatch<V1Namespace> | undefined;
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  /** The requests of namespace watches stopped earlier. */
  private readonly retiredNamespaceStats: ListWatchStats = { lists: 0, watches: 0, failures: 0 };
  private namespaceProblem: string | undefined;

  constructor(options: AgentPodsOptions) {
    this.options = options;
    const podLabels = options.podLabels;
    if (podLabels === false) {
      this.missing = 'this agent runs without pod labels (--no-pod-labels)';
      return;
    }
    let tree: CgroupTree;
    try {
      tree = new CgroupTree(podLabels.hostRoot === undefined ? {} : { hostRoot: podLabels.hostRoot });
    } catch (error) {
      const message = isKtraceError(error) || error instanceof Error ? error.message : String(error);
      options.log('warn', `no pod labels: ${message}`);
      this.missing = `no pod labels on this node: ${message}`;
      return;
    }
    const cache = new PodCache({
      nodeName: options.node,
      onChange: options.onChange,
      ...(podLabels.deletedGraceMillis === undefined ? {} : { deletedGraceMillis: podLabels.deletedGraceMillis }),
      ...(podLabels.maxPods === undefined ? {} : { maxPods: podLabels.maxPods }),
    });
    const watch = new PodWatch({
      client: options.client,
      nodeName: options.node,
      cache,
      ...(options.minBackoffMillis === undefined ? {} : { initialBackoffMillis: options.minBackoffMillis }),
      ...(options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: options.maxBackoffMillis }),
      onLog: (level, message) => options.log(level, `pod watch: ${message}`),
    });
    this.live = { tree, cache, watch, workload: podLabels.workload ?? false };
    // the first list is a change too: traces that wait for it are planned again
    void watch.synced().then(options.onChange);
  }

  start(): void {
    this.live?.watch.start();
  }

  stop(): void {
    this.live?.watch.stop();
    this.watchNamespaces(false);
  }

  /** What a trace's exporter needs for pod labels; undefined without pod labels. */
  tracePods(): TracePods | undefined {
    const live = this.live;
    if (live === undefined) return undefined;
    return { tree: live.tree, cache: live.cache, workload: live.workload, current: () => live.watch.current() };
  }

  /** Whether the trace selects this pod now. */
  selects(trace: SelectorsOf, pod: PodMeta): boolean {
    return podSelected(trace, pod, (namespace) => this.namespaceLabels.get(namespace));
  }

  /** For planning: can pods be judged, and how many a trace selects. */
  view(): PodSelectionView {
    const live = this.live;
    const watch = live?.watch.status();
    const unavailable =
      this.missing ??
      (watch?.synced === true
        ? undefined
        : `the pods of node ${this.options.node} are not listed yet${watch?.lastError === undefined ? '' : ` (${watch.lastError})`}`);
    const namespacesUnavailable =
      this.namespaceWatch?.synced === true
        ? undefined
        : `the namespaces are not listed yet${this.namespaceProblem === undefined ? '' : ` (${this.namespaceProblem})`}`;
    const pods = unavailable === undefined ? (live?.cache.list() ?? []) : [];
    return {
      ...(unavailable === undefined ? {} : { unavailable }),
      ...(namespacesUnavailable === undefined ? {} : { namespacesUnavailable }),
      selected: (trace) => (selectsPods(trace) ? pods.filter((pod) => this.selects(trace, pod)).length : pods.length),
    };
  }

  /** When a deleted pod's grace period ends (a trace may then have no pod left), if one is pending. */
  nextExpiryAt(): number | undefined {
    return this.live?.cache.nextExpiryAt();
  }

  /**
   * Watches Namespace objects (their labels) while `needed`: one cluster-wide list+watch of a small, rarely changing
   * collection, started only when a trace has a namespaceSelector and stopped when none has.
   */
  watchNamespaces(needed: boolean): void {
    if (!needed || this.live === undefined) {
      if (this.namespaceWatch !== undefined) {
        this.namespaceWatch.stop();
        for (const key of ['lists', 'watches', 'failures'] as const)
          this.retiredNamespaceStats[key] += this.namespaceWatch.stats[key];
        this.namespaceWatch = undefined;
        this.namespaceLabels.clear();
        this.options.log('info', 'no trace has a namespaceSelector: namespace watch stopped');
      }
      return;
    }
    if (this.namespaceWatch !== undefined) return;
    const client = this.options.client;
    const remember = (namespace: V1Namespace): void => {
      const name = namespace.metadata?.name;
      if (name !== undefined) this.namespaceLabels.set(name, { ...(namespace.metadata?.labels ?? {}) });
    };
    const watch: ListWatch<V1Namespace> = new ListWatch<V1Namespace>({
      client,
      path: '/api/v1/namespaces',
      call: { verb: 'list', resource: 'namespaces' },
      list: () => client.core.listNamespace(),
      ...(this.options.minBackoffMillis === undefined ? {} : { minBackoffMillis: this.options.minBackoffMillis }),
      ...(this.options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: this.options.maxBackoffMillis }),
      onChange: (change, namespace) => {
        if (change === 'deleted') this.namespaceLabels.delete(namespace.metadata?.name ?? '');
        else remember(namespace);
        this.options.onChange();
      },
      onSynced: (namespaces) => {
        this.namespaceLabels.clear();
        for (const namespace of namespaces) remember(namespace);
        this.namespaceProblem = undefined;
        this.options.onChange();
      },
      onError: (error) => {
        if (this.namespaceProblem !== error.message)
          this.options.log('warn', `cannot watch namespaces: ${error.message}; retrying`);
        this.namespaceProblem = error.message;
      },
    });
    this.namespaceWatch = watch;
    watch.start();
    this.options.log('info', 'a trace has a namespaceSelector: watching namespaces');
  }

  stats(): AgentPodsStats | undefined {
    const live = this.live;
    if (live === undefined) return undefined;
    const now = this.namespaceWatch?.stats;
    const retired = this.retiredNamespaceStats;
    const namespaces = {
      lists: retired.lists + (now?.lists ?? 0),
      watches: retired.watches + (now?.watches ?? 0),
      failures: retired.failures + (now?.failures ?? 0),
    };
    return { cached: live.cache.size, watch: live.watch.status(), namespaces };
  }
}
