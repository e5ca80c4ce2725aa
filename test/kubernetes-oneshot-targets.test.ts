// `ktrace run node/…|pod/…|deploy/…` with the built CLI against the loopback API server (support/one-shot-cluster.ts):
// the Jobs and ConfigMaps it creates, labelled and owned, a re-run updated in place, --dry-run contacting no server.
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './support/kube-api-server/index.js';
import { PROGRAM, argsOf, oneShotCluster } from './support/one-shot-cluster.js';

const { api, program, closedKubeconfig, ktrace, oneShotObjects } = oneShotCluster();

describe('ktrace run TARGET', () => {
  it('node/NAME: a Job pinned to the node, the program in a ConfigMap the Job owns, everything labelled', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-f', program, '--duration', '30s']);
    expect(run.stderr).toContain('trace/node-worker-1 started on node worker-1 (job ktrace/node-worker-1-worker-1)');
    expect(run.code).toBe(0);
    const job = api.get('jobs.batch', 'ktrace', 'node-worker-1-worker-1')!;
    const configMap = api.get('configmaps', 'ktrace', 'node-worker-1-worker-1')!;
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(() => new ConfigMap(configMap as never).validate()).not.toThrow();
    for (const object of [job, configMap]) {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'ktrace',
        'app.kubernetes.io/managed-by': 'ktrace',
        'ktrace.dev/trace': 'node-worker-1',
      });
    }
    expect((job['spec'] as { suspend: boolean }).suspend).toBe(false);
    expect(argsOf(job)).toContain('30s');
    expect(configMap.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: job.metadata.name, uid: job.metadata.uid }),
    ]);
    expect((configMap['data'] as Record<string, string>)['program.bt']).toBe(PROGRAM);
  });

  it('re-running updates in place: the same trace is left running, a changed one replaces its Job under the same name', async () => {
    const args = [
      'run',
      'node/worker-1',
      '-e',
      'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }',
      '--name',
      'opens',
    ];
    expect((await ktrace(args)).code).toBe(0);
    const first = api.get('jobs.batch', 'ktrace', 'opens-worker-1')!;
    const again = await ktrace(args);
    expect(again.stderr).toContain('trace/opens already running on node worker-1');
    expect(api.get('jobs.batch', 'ktrace', 'opens-worker-1')!.metadata.uid).toBe(first.metadata.uid);
    const changed = await ktrace([
      ...args.slice(0, 2),
      '-e',
      'tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }',
      '--name',
      'opens',
    ]);
    expect(changed.code, changed.stderr).toBe(0);
    const jobs = api.list('jobs.batch', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' });
    expect(jobs.map((j) => j.metadata.name)).toEqual(['opens-worker-1']);
    expect(jobs[0]!.metadata.uid).not.toBe(first.metadata.uid);
    expect(
      api
        .list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' })
        .map((c) => (c['data'] as Record<string, string>)['program.bt']),
    ).toEqual(['tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }']);
    expect(api.list('pods', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' })).toHaveLength(1);
  });

  it("pod/NAME/CONTAINER: one Job on the pod's node, restricted to that container", async () => {
    const run = await ktrace(['run', 'pod/cart-0/app', '--target-namespace', 'shop', '-f', program]);
    expect(run.code).toBe(0);
    const jobs = api.list('jobs.batch', { namespace: 'ktrace' });
    expect(jobs.map((j) => j.metadata.name)).toEqual(['pod-cart-0-app-worker-2']);
    const uid = api.get('pods', 'shop', 'cart-0')!.metadata.uid;
    expect(argsOf(jobs[0]!).slice(-2)).toEqual(['--target-pod', `${uid}/c0ffee01`]);
    expect(jobs[0]!.metadata.annotations?.['ktrace.dev/target']).toBe('pod/shop/cart-0/app');
  });

  it("deploy/NAME: one Job per node of the deployment's pods, each restricted to its pods there", async () => {
    const run = await ktrace(['run', 'deploy/web', '--target-namespace', 'shop', '-f', program]);
    expect(run.code).toBe(0);
    const jobs = api
      .list('jobs.batch', { namespace: 'ktrace' })
      .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    expect(jobs.map((j) => j.metadata.name)).toEqual(['deploy-web-worker-1', 'deploy-web-worker-2']);
    const uid = (pod: string) => api.get('pods', 'shop', pod)!.metadata.uid;
    expect(argsOf(jobs[0]!).filter((a) => a.includes('-') && a === uid('web-a'))).toHaveLength(1);
    expect(argsOf(jobs[1]!).slice(-4)).toEqual(['--target-pod', uid('web-b'), '--target-pod', uid('web-c')]);
  });

  it('--dry-run -o yaml prints the Job and ConfigMap, valid for Kubernetes, and contacts no server', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-f', program, '--dry-run', '-o', 'yaml'], closedKubeconfig());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = parseYaml(run.stdout) as { items: KubeObject[] };
    expect(list.items.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Job/node-worker-1-worker-1',
      'ConfigMap/node-worker-1-worker-1',
    ]);
    expect(() => new Job(list.items[0] as never).validate()).not.toThrow();
    expect(() => new ConfigMap(list.items[1] as never).validate()).not.toThrow();
    expect(oneShotObjects()).toEqual([]);
  });
});
