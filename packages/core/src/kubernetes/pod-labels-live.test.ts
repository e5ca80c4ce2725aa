// Pod labels end to end without the agent: real cgroups, real bpftrace 0.17, the loopback API server, the pod watch,
// the labeler and the exporter's series store, asserting the /metrics lines a user would scrape.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeriesStore } from '@ktrace/exporter';
import { parseOutput } from '@ktrace/parser';
import type { MapSample } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupReadiness, exitReadiness, runBpftrace } from '../../../../test/support/bpftrace-session.js';
import { CgroupSandbox } from '../../../../test/support/cgroup-sandbox.js';
import { startKubeApiServer } from '../../../../test/support/kube-api-server/index.js';
import type { KubeApiServer } from '../../../../test/support/kube-api-server/index.js';
import { addCgroupKey } from '../key-rewrite.js';
import { CgroupTree } from './cgroup-tree.js';
import { PodCache } from './pod-cache.js';
import { PodLabeler, podLabeledMaps } from './pod-labels.js';
import { createKubeClient } from './kube-client.js';
import { PodWatch } from './pod-watch.js';

let sandbox: CgroupSandbox | undefined;
let api: KubeApiServer | undefined;
let watch: PodWatch | undefined;
let binDir: string | undefined;
afterEach(async () => {
  cleanupReadiness();
  watch?.stop();
  sandbox?.cleanup();
  await api?.close();
  if (binDir !== undefined) rmSync(binDir, { recursive: true, force: true });
  sandbox = api = watch = binDir = undefined;
});

async function until(condition: () => boolean, what: string, timeoutMillis = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pod labels on real cgroups, bpftrace and a pod watch', () => {
  it('labels each container’s counts with its namespace, pod and container; others get empty pod labels', async () => {
    api = await startKubeApiServer({ namespaces: ['shop'] });
    const webId = 'aa'.repeat(32);
    const jobId = 'bb'.repeat(32);
    const strayId = 'cc'.repeat(32);
    api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-5f7b9c8d4-qk2lp',
        namespace: 'shop',
        labels: { 'pod-template-hash': '5f7b9c8d4' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web-5f7b9c8d4',
            uid: '7e0a9d44-0b1c-4e55-9f3e-1a2b3c4d5e6f',
            controller: true,
          },
        ],
      },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    api.setPodStatus('shop', 'web-5f7b9c8d4-qk2lp', {
      phase: 'Running',
      nodeName: 'node-a',
      containerIDs: { app: `containerd://${webId}` },
    });
    api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'report', namespace: 'shop' },
      spec: { containers: [{ name: 'worker', image: 'busybox:1.36' }] },
    });
    api.setPodStatus('shop', 'report', {
      phase: 'Running',
      nodeName: 'node-a',
      containerIDs: { worker: `containerd://${jobId}` },
    });
    const webUid = api.get('pods', 'shop', 'web-5f7b9c8d4-qk2lp')?.['metadata']?.uid ?? '';
    const reportUid = api.get('pods', 'shop', 'report')?.['metadata']?.uid ?? '';

    sandbox = new CgroupSandbox('ktrace-test-pods-');
    const web = sandbox.container({ driver: 'systemd', podUid: webUid, containerId: webId, qosClass: 'burstable' });
    const report = sandbox.container({
      driver: 'cgroupfs',
      podUid: reportUid,
      containerId: jobId,
      qosClass: 'besteffort',
    });
    const stray = sandbox.container({
      driver: 'systemd',
      podUid: '00000000-1111-4222-8333-444444444444',
      containerId: strayId,
      qosClass: 'besteffort',
    });

    const client = createKubeClient({ kubeconfig: api.kubeconfigPath({ namespace: 'shop' }) });
    const pods = new PodCache({ nodeName: 'node-a', deletedGraceMillis: 100 });
    watch = new PodWatch({ client, nodeName: 'node-a', cache: pods });
    watch.start();
    await watch.synced();

    const { source, program } = addCgroupKey(
      `tracepoint:sched:sched_process_exit /comm == "ktlive${process.pid % 1000}"/ { @exits[comm] = count(); }`,
      ['@exits'],
    );
    const tree = new CgroupTree();
    const maps = podLabeledMaps(program);
    const labeler = new PodLabeler({
      cgroupPath: (id) => tree.pathOf(id),
      procCgroup: (pid) => tree.procCgroupOf(pid),
      resolvePod: (i) => pods.resolve(i),
      podsCurrent: () => watch?.current() ?? false,
      maps,
      workload: true,
    });

    binDir = mkdtempSync(join(tmpdir(), 'ktrace-test-pods-bin-'));
    const comm = `ktlive${process.pid % 1000}`;
    copyFileSync('/bin/true', join(binDir, comm));
    const runs: [string, number][] = [
      [web.dir, 3],
      [report.dir, 2],
      [sandbox.top, 1],
      [stray.dir, 4],
    ];
    const ready = exitReadiness();
    const run = await runBpftrace(
      `${source}\n${ready.probe}`,
      async () => {
        for (const [dir, times] of runs) {
          for (let i = 0; i < times; i++) {
            const child = sandbox?.spawnIn(dir, join(binDir ?? '', comm));
            await new Promise((r) => child?.on('close', r));
          }
        }
      },
      { ready, attachTimeoutMillis: 180_000 },
    ).finally(() => ready.cleanup());
    const dump = parseOutput(run.stdout).find((e): e is MapSample => e.type === 'map' && e.name === '@exits');
    expect(dump?.final).toBe(true);

    const store = new SeriesStore({
      program,
      maps: { '@exits': { labels: labeler.labelNames('@exits', program.maps[0]?.keyNames ?? []) } },
    });
    store.ingest(labeler.rewrite(dump as MapSample));
    const lines = store
      .prometheusText()
      .split('\n')
      .filter((l) => l.startsWith('bpftrace_exits_total{'))
      .sort();
    const empty =
      'k8s_replicaset_name="",k8s_statefulset_name="",k8s_daemonset_name="",k8s_job_name="",k8s_cronjob_name=""';
    expect(lines).toEqual(
      [
        `bpftrace_exits_total{comm="${comm}",k8s_namespace_name="",k8s_pod_name="",k8s_container_name="",container_id="",k8s_deployment_name="",${empty}} 1`,
        `bpftrace_exits_total{comm="${comm}",k8s_namespace_name="",k8s_pod_name="",k8s_container_name="",container_id="${strayId}",k8s_deployment_name="",${empty}} 4`,
        `bpftrace_exits_total{comm="${comm}",k8s_namespace_name="shop",k8s_pod_name="report",k8s_container_name="worker",container_id="${jobId}",k8s_deployment_name="",${empty}} 2`,
        `bpftrace_exits_total{comm="${comm}",k8s_namespace_name="shop",k8s_pod_name="web-5f7b9c8d4-qk2lp",k8s_container_name="app",container_id="${webId}",k8s_deployment_name="web",${empty}} 3`,
      ].sort(),
    );

    // The pod is deleted: after the grace period its entries are left out, so the exporter expires the series.
    api.delete('pods', 'shop', 'web-5f7b9c8d4-qk2lp');
    await until(() => pods.pod(webUid)?.deletedAt !== undefined, 'the deletion to arrive');
    await until(() => pods.pod(webUid) === undefined, 'the grace period to pass');
    const after = labeler.rewrite({ ...(dump as MapSample), final: false });
    expect(after.entries.map((e) => e.key[2])).not.toContain('web-5f7b9c8d4-qk2lp');
    expect(after.entries.map((e) => e.key[2])).toContain('report');
  }, 300_000);
});
