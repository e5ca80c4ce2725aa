// One-shot trace Jobs against the loopback API server: the Job is applied suspended, its program ConfigMap created
// owned by it and the Job resumed; deleting the Job takes the program with it (garbage collection); a failure after
// the Job exists leaves nothing behind. (The server's stand-in Job controller starts pods only for Jobs created
// unsuspended, so where the pod lands is not asserted here.)
import { createKubeClient, createOneShotJob, deleteOneShotJob, oneShotJobName } from '@ktrace/core/kubernetes';
import type { KubeClient, OneShotTraceOptions } from '@ktrace/core/kubernetes';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './support/kube-api-server/index.js';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';

let client: KubeClient;
const api = kubeApiServerPerFile({
  namespaces: ['ktrace'],
  setup: (server) => {
    client = createKubeClient({ kubeconfig: server.kubeconfigPath({ namespace: 'ktrace' }) });
  },
});

function options(nodeName: string, overrides: Partial<OneShotTraceOptions> = {}): OneShotTraceOptions {
  return {
    trace: 'web-opens',
    namespace: 'ktrace',
    image: 'registry.example.com/ktrace:0.1.0',
    node: nodeName,
    target: {
      kind: 'deployment',
      namespace: 'shop',
      name: 'web',
      pods: [
        {
          namespace: 'shop',
          name: `web-${nodeName}`,
          uid: `00000000-0000-4000-8000-00000000000${nodeName.at(-1) === 'a' ? 1 : 2}`,
        },
      ],
    },
    program: 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }',
    durationSeconds: 30,
    ...overrides,
  };
}

describe('one-shot trace Jobs', () => {
  it('are resumed with the program in a ConfigMap owned by each Job; deleting a Job removes its program', async () => {
    for (const name of ['node-a', 'node-b']) {
      const { job, configMap } = await createOneShotJob(client, options(name));
      expect(job.spec?.suspend).toBe(false);
      expect(configMap.metadata?.ownerReferences).toEqual([
        { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata?.name, uid: job.metadata?.uid },
      ]);
      const stored = api.get('jobs.batch', 'ktrace', oneShotJobName('web-opens', name)) as KubeObject & {
        spec: { suspend: boolean };
      };
      expect(stored.metadata.uid).toBe(job.metadata?.uid);
      expect(stored.spec.suspend).toBe(false);
      expect(api.get('configmaps', 'ktrace', oneShotJobName('web-opens', name))?.['data']).toEqual({
        'program.bt': options(name).program,
      });
    }
    expect(await deleteOneShotJob(client, 'ktrace', oneShotJobName('web-opens', 'node-a'))).toBe(true);
    expect(api.get('jobs.batch', 'ktrace', oneShotJobName('web-opens', 'node-a'))).toBeUndefined();
    expect(api.get('configmaps', 'ktrace', oneShotJobName('web-opens', 'node-a'))).toBeUndefined();
    expect(
      api
        .list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=web-opens' })
        .map((c) => c.metadata.name),
    ).toEqual([oneShotJobName('web-opens', 'node-b')]);
    expect(await deleteOneShotJob(client, 'ktrace', oneShotJobName('web-opens', 'node-b'))).toBe(true);
    expect(api.list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=web-opens' })).toEqual([]);
    expect(await deleteOneShotJob(client, 'ktrace', oneShotJobName('web-opens', 'node-b'))).toBe(false);
  });

  it('leave nothing behind when the program cannot be stored, and name what was forbidden', async () => {
    const undo = api.deny({ verb: ['create', 'patch'], group: '', resource: 'configmaps', namespace: 'ktrace' });
    try {
      await expect(createOneShotJob(client, options('node-a', { trace: 'denied' }))).rejects.toMatchObject({
        code: 'KTRACE_FORBIDDEN',
        message: expect.stringMatching(/cannot patch configmaps "denied-node-a" in namespace "ktrace"/) as unknown,
      });
    } finally {
      undo();
    }
    expect(api.list('jobs.batch', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=denied' })).toEqual([]);
    expect(api.list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=denied' })).toEqual([]);
    expect(api.list('pods', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=denied' })).toEqual([]);
  });
});
