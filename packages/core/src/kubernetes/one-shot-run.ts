// Starting and stopping a one-shot trace on all its nodes: each Job created by one-shot-jobs.ts (suspended Job,
// owned ConfigMap, resumed Job), a re-run told apart from an unchanged trace, Jobs of nodes no longer targeted
// pruned, and everything this call created deleted again when a later step fails, so nothing is half-created.
import type { V1ConfigMap, V1Job } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import { oneShotConfigMap, oneShotJob, oneShotJobName, PROGRAM_KEY } from './manifests/one-shot.js';
import { createOneShotJob, deleteOneShotJob } from './one-shot-jobs.js';
import type { OneShotTraceOptions } from './manifests/one-shot.js';
import { checkTraceName, componentLabel, traceNameLabel } from './trace-document.js';
import type { OneShotPlacement } from './one-shot-target.js';

/** Everything of a trace but where it runs: the same for each of its Jobs. */
export type OneShotRequest = Omit<OneShotTraceOptions, 'node' | 'target'>;

/** One node's Job of a started trace. */
export interface OneShotJobRef {
  node: string;
  job: string;
  uid: string;
  /** `created` (new or replaced) or `unchanged` (the same trace was already running there). */
  outcome: 'created' | 'unchanged';
}

/** The label selector of every object of one trace (or, without a name, of every one-shot trace). */
export function oneShotSelector(trace?: string): string {
  return `${componentLabel}=one-shot,${trace === undefined ? traceNameLabel : `${traceNameLabel}=${checkTraceName(trace, 'NAME')}`}`;
}

/** The objects a trace applies on each node, as --dry-run prints them (the ConfigMap's owner uid comes from the server). */
export function oneShotManifests(
  request: OneShotRequest,
  placements: readonly OneShotPlacement[],
): (V1Job | V1ConfigMap)[] {
  return placements.flatMap((placement) => {
    const options = { ...request, ...placement };
    const job = oneShotJob(options, { suspend: false });
    return [
      job,
      oneShotConfigMap(options, {
        metadata: { name: job.metadata?.name ?? '', uid: '<the Job uid, set when it is created>' },
      }),
    ];
  });
}

function jobFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

const pollMillis = 200;

async function sleep(millis: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, millis));
}

/**
 * Deletes one Job (one-shot-jobs.ts), and its ConfigMap and pods without waiting for the garbage collector, then
 * waits until the Job is gone (a re-run creates it again under the same name).
 */
