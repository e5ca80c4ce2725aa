// One-shot traces as `ktrace get` lists them and `ktrace delete` removes them: their Jobs grouped by trace name,
// each with its node, target and state, and deletion of everything a trace created (Jobs, pods, ConfigMaps).
import type { V1Job } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import { listOneShotJobs, oneShotSelector, purgeOneShotJob } from './one-shot-run.js';
import { jobPod, podState } from './one-shot-pods.js';
import { traceNameLabel } from './trace-document.js';

export type OneShotState = 'starting' | 'pending' | 'running' | 'stopped' | 'completed' | 'failed';

export interface OneShotJobReport {
  node: string;
  job: string;
  uid: string;
  /** As written: node/X, pod/NS/NAME[/CONTAINER], deploy/NS/NAME. */
  target: string;
  state: OneShotState;
  /** Why it is pending or failed. */
  reason?: string;
  pod?: string;
  startedAt?: string;
}

export interface OneShotReport {
  name: string;
  jobs: OneShotJobReport[];
}

function jobState(job: V1Job): { state: OneShotState; reason?: string } | undefined {
  const condition = (type: string) =>
    (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
  const failed = condition('Failed');
  if (failed !== undefined)
    return {
      state: 'failed',
      reason: `${failed.reason ?? 'Failed'}${failed.message === undefined ? '' : `: ${failed.message}`}`,
    };
  if (condition('Complete') !== undefined) return { state: 'completed' };
  if (job.spec?.suspend === true) return { state: job.status?.startTime === undefined ? 'starting' : 'stopped' };
  return undefined;
}

async function report(client: KubeClient, job: V1Job): Promise<OneShotJobReport> {
  const name = job.metadata?.name ?? '';
  const uid = job.metadata?.uid ?? '';
  const base = {
    node: job.metadata?.annotations?.['ktrace.dev/node'] ?? '?',
    job: name,
    uid,
    target: job.metadata?.annotations?.['ktrace.dev/target'] ?? '?',
    ...(job.status?.startTime === undefined
      ? {}
      : {
          startedAt: String(
            job.status.startTime instanceof Date ? job.status.startTime.toISOString() : job.status.startTime,
          ),
        }),
  };
  const fromJob = jobState(job);
  const pod = podState(await jobPod(client, name, uid));
  const withPod = pod.pod === undefined ? base : { ...base, pod: pod.pod };
  if (fromJob !== undefined) return { ...withPod, ...fromJob };
  if (pod.phase === 'running') return { ...withPod, state: 'running' };
  if (pod.phase === 'exited')
    return {
      ...withPod,
      state: pod.exitCode === 0 ? 'completed' : 'failed',
      ...(pod.exitCode === 0 ? {} : { reason: `exit code ${pod.exitCode ?? '?'}` }),
    };
  if (pod.phase === 'pending')
    return { ...withPod, state: 'pending', ...(pod.reason === undefined ? {} : { reason: pod.reason }) };
  return { ...withPod, state: 'starting' };
}

/** One-shot traces in the client's namespace (or only `name`), each with its Jobs' states; by name. */
export async function listOneShotReports(client: KubeClient, name?: string): Promise<OneShotReport[]> {
  const jobs = await listOneShotJobs(client, name);
  const byTrace = new Map<string, OneShotJobReport[]>();
  for (const job of jobs) {
    const trace = job.metadata?.labels?.[traceNameLabel] ?? job.metadata?.name ?? '?';
    byTrace.set(trace, [...(byTrace.get(trace) ?? []), await report(client, job)]);
  }
  return [...byTrace.entries()]
    .map(([trace, reports]) => ({ name: trace, jobs: reports.sort((a, b) => a.node.localeCompare(b.node)) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Deletes every object of one one-shot trace (or of all, without a name): Jobs, their pods and ConfigMaps, and
 * ConfigMaps whose Job is already gone. Returns the trace names it found.
 */
export async function deleteOneShotTraces(client: KubeClient, name?: string): Promise<string[]> {
  const namespace = client.namespace;
  const names = new Set<string>();
  for (const job of await listOneShotJobs(client, name)) {
    names.add(job.metadata?.labels?.[traceNameLabel] ?? '?');
    await purgeOneShotJob(client, namespace, job.metadata?.name ?? '', job.metadata?.uid);
  }
  const leftovers = await client.call({ verb: 'list', resource: 'configmaps', namespace }, () =>
    client.core.listNamespacedConfigMap({ namespace, labelSelector: oneShotSelector(name) }),
  );
  for (const configMap of leftovers.items) {
    names.add(configMap.metadata?.labels?.[traceNameLabel] ?? '?');
    const object = configMap.metadata?.name ?? '';
    try {
      await client.call({ verb: 'delete', resource: 'configmaps', name: object, namespace }, () =>
        client.core.deleteNamespacedConfigMap({ name: object, namespace }),
      );
    } catch (error) {
      if (!(isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND')) throw error;
    }
  }
  return [...names].sort();
}
