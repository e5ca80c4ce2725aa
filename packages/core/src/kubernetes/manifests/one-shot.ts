// One-shot traces (`ktrace run node/X|pod/X|deploy/X`): per node, a Job pinned to it that runs the agent image's
// `ktrace run` once, and the program in a ConfigMap owned by that Job. How the CLI creates them, in order:
//   1. apply the Job with `suspend: true` (no pod yet: nothing mounts a ConfigMap that does not exist);
//   2. create the ConfigMap with an ownerReference to the Job's uid (from step 1's answer), so deleting the Job
//      (or its TTL) deletes the program too; if this fails, delete the Job: nothing is left half-created;
//   3. apply the same Job with `suspend: false`: the pod starts, and activeDeadlineSeconds counts from here.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import { KtraceError } from '@ktrace/parser';
import { nodeLabel } from '../node-status.js';
import { traceNameLabel } from '../trace-document.js';
import { ktraceLabels, TRACE_SERVICE_ACCOUNT } from './labels.js';
import {
  containerSecurityContext,
  hostVolumeMounts,
  hostVolumes,
  podSecurityFields,
  traceResources,
} from './privileges.js';
import type { PrivilegesProfile, SeccompProfile } from './privileges.js';

/** A pod the trace is restricted to, on the Job's node. Without containerIds: all of its containers. */
export interface TargetPod {
  namespace: string;
  name: string;
  uid: string;
  /** Runtime container ids (the part after `containerd://` etc. in containerStatuses[].containerID). */
  containerIds?: string[];
}

export type OneShotTarget =
  | { kind: 'node' }
  | { kind: 'pod' | 'deployment'; namespace: string; name: string; container?: string; pods: TargetPod[] };

export interface OneShotTraceOptions {
  /** The trace's name: a DNS label, also the value of the ktrace.dev/trace label (at most 63 characters). */
  trace: string;
  namespace: string;
  image: string;
  node: string;
  target: OneShotTarget;
  program: string;
  /** How long bpftrace runs before ktrace stops it with SIGINT and prints the final dump. */
  durationSeconds: number;
  /** How long bpftrace may take to print the final dump after SIGINT (ktrace run's --stop-timeout; default 30). */
  stopTimeoutSeconds?: number;
  /** Time allowed for scheduling, image pull and bpftrace's compile before the duration starts (default 300). */
  startAllowanceSeconds?: number;
  /** How long the finished Job, its pod and their logs are kept (default 86400: a day). */
  keepSeconds?: number;
  /** ktrace run's --interval: how often maps are printed (default: the spec's 1 s). */
  interval?: string;
  /** Also push the samples as OTLP metrics from the pod. */
  otlpEndpoint?: string;
  privileges?: PrivilegesProfile;
  seccomp?: SeccompProfile;
}

export const PROGRAM_DIR = '/etc/ktrace';
export const PROGRAM_KEY = 'program.bt';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function bad(message: string): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_OPTION', message });
}

/**
 * The Job (and ConfigMap) name for a trace on a node: `<trace>-<node>`, cut to 52 characters with a hash of the
 * node when longer (the Job controller labels pods with the Job name, which must stay a 63-character label value).
 */
export function oneShotJobName(trace: string, node: string): string {
  const plain = `${trace}-${node.replaceAll('.', '-')}`;
  if (plain.length <= 52) return plain;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 8);
  return `${plain.slice(0, 43).replace(/-+$/, '')}-${hash}`;
}

/** The target as the CLI writes it (`node/X`, `pod/NS/NAME[/CONTAINER]`, `deploy/NS/NAME`), for annotations and `get`. */
export function targetDescription(target: OneShotTarget, node: string): string {
  if (target.kind === 'node') return `node/${node}`;
  const prefix = target.kind === 'pod' ? 'pod' : 'deploy';
  return `${prefix}/${target.namespace}/${target.name}${target.container === undefined ? '' : `/${target.container}`}`;
}

/**
 * The pod's command line. What the Job expects of `ktrace run` in the image:
 * - `--file` the mounted program, `--duration`/`--stop-timeout` as locally, `--no-listen` (nothing scrapes it);
 * - `--output json`: one NDJSON sample per line on stdout (the parser's event schema), which `ktrace logs` and
 *   `--attach` read back from the pod log and draw; logs stay on stderr;
 * - `--target-pod UID[/CONTAINER_ID]` (repeatable): restrict the program to those cgroups, resolved on the node
 *   from the host cgroup tree (a pod UID alone: each of its containers). Absent for node targets.
 */
