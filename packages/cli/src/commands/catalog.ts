// Every command's name and description, and where the rest of it lives. Cheap to load on purpose: `ktrace --help`
// and `--version` read only this; main.ts imports the one command that runs (its options, action and their SDK).
import type { Command } from 'commander';

export interface CommandEntry {
  name: string;
  description: string;
  /** Invocations shown under "Examples:" in the command's --help; each runs as written (test/cli-help.test.ts). */
  examples: readonly string[];
  /** Adds the arguments, options, examples and action; `args` are the command line after `ktrace`. */
  define(command: Command, args: readonly string[]): Promise<void>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'run',
    examples: [
      'ktrace run',
      "ktrace run -e 'tracepoint:raw_syscalls:sys_enter { @calls[comm] = count(); }' --interval 5s",
      'ktrace run -f examples/file-opens.bt --listen 127.0.0.1:9464 --duration 1m',
      'ktrace run --spec examples/block-io-latency.yaml --no-view',
    ],
    description:
      'Run a bpftrace program continuously and serve its maps at /metrics (and OTLP). With no program, runs the bundled example: syscall rates and latency by process.',
    // `ktrace run TARGET` (node/…, pod/…, deploy/…) runs once in the cluster; without TARGET, locally.
    define: async (command, args) => {
      const { isRemoteRun } = await import('./run-target.js');
      if (isRemoteRun(args)) (await import('./run-remote.js')).defineRunRemote(command);
      else (await import('./run.js')).defineRun(command);
    },
  },
  {
    name: 'parse',
    examples: [
      "bpftrace -f json -e 'interval:s:1 { @ticks = count(); print(@ticks); }' | ktrace parse",
      'ktrace parse --program prog.bt bpftrace-output.txt > samples.ndjson',
    ],
    description:
      'Read bpftrace output (text or -f json, any version 0.17-0.27) and write NDJSON: one object per map print, printf/time/cat line, attach count, lost-events report and runtime error. Lines that cannot be read are logged on stderr as warnings ("line N: reason": JSON lines, or readable lines on a terminal) and skipped (exit status stays 0).',
    define: async (command) => (await import('./parse.js')).defineParse(command),
  },
  {
    name: 'export',
    examples: [
      "bpftrace -f json -e 'tracepoint:raw_syscalls:sys_enter { @calls[comm] = count(); } interval:s:5 { print(@calls); }' | ktrace export --listen 127.0.0.1:9464",
      'ktrace export --program prog.bt bpftrace-output.json > metrics.prom',
    ],
    description:
      'Read bpftrace output (text or -f json) from a pipe or file and export its maps as metrics: served at /metrics with --listen (kept serving after the input ends, until SIGINT/SIGTERM), pushed with --otlp-endpoint, or — with neither — printed to stdout in the Prometheus text format once the input ends.',
    define: async (command) => (await import('./export.js')).defineExport(command),
  },
  {
    name: 'apply',
    examples: [
      'ktrace apply -f examples/syscalls.bt --name syscalls --dry-run -o yaml',
      'ktrace apply -f examples/file-opens.bt --nodes kubernetes.io/os=linux --pods app=web',
    ],
    description: 'Create or update a continuous trace in the cluster: every ktrace agent whose node matches runs it.',
    define: async (command) => (await import('./apply.js')).defineApply(command),
  },
  {
    name: 'get',
    examples: ['ktrace get', 'ktrace get syscalls -o yaml'],
    description: "List the cluster's traces and, per node, whether its agent runs each and how.",
    define: async (command) => (await import('./get.js')).defineGet(command),
  },
  {
    name: 'delete',
    examples: ['ktrace delete syscalls', 'ktrace delete --all'],
    description: 'Delete a trace (or every trace with --all) from the cluster; the agents stop running it.',
    define: async (command) => (await import('./delete.js')).defineDelete(command),
  },
  {
    name: 'logs',
    examples: [
      "ktrace run node/worker-1 -f examples/syscalls.bt --duration 30s   # prints the trace's name",
      'ktrace logs NAME --follow',
    ],
    description:
      "Show a one-shot trace's output: its maps (the final dump once it ended), or NDJSON samples with -o json.",
    define: async (command) => (await import('./logs.js')).defineLogs(command),
  },
  {
    name: 'agent',
    examples: ['NODE_NAME=worker-1 ktrace agent --kubeconfig ~/.kube/config --listen 127.0.0.1:9464'],
    description:
      'Run the node agent: every trace of its namespace whose nodeSelector matches this node, one /metrics for all.',
    define: async (command) => (await import('./agent.js')).defineAgent(command),
  },
  {
    name: 'install',
    examples: [
      'ktrace install --dry-run -o yaml > ktrace-install.yaml',
      'ktrace install --cluster-name prod --pod-monitor',
    ],
    description:
      'Install the ktrace agent: a namespace admitting privileged pods, its ServiceAccount and RBAC, a PriorityClass, a Service and the DaemonSet (one agent per node); with --pod-monitor also a Prometheus Operator PodMonitor. Running it again updates in place.',
    define: async (command) => (await import('./install.js')).defineInstall(command),
  },
  {
    name: 'uninstall',
    examples: ['ktrace uninstall --dry-run', 'ktrace uninstall'],
    description:
      'Remove the ktrace agent and everything ktrace created in its namespace (traces, one-shot Jobs, node status), then the namespace and the cluster-wide objects.',
    define: async (command) => (await import('./install.js')).defineUninstall(command),
  },
];
