// The agent's own metrics, as Prometheus text: traces by state (an invalid document shows here), each trace's
// series and its bpftrace's memory and CPU, the agent's memory, its API traffic (lists, watches, status writes) and
// failures.
import type { ListWatchStats } from './list-watch.js';
import type { NodeTraceState, NodeTraceStatus } from './node-status.js';

export interface AgentCounters {
  statusWrites: number;
  statusWriteFailures: number;
  mergeConflicts: number;
}

/** What one running trace costs on this node. */
export interface TraceCost {
  /** bpftrace's resident memory (bytes), while it runs. */
  rssBytes?: number;
  /** CPU seconds of the bpftrace process running now (starts again at 0 when it restarts). */
  cpuSeconds?: number;
  series: number;
}

export interface SelfMetricsInput {
  statuses: Record<string, NodeTraceStatus>;
  costs: Map<string, TraceCost>;
  watching: boolean;
  counters: AgentCounters;
  watches: ListWatchStats[];
  /** Reads of the node (gets) and how many failed. */
  nodeReads: { gets: number; failures: number };
  nodeLabelsKnown: boolean;
  /** The node's pod cache and its watch, when pod labels are on; the namespace watch's requests. */
  pods?: {
    cached: number;
    watch: { synced: boolean; lists: number; watches: number; failures: number };
    namespaces: ListWatchStats;
  };
}

const states: readonly NodeTraceState[] = [
  'starting',
  'running',
  'restarting',
  'stopping',
  'failed',
  'invalid',
  'skipped',
];

function family(name: string, type: 'gauge' | 'counter', help: string, samples: Array<[string, number]>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [labels, value] of samples) out += `${name}${labels === '' ? '' : `{${labels}}`} ${value}\n`;
  return out;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

export function renderSelfMetrics(input: SelfMetricsInput): string {
  const entries = Object.entries(input.statuses).sort(([a], [b]) => a.localeCompare(b));
  const byState = new Map<NodeTraceState, number>(states.map((s) => [s, 0]));
  for (const [, status] of entries) byState.set(status.state, (byState.get(status.state) ?? 0) + 1);
  const sum = (pick: (s: ListWatchStats) => number): number => input.watches.reduce((n, s) => n + pick(s), 0);
  let out = '';
  out += family(
    'ktrace_agent_traces',
    'gauge',
    "Traces known to this node's agent, by state (invalid: the document is bad; skipped: not for this node)",
    [...byState].map(([s, n]) => [`state=${quote(s)}`, n]),
  );
  out += family(
    'ktrace_agent_trace_state',
    'gauge',
    'The state of each trace on this node (1 for its current state)',
    entries.map(([name, status]) => [`trace=${quote(name)},state=${quote(status.state)}`, 1]),
  );
  const costs = [...input.costs].sort(([a], [b]) => a.localeCompare(b));
  const perTrace = (pick: (cost: TraceCost) => number | undefined): Array<[string, number]> =>
    costs.flatMap(([name, cost]) => {
      const value = pick(cost);
      return value === undefined ? [] : [[`trace=${quote(name)}`, value] as [string, number]];
    });
  out += family(
    'ktrace_agent_bpftrace_resident_bytes',
    'gauge',
    "Resident memory of each trace's bpftrace process",
    perTrace((c) => c.rssBytes),
  );
  out += family(
    'ktrace_agent_bpftrace_cpu_seconds_total',
    'counter',
    "CPU time (user and system) of each trace's bpftrace process; starts again when bpftrace restarts",
    perTrace((c) => c.cpuSeconds),
  );
  out += family(
    'ktrace_agent_trace_series',
    'gauge',
    'Series each trace exports from this node (capped by --max-series-per-trace)',
    perTrace((c) => c.series),
  );
  const memory = process.memoryUsage();
  out += family(
    'ktrace_agent_resident_bytes',
    'gauge',
    'Resident memory of the agent process (bpftrace processes not included)',
    [['', memory.rss]],
  );
  out += family(
    'ktrace_agent_heap_used_bytes',
    'gauge',
    "The agent's JavaScript heap in use (below its resident memory: the rest is heap not yet collected or returned, and native memory)",
    [['', memory.heapUsed]],
  );
  const cpu = process.cpuUsage();
  out += family(
    'ktrace_agent_cpu_seconds_total',
    'counter',
    'CPU time (user and system) of the agent process (bpftrace processes not included)',
    [['', (cpu.user + cpu.system) / 1e6]],
  );
  out += family(
    'ktrace_agent_watch_connected',
    'gauge',
    '1 while the watch of trace documents is connected to the API server',
    [['', input.watching ? 1 : 0]],
  );
  out += family(
    'ktrace_agent_node_labels_known',
    'gauge',
    "1 once the node's labels are read (traces with a nodeSelector wait for them)",
    [['', input.nodeLabelsKnown ? 1 : 0]],
  );
  if (input.pods !== undefined) {
    out += family(
      'ktrace_agent_pods_cached',
      'gauge',
      'Pods of this node the agent knows (deleted ones kept for their grace period)',
      [['', input.pods.cached]],
    );
    out += family('ktrace_agent_pod_watch_synced', 'gauge', '1 once the node-scoped pod watch has listed the pods', [
      ['', input.pods.watch.synced ? 1 : 0],
    ]);
  }
  out += family('ktrace_agent_api_requests_total', 'counter', 'Requests the agent made to the API server, by kind', [
    ['kind="list"', sum((s) => s.lists)],
    ['kind="watch"', sum((s) => s.watches)],
    ['kind="get"', input.nodeReads.gets],
    ['kind="pod_list"', input.pods?.watch.lists ?? 0],
    ['kind="pod_watch"', input.pods?.watch.watches ?? 0],
    ['kind="namespace_list"', input.pods?.namespaces.lists ?? 0],
    ['kind="namespace_watch"', input.pods?.namespaces.watches ?? 0],
    ['kind="status"', input.counters.statusWrites + input.counters.statusWriteFailures],
  ]);
  out += family('ktrace_agent_api_failures_total', 'counter', 'Failed list, watch, get and status requests', [
    ['kind="watch"', sum((s) => s.failures)],
    ['kind="get"', input.nodeReads.failures],
    ['kind="pods"', input.pods?.watch.failures ?? 0],
    ['kind="namespaces"', input.pods?.namespaces.failures ?? 0],
    ['kind="status"', input.counters.statusWriteFailures],
  ]);
  return out;
}