export function oneShotArgs(options: OneShotTraceOptions): string[] {
  const targets =
    options.target.kind === 'node'
      ? []
      : options.target.pods.flatMap((pod) =>
          pod.containerIds === undefined || pod.containerIds.length === 0
            ? [pod.uid]
            : pod.containerIds.map((id) => `${pod.uid}/${id}`),
        );
  return [
    'run',
    '--file',
    `${PROGRAM_DIR}/${PROGRAM_KEY}`,
    '--duration',
    `${options.durationSeconds}s`,
    '--stop-timeout',
    `${options.stopTimeoutSeconds ?? 30}s`,
    ...(options.interval === undefined ? [] : ['--interval', options.interval]),
    '--no-listen',
    '--no-view',
    '--output',
    'json',
    ...(options.otlpEndpoint === undefined ? [] : ['--otlp-endpoint', options.otlpEndpoint]),
    ...targets.flatMap((target) => ['--target-pod', target]),
  ];
}

function check(options: OneShotTraceOptions): void {
  if (options.trace.length > 63 || !DNS_LABEL.test(options.trace)) {
    throw bad(
      `trace name "${options.trace}" must be a DNS label: lower-case letters, digits and "-", at most 63 characters`,
    );
  }
  if (!Number.isInteger(options.durationSeconds) || options.durationSeconds < 1)
    throw bad(`--duration must be at least 1s, not ${options.durationSeconds}s`);
  if (options.target.kind !== 'node' && options.target.pods.length === 0) {
    throw bad(`${targetDescription(options.target, options.node)} has no pod on node ${options.node}`);
  }
}

function metadata(options: OneShotTraceOptions): V1ObjectMeta {
  return {
    name: oneShotJobName(options.trace, options.node),
    namespace: options.namespace,
    labels: {
      ...ktraceLabels('one-shot'),
      [traceNameLabel]: options.trace,
      // Node names are DNS subdomains of up to 253 characters; a label value holds 63.
      ...(options.node.length <= 63 ? { [nodeLabel]: options.node } : {}),
    },
    annotations: {
      'ktrace.dev/target': targetDescription(options.target, options.node),
      'ktrace.dev/node': options.node,
    },
  };
}

/**
 * activeDeadlineSeconds is a backstop, not the stop signal: when it passes, the Job controller deletes the pod
 * and its log with it. The trace's own --duration ends bpftrace first (SIGINT, final dump printed, exit 0), well
 * within the deadline = start allowance + duration + stop timeout. Deleting the pod (Ctrl-C, `ktrace delete`)
 * sends SIGTERM, on which ktrace run also stops bpftrace with SIGINT; the grace period covers the final dump.
 */
export function oneShotJob(options: OneShotTraceOptions, state: { suspend: boolean }): V1Job {
  check(options);
  const meta = metadata(options);
  const stopTimeout = options.stopTimeoutSeconds ?? 30;
  const privileges = options.privileges ?? 'default';
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      suspend: state.suspend,
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: (options.startAllowanceSeconds ?? 300) + options.durationSeconds + stopTimeout,
      ttlSecondsAfterFinished: options.keepSeconds ?? 86_400,
      template: {
        metadata: { labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: TRACE_SERVICE_ACCOUNT,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          // matchFields on metadata.name is exact (the kubernetes.io/hostname label need not equal the node name),
          // and unlike spec.nodeName it goes through the scheduler, so a full node is reported, not silently failed.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchFields: [{ key: 'metadata.name', operator: 'In', values: [options.node] }] },
                ],
              },
            },
          },
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: stopTimeout + 5,
          ...podSecurityFields(privileges, options.seccomp ?? 'runtime-default'),
          containers: [
            {
              name: 'trace',
              image: options.image,
              imagePullPolicy: 'IfNotPresent',
              args: oneShotArgs(options),
              resources: traceResources('one-shot'),
              securityContext: containerSecurityContext(privileges),
              volumeMounts: [...hostVolumeMounts(), { name: 'program', mountPath: PROGRAM_DIR, readOnly: true }],
            },
          ],
          volumes: [...hostVolumes(), { name: 'program', configMap: { name: meta.name ?? '' } }],
        },
      },
    },
  };
}

/** The program's ConfigMap, owned by the Job (step 2 above): `job` is the Job as the server returned it. */
export function oneShotConfigMap(options: OneShotTraceOptions, job: Pick<V1Job, 'metadata'>): V1ConfigMap {
  check(options);
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  if (name === undefined || uid === undefined)
    throw new Error('oneShotConfigMap needs the Job as the server returned it (metadata.name and metadata.uid)');
  const meta = metadata(options);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...meta, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid }] },
    data: { [PROGRAM_KEY]: options.program },
  };
}
