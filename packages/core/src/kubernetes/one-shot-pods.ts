// The pods of a one-shot trace's Jobs: finding each Job's pod, reading what state it is in (pending, image not
// pulled, running, exited with a code), waiting a bounded time until bpftrace runs in it, and its log as lines.
import { PassThrough } from 'node:stream';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { Log } from '@kubernetes/client-node';
import { KtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import { httpStatusOf, kubeError } from './kube-client.js';
import { logLines, readOneShotLine } from './one-shot-output.js';
import type { OneShotLine } from './one-shot-output.js';

export const traceContainer = 'trace';

export type OneShotPodPhase = 'none' | 'pending' | 'running' | 'exited';

export interface OneShotPodState {
  phase: OneShotPodPhase;
  pod?: string;
  node?: string;
  /** Why the container waits (ErrImagePull, ContainerCreating…) or why the pod is not scheduled. */
  reason?: string;
  message?: string;
  exitCode?: number;
}

/** The reasons a container waits that no amount of waiting fixes. */
const hopeless = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** The newest pod of a Job (by the job-name label the Job controller sets, and the Job's uid as owner). */
export async function jobPod(client: KubeClient, job: string, uid?: string): Promise<V1Pod | undefined> {
  const namespace = client.namespace;
  const list = await client.call({ verb: 'list', resource: 'pods', namespace }, () =>
    client.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` }),
  );
  const pods = list.items.filter(
    (pod) => uid === undefined || (pod.metadata?.ownerReferences ?? []).some((o) => o.uid === uid),
  );
  pods.sort((a, b) =>
    String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')),
  );
  return pods.at(-1);
}

export function podState(pod: V1Pod | undefined): OneShotPodState {
  if (pod === undefined) return { phase: 'none' };
  const base = {
    pod: pod.metadata?.name ?? '',
    ...(pod.spec?.nodeName === undefined ? {} : { node: pod.spec.nodeName }),
  };
  const status = (pod.status?.containerStatuses ?? []).find((s) => s.name === traceContainer);
  const terminated = status?.state?.terminated;
  if (terminated !== undefined)
    return {
      ...base,
      phase: 'exited',
      exitCode: terminated.exitCode,
      ...(terminated.reason === undefined ? {} : { reason: terminated.reason }),
    };
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')
    return { ...base, phase: 'exited', exitCode: pod.status.phase === 'Succeeded' ? 0 : 1 };
  if (status?.state?.running !== undefined) return { ...base, phase: 'running' };
  const waiting = status?.state?.waiting;
  if (waiting !== undefined)
    return {
      ...base,
      phase: 'pending',
      ...(waiting.reason === undefined ? {} : { reason: waiting.reason }),
      ...(waiting.message === undefined ? {} : { message: waiting.message }),
    };
  const unscheduled = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return {
    ...base,
    phase: 'pending',
    ...(unscheduled?.reason === undefined ? {} : { reason: unscheduled.reason }),
    ...(unscheduled?.message === undefined ? {} : { message: unscheduled.message }),
  };
}

function failedCondition(job: V1Job): string | undefined {
  const failed = (job.status?.conditions ?? []).find((c) => c.type === 'Failed' && c.status === 'True');
  return failed === undefined
    ? undefined
    : `${failed.reason ?? 'Failed'}${failed.message === undefined ? '' : `: ${failed.message}`}`;
}

/** The whole log of a pod's trace container as lines (empty when the container never started). */
export async function readPodLog(client: KubeClient, pod: string): Promise<OneShotLine[]> {
  const namespace = client.namespace;
  let text: string;
  try {
    text = await client.call({ verb: 'get', resource: 'pods/log', name: pod, namespace }, () =>
      client.core.readNamespacedPodLog({ name: pod, namespace, container: traceContainer }),
    );
  } catch (error) {
    // 400 "waiting to start": no log yet
    if (error instanceof KtraceError && httpStatusOf(error.cause) === 400) return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(readOneShotLine);
}

/** Follows a pod's log from its start until the container exits (or `signal` aborts), as classified lines. */
export async function* followPodLog(
  client: KubeClient,
  pod: string,
  signal?: AbortSignal,
): AsyncGenerator<OneShotLine> {
  const namespace = client.namespace;
  const stream = new PassThrough();
  let controller: AbortController;
  try {
    controller = await new Log(client.kubeConfig).log(namespace, pod, traceContainer, stream, { follow: true });
  } catch (error) {
    throw kubeError(error, { verb: 'get', resource: 'pods/log', name: pod, namespace }, client.server);
  }
  const abort = (): void => {
    controller.abort();
    stream.end();
  };
  signal?.addEventListener('abort', abort, { once: true });
  stream.on('error', () => stream.end());
  try {
    for await (const line of logLines(stream)) yield readOneShotLine(line);
  } finally {
    signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}

/** What went wrong in the pod, from its log: the fatal line, else the last error record, else the last lines. */
export function failureOf(lines: readonly OneShotLine[]): string | undefined {
  const fatal = lines.findLast((l) => l.kind === 'fatal');
  if (fatal?.kind === 'fatal') return fatal.message;
  const error = lines.findLast((l) => l.kind === 'log' && l.level === 'error');
  if (error?.kind === 'log') return error.msg;
  const text = lines.filter((l) => l.kind === 'text').slice(-3);
  return text.length === 0 ? undefined : text.map((l) => (l.kind === 'text' ? l.text : '')).join(' / ');
}

/** The error for a trace container that exited non-zero: its own exit code decides (2: the program is wrong). */
export function exitError(node: string, state: OneShotPodState, lines: readonly OneShotLine[]): KtraceError {
  const said =
    failureOf(lines) ??
    `exit code ${state.exitCode ?? '?'}${state.reason === undefined ? '' : ` (${state.reason})`}, no log`;
  return new KtraceError({
    code: state.exitCode === 2 ? 'KTRACE_BAD_PROGRAM' : 'KTRACE_CLUSTER',
    message: `the trace failed on node ${node}: ${said}`,
  });
}

async function sleep(millis: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, millis));
}

export interface WaitForStartOptions {
  timeoutMillis: number;
  pollMillis?: number;
}

/**
 * Waits until bpftrace runs in the Job's pod (`ktrace running` in its log) or the trace already ended cleanly.
 * Fails with one KtraceError: an image that cannot be pulled, a pod that exited with an error (exit code 2: the
 * program is wrong), a failed Job, or nothing running within the time bound (naming the last state seen).
 */
export async function waitForStart(
  client: KubeClient,
  ref: { node: string; job: string; uid: string },
  options: WaitForStartOptions,
): Promise<OneShotPodState> {
  const namespace = client.namespace;
  const deadline = Date.now() + options.timeoutMillis;
  let last: OneShotPodState = { phase: 'none' };
  for (;;) {
    const job = await client.call({ verb: 'get', resource: 'jobs.batch', name: ref.job, namespace }, () =>
      client.batch.readNamespacedJob({ name: ref.job, namespace }),
    );
    last = podState(await jobPod(client, ref.job, ref.uid));
    if (last.phase === 'pending' && last.reason !== undefined && hopeless.has(last.reason)) {
      const image = job.spec?.template.spec?.containers[0]?.image ?? '?';
      throw new KtraceError({
        code: 'KTRACE_CLUSTER',
        message: `node ${ref.node} cannot start the trace: image ${image}: ${last.reason}${last.message === undefined ? '' : ` (${last.message})`}; check --image and that the node can pull it`,
      });
    }
    if (last.phase === 'exited') {
      const lines = await readPodLog(client, last.pod ?? '');
      if (last.exitCode === 0) return last;
      throw exitError(ref.node, last, lines);
    }
    const failed = failedCondition(job);
    if (failed !== undefined)
      throw new KtraceError({
        code: 'KTRACE_CLUSTER',
        message: `the trace's Job ${namespace}/${ref.job} failed on node ${ref.node}: ${failed}`,
      });
    if (last.phase === 'running') {
      const lines = await readPodLog(client, last.pod ?? '');
      if (lines.some((l) => l.kind === 'log' && l.msg === 'ktrace running')) return last;
    }
    if (Date.now() >= deadline) {
      const seconds = Math.round(options.timeoutMillis / 1000);
      const seen =
        last.phase === 'none'
          ? 'the Job created no pod (is ktrace installed in this namespace, with its ServiceAccount? kubectl describe job shows why)'
          : last.phase === 'running'
            ? `pod ${last.pod ?? ''} runs but bpftrace has not attached yet`
            : `pod ${last.pod ?? ''} is pending${last.reason === undefined ? '' : `: ${last.reason}`}${last.message === undefined ? '' : ` (${last.message})`}`;
      throw new KtraceError({
        code: 'KTRACE_CLUSTER',
        message: `the trace did not start on node ${ref.node} within ${seconds}s (--start-timeout): ${seen}`,
      });
    }
    await sleep(options.pollMillis ?? 250);
  }
}