export async function purgeOneShotJob(client: KubeClient, namespace: string, job: string, uid?: string): Promise<void> {
  const ignoreMissing = (error: unknown): void => {
    if (!(isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND')) throw error;
  };
  await deleteOneShotJob(client, namespace, job);
  await client
    .call({ verb: 'delete', resource: 'configmaps', name: job, namespace }, () =>
      client.core.deleteNamespacedConfigMap({ name: job, namespace }),
    )
    .catch(ignoreMissing);
  const pods = await client.call({ verb: 'list', resource: 'pods', namespace }, () =>
    client.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` }),
  );
  for (const pod of pods.items) {
    if (uid !== undefined && !(pod.metadata?.ownerReferences ?? []).some((o) => o.uid === uid)) continue;
    const name = pod.metadata?.name ?? '';
    await client
      .call({ verb: 'delete', resource: 'pods', name, namespace }, () =>
        client.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }),
      )
      .catch(ignoreMissing);
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await client.call({ verb: 'get', resource: 'jobs.batch', name: job, namespace }, () =>
        client.batch.readNamespacedJob({ name: job, namespace }),
      );
    } catch (error) {
      ignoreMissing(error);
      return;
    }
    await sleep(pollMillis);
  }
}

/** The trace's Jobs in the client's namespace. */
export async function listOneShotJobs(client: KubeClient, trace?: string): Promise<V1Job[]> {
  const namespace = client.namespace;
  const list = await client.call({ verb: 'list', resource: 'jobs.batch', namespace }, () =>
    client.batch.listNamespacedJob({ namespace, labelSelector: oneShotSelector(trace) }),
  );
  return list.items;
}

/** Whether a Job already runs what `wanted` would: the same image, arguments, deadline and program. */
async function runsTheSame(client: KubeClient, old: V1Job, wanted: V1Job, program: string): Promise<boolean> {
  const a = old.spec?.template.spec?.containers[0];
  const b = wanted.spec?.template.spec?.containers[0];
  if (
    a?.image !== b?.image ||
    JSON.stringify(a?.args) !== JSON.stringify(b?.args) ||
    old.spec?.activeDeadlineSeconds !== wanted.spec?.activeDeadlineSeconds
  )
    return false;
  const name = old.metadata?.name ?? '';
  const namespace = old.metadata?.namespace ?? client.namespace;
  const configMap: V1ConfigMap | undefined = await client
    .call({ verb: 'get', resource: 'configmaps', name, namespace }, () =>
      client.core.readNamespacedConfigMap({ name, namespace }),
    )
    .catch(() => undefined);
  return configMap?.data?.[PROGRAM_KEY] === program;
}

/**
 * Creates (or re-runs) the trace on every placement. A Job that already runs the same thing is left running; one
 * that changed or finished is replaced under the same name; Jobs of the trace on other nodes are deleted. If any
 * step fails, every Job this call created is deleted with its ConfigMap before the error is thrown.
 */
export async function startOneShot(
  client: KubeClient,
  request: OneShotRequest,
  placements: readonly OneShotPlacement[],
): Promise<OneShotJobRef[]> {
  const namespace = client.namespace;
  const existing = new Map(
    (await listOneShotJobs(client, request.trace)).map((job) => [job.metadata?.name ?? '', job]),
  );
  const created: OneShotJobRef[] = [];
  const refs: OneShotJobRef[] = [];
  try {
    for (const placement of placements) {
      const options: OneShotTraceOptions = { ...request, ...placement, namespace };
      const name = oneShotJobName(request.trace, placement.node);
      const running = oneShotJob(options, { suspend: false });
      const old = existing.get(name);
      if (
        old !== undefined &&
        !jobFinished(old) &&
        old.spec?.suspend !== true &&
        (await runsTheSame(client, old, running, request.program))
      ) {
        refs.push({ node: placement.node, job: name, uid: old.metadata?.uid ?? '', outcome: 'unchanged' });
        continue;
      }
      if (old !== undefined) await purgeOneShotJob(client, namespace, name, old.metadata?.uid);
      const { job } = await createOneShotJob(client, options);
      const ref: OneShotJobRef = { node: placement.node, job: name, uid: job.metadata?.uid ?? '', outcome: 'created' };
      created.push(ref);
      refs.push(ref);
    }
    const wanted = new Set(refs.map((r) => r.job));
    for (const [name, job] of existing)
      if (!wanted.has(name)) await purgeOneShotJob(client, namespace, name, job.metadata?.uid);
    return refs;
  } catch (error) {
    await removeQuietly(client, created);
    throw error;
  }
}

/** Deletes what startOneShot created after a later failure (not started, image not pulled…): best effort. */
export async function removeQuietly(
  client: KubeClient,
  jobs: readonly Pick<OneShotJobRef, 'job' | 'uid'>[],
): Promise<void> {
  for (const job of jobs) {
    try {
      await purgeOneShotJob(client, client.namespace, job.job, job.uid);
    } catch {
      // the original error is what the user needs; a leftover is listed by `ktrace get` and removed by `ktrace delete`
    }
  }
}

/**
 * Stops a running trace by suspending its Jobs: the Job controller deletes their pods, whose SIGTERM makes
 * `ktrace run` in the pod stop bpftrace with SIGINT and print the final dump into the log. The suspended Job and
 * its ConfigMap stay (where the final dump is saved) until `ktrace delete`.
 */
export async function stopOneShot(client: KubeClient, jobs: readonly Pick<OneShotJobRef, 'job'>[]): Promise<void> {
  const namespace = client.namespace;
  for (const { job } of jobs) {
    await client.call({ verb: 'patch', resource: 'jobs.batch', name: job, namespace }, () =>
      client.objects.patch(
        { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: job, namespace }, spec: { suspend: true } } as V1Job,
        undefined,
        undefined,
        'ktrace',
        undefined,
        PatchStrategy.MergePatch,
      ),
    );
  }
}
