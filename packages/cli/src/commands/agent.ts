// `ktrace agent`: the per-node agent (a DaemonSet pod in a cluster, a plain process in tests). Runs every trace of
// its namespace meant for its node, serves one /metrics and /healthz, logs JSON lines on stderr; SIGINT/SIGTERM
// stop every trace with its final dump exported, then exit 0.
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';
import { seriesCountOption } from '../io.js';
import { LOG_FORMAT_HELP, createLogWriter, logFormatOption } from '../log.js';

interface AgentCommandOptions extends ClusterOptions {
  logFormat?: string;
  nodeName?: string;
  listen: string;
  clusterName?: string;
  bpftrace?: string;
  otlpEndpoint?: string;
  heartbeat?: string;
  podLabels?: boolean;
  deletedPodGrace?: string;
  workloadLabels?: boolean;
  hostRoot?: string;
  maxSeriesPerTrace?: string;
  verbose?: boolean;
}

export const defaultAgentListen = '127.0.0.1:9464';

export function defineAgent(command: Command): void {
  addClusterOptions(
    command
      .option('--node-name <name>', 'this node (default: NODE_NAME, set from spec.nodeName by the DaemonSet)')
      .option('--listen <host:port>', `serve /metrics and /healthz here (0.0.0.0:9464 in a pod)`, defaultAgentListen)
      .option('--cluster-name <name>', 'k8s.cluster.name on every metric')
      .option('--bpftrace <path>', 'the bpftrace binary (default: bpftrace on PATH)')
      .option(
        '--otlp-endpoint <url>',
        'also push every trace over OTLP to this collector (OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf, http/json or grpc)',
      )
      .option('--heartbeat <duration>', 'refresh the node status this often even when nothing changes (default 30s)')
      .option('--no-pod-labels', 'no pod labels on maps keyed by cgroup or pid (and no pod watch)')
      .option(
        '--deleted-pod-grace <duration>',
        "how long a deleted pod's series keep their labels before they expire (default 60s)",
      )
      .option('--workload-labels', 'also label series with the workload (k8s_deployment_name, …)')
      .option('--host-root <dir>', "where the host's / is mounted (its cgroup2 tree and /proc), e.g. /host in a pod")
      .option(
        '--max-series-per-trace <n>',
        'at most this many series per trace from this node; more keys fold into an overflow series (default 20000)',
      )
      .option('-v, --verbose', 'also log debug lines')
      .option('--log-format <format>', LOG_FORMAT_HELP),
  ).action(async (options: AgentCommandOptions) => {
    const { parseDuration } = await import('@ktrace/core');
    const { Agent } = await import('@ktrace/core/kubernetes');
    const node = options.nodeName ?? process.env['NODE_NAME'];
    if (node === undefined || node.trim() === '') {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: 'ktrace agent needs its node: --node-name NAME, or NODE_NAME (the downward API spec.nodeName)',
      });
    }
    const heartbeatSeconds =
      options.heartbeat === undefined
        ? undefined
        : Math.max(1, Math.round(parseDuration(options.heartbeat, '--heartbeat') / 1000));
    const maxSeriesPerTrace =
      options.maxSeriesPerTrace === undefined
        ? undefined
        : seriesCountOption(options.maxSeriesPerTrace, '--max-series-per-trace');
    const writeLog = createLogWriter({
      format: logFormatOption(options.logFormat),
      ...(options.verbose === undefined ? {} : { verbose: options.verbose }),
    });
    const client = await kubeClientFor(options);
    const podName = process.env['POD_NAME'];
    const agent = new Agent({
      client,
      node: node.trim(),
      listen: options.listen,
      onLog: writeLog,
      ...(options.clusterName === undefined ? {} : { clusterName: options.clusterName }),
      ...(options.bpftrace === undefined ? {} : { bpftrace: options.bpftrace }),
      ...(options.otlpEndpoint === undefined ? {} : { otlpEndpoint: options.otlpEndpoint }),
      ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }),
      ...(podName === undefined ? {} : { podName }),
      ...(maxSeriesPerTrace === undefined ? {} : { maxSeriesPerTrace }),
      podLabels:
        options.podLabels === false
          ? false
          : {
              ...(options.deletedPodGrace === undefined
                ? {}
                : { deletedGraceMillis: parseDuration(options.deletedPodGrace, '--deleted-pod-grace') }),
              ...(options.workloadLabels === true ? { workload: true } : {}),
              ...(options.hostRoot === undefined ? {} : { hostRoot: options.hostRoot }),
            },
    });
    await agent.start();
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        writeLog({ level: 'info', msg: `received ${signal}; stopping every trace (final dumps exported)` });
        void agent.stop().finally(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    process.exit(0);
  });
}
