// Starting and stopping a one-shot trace: its Jobs and program ConfigMaps created in the order one-shot.ts sets
// (suspended Job, owned ConfigMap, unsuspended Job) by server-side apply, Jobs of nodes no longer targeted pruned,
// and everything this call created deleted again when a later step fails, so nothing is left half-created.
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Job } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import { oneShotConfigMap, oneShotJob, oneShotJobName } from './manifests/one-shot.js';
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

/** Annotation on a Job: a hash of what its pod runs, so a re-run can tell an unchanged trace from a changed one. */
export const oneShotDigestAnnotation = 'ktrace.dev/digest';

/** The label selector of every object of one trace (or, without a name, of every one-shot trace). */
export function oneShotSelector(trace?: string): string {
  return `${componentLabel}=one-shot,${trace === undefined ? traceNameLabel : `${traceNameLabel}=${checkTraceName(trace, 'NAME')}`}`;
}

function withDigest(job: V1Job, program: string): V1Job {
  const container = job.spec?.template.spec?.containers[0];
  const digest = createHash('sha256')
    .update(JSON.stringify([container?.image, container?.args, program, job.spec?.activeDeadlineSeconds]))
    .digest('hex')
    .slice(0, 16);
  return { ...job, metadata: { ...job.metadata, annotations: { ...job.metadata?.annotations, [oneShotDigestAnnotation]: digest } } };
}

/** The objects a trace applies on each node, as --dry-run prints them (the ConfigMap's owner uid comes from the server). */
export function oneShotManifests(request: OneShotRequest, placements: readonly OneShotPlacement[]): (V1Job | V1ConfigMap)[] {
  return placements.flatMap((placement) => {
    const options = { ...request, ...placement };
    const job = withDigest(oneShotJob(options, { suspend: false }), request.program);
    return [job, oneShotConfigMap(options, { metadata: { name: job.metadata?.name ?? '', uid: '<the Job uid, set when it is created>' } })];
  });
}

function jobFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

const pollMillis = 200;

async function sleep(millis: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, millis));
}

/** Deletes one Job with its pods and ConfigMap (not waiting for the garbage collector), then waits until it is gone. */
export async function deleteOneShotJob(client: KubeClient, namespace: string, job: string, uid?: string): Promise<void> {
  const ignoreMissing = (error: unknown): void => {
    if (!(isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND')) throw error;
  };
  await client
    .call({ verb: 'delete', resource: 'jobs.batch', name: job, namespace }, () =>
      client.batch.deleteNamespacedJob({ name: job, namespace, propagationPolicy: 'Background' }),
    )
    .catch(ignoreMissing);
  await client
    .call({ verb: 'delete', resource: 'configmaps', name: job, namespace }, () => client.core.deleteNamespacedConfigMap({ name: job, namespace }))
    .catch(ignoreMissing);
  const pods = await client.call({ verb: 'list', resource: 'pods', namespace }, () => client.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` }));
  for (const pod of pods.items) {
    if (uid !== undefined && !(pod.metadata?.ownerReferences ?? []).some((o) => o.uid === uid)) continue;
    const name = pod.metadata?.name ?? '';
    await client
      .call({ verb: 'delete', resource: 'pods', name, namespace }, () => client.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }))
      .catch(ignoreMissing);
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await client.call({ verb: 'get', resource: 'jobs.batch', name: job, namespace }, () => client.batch.readNamespacedJob({ name: job, namespace }));
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

/**
 * Creates (or re-runs) the trace on every placement. A Job that already runs the same thing is left running; one
 * that changed or finished is replaced under the same name; Jobs of the trace on other nodes are deleted. If any
 * step fails, every Job this call created is deleted with its ConfigMap before the error is thrown.
 */
export async function startOneShot(client: KubeClient, request: OneShotRequest, placements: readonly OneShotPlacement[]): Promise<OneShotJobRef[]> {
  const namespace = client.namespace;
  const existing = new Map((await listOneShotJobs(client, request.trace)).map((job) => [job.metadata?.name ?? '', job]));
  const created: OneShotJobRef[] = [];
  const refs: OneShotJobRef[] = [];
  try {
    for (const placement of placements) {
      const options: OneShotTraceOptions = { ...request, ...placement, namespace };
      const name = oneShotJobName(request.trace, placement.node);
      const running = withDigest(oneShotJob(options, { suspend: false }), request.program);
      const old = existing.get(name);
      if (
        old !== undefined &&
        !jobFinished(old) &&
        old.spec?.suspend !== true &&
        old.metadata?.annotations?.[oneShotDigestAnnotation] === running.metadata?.annotations?.[oneShotDigestAnnotation]
      ) {
        const applied = await client.apply(running, { force: true });
        refs.push({ node: placement.node, job: name, uid: applied.metadata?.uid ?? '', outcome: 'unchanged' });
        continue;
      }
      if (old !== undefined) await deleteOneShotJob(client, namespace, name, old.metadata?.uid);
      const suspended = await client.apply(withDigest(oneShotJob(options, { suspend: true }), request.program), { force: true });
      const ref: OneShotJobRef = { node: placement.node, job: name, uid: suspended.metadata?.uid ?? '', outcome: 'created' };
      created.push(ref);
      await client.apply(oneShotConfigMap(options, suspended), { force: true });
      await client.apply(running, { force: true });
      refs.push(ref);
    }
    const wanted = new Set(refs.map((r) => r.job));
    for (const [name, job] of existing) if (!wanted.has(name)) await deleteOneShotJob(client, namespace, name, job.metadata?.uid);
    return refs;
  } catch (error) {
    await removeQuietly(client, created);
    throw error;
  }
}

/** Deletes what startOneShot created after a later failure (not started, image not pulled…): best effort. */
export async function removeQuietly(client: KubeClient, jobs: readonly Pick<OneShotJobRef, 'job' | 'uid'>[]): Promise<void> {
  for (const job of jobs) {
    try {
      await deleteOneShotJob(client, client.namespace, job.job, job.uid);
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
