// Creating one one-shot trace Job in a cluster the way manifests/one-shot.ts describes: the Job applied suspended,
// its program ConfigMap created owned by it, then the Job resumed. On a failure after the Job exists, the Job is
// deleted again (its owned ConfigMap with it), so nothing is left half-created.
import type { V1ConfigMap, V1Job } from '@kubernetes/client-node';
import { isKtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import { oneShotConfigMap, oneShotJob } from './manifests/one-shot.js';
import type { OneShotTraceOptions } from './manifests/one-shot.js';

export interface CreatedOneShot {
  job: V1Job;
  configMap: V1ConfigMap;
}

/** Deletes a one-shot Job with its pods and owned ConfigMap (Background: a batch/v1 Job orphans by default). */
export async function deleteOneShotJob(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  try {
    await client.call({ verb: 'delete', resource: 'jobs.batch', name, namespace }, () =>
      client.objects.delete(
        { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      ),
    );
    return true;
  } catch (error) {
    if (isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND') return false;
    throw error;
  }
}

export async function createOneShotJob(client: KubeClient, options: OneShotTraceOptions): Promise<CreatedOneShot> {
  const suspended = await client.apply(oneShotJob(options, { suspend: true }));
  const name = suspended.metadata?.name ?? '';
  try {
    const configMap = await client.apply(oneShotConfigMap(options, suspended));
    const job = await client.apply(oneShotJob(options, { suspend: false }));
    return { job, configMap };
  } catch (error) {
    try {
      await deleteOneShotJob(client, options.namespace, name);
    } catch {
      // The first failure is the one to report; the rollback's own failure would hide it.
    }
    throw error;
  }
}
