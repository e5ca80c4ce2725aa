// `ktrace agent` puts pod labels on a trace's series: real cgroups in the cgroup2 tree shaped as the kubelet makes
// them (systemd driver, containerd), a workload inside one, the matching Pod seeded in the loopback API server, a
// trace whose map asks for pod labels (podLabels: true); /metrics carries the exact count with k8s_namespace_name,
// k8s_pod_name, k8s_container_name and container_id; the pod is deleted and its series go.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupSandbox } from './support/cgroup-sandbox.js';
import { leaseType, runCli, startAgent } from './support/cluster.js';
import { requireBuiltCli } from './support/ktrace-process.js';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { namedBinary, readsFromStdin, uniqueName } from './support/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-pods-'));
let sandbox: CgroupSandbox | undefined;
const api = kubeApiServerPerFile({
  namespaces: ['ktrace', 'shop'],
  resources: [leaseType],
  setup: (server) => {
    requireBuiltCli();
    server.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux' } } });
  },
});

afterAll(() => {
  sandbox?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('pod labels from the agent', () => {
  it('labels a container’s reads with its pod, exactly, and drops the series once the pod is gone', async () => {
    const containerId = 'de'.repeat(32);
    api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'shop' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    api.setPodStatus('shop', 'web-1', {
      phase: 'Running',
      nodeName: 'n1',
      containerIDs: { app: `containerd://${containerId}` },
    });
    const podUid = String(api.get('pods', 'shop', 'web-1')?.['metadata']?.uid ?? '');
    sandbox = new CgroupSandbox('ktrace-test-cluster-');
    const web = sandbox.container({ driver: 'systemd', podUid, containerId, qosClass: 'burstable' });

    const work = uniqueName('kpw');
    const ping = uniqueName('kpp');
    const dd = namedBinary('/bin/dd', work);
    const pingDd = namedBinary('/bin/dd', ping);
    const traceFile = join(dir, 'reads.yaml');
    writeFileSync(
      traceFile,
      [
        'program: |',
        '  tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
        'interval: 500ms',
        "maps: {'@reads': {podLabels: true}}",
        'limits: {expireAfterDumps: 2}',
      ].join('\n'),
    );
    const kubeconfig = api.kubeconfigPath({ namespace: 'ktrace' });
    const agent = await startAgent(kubeconfig, dir, ['--deleted-pod-grace', '1s']);
    const noPod = { k8s_namespace_name: '', k8s_pod_name: '', k8s_container_name: '', container_id: '' };
    const inPod = {
      k8s_namespace_name: 'shop',
      k8s_pod_name: 'web-1',
      k8s_container_name: 'app',
      container_id: containerId,
    };
    const reads = (comm: string, labels: Record<string, string>): Promise<number | undefined> =>
      agent.sample('bpftrace_reads_total', { trace: 'reads', comm, ...labels });

    const applied = await runCli(['apply', '-f', traceFile, '--kubeconfig', kubeconfig], { HOME: dir });
    expect(applied.code).toBe(0);
    // a process outside any pod is counted too, with empty pod labels: proof that bpftrace is attached
    await agent.waitFor(
      async () => {
        await readsFromStdin(pingDd, 1);
        return ((await reads(ping, noPod)) ?? 0) > 0 ? true : undefined;
      },
      'the ping reads, outside any pod',
      90_000,
    );
    const child = sandbox.spawnIn(web.dir, dd, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=321', 'status=none']);
    await new Promise((resolve) => child.on('close', resolve));
    await agent.waitFor(
      async () => ((await reads(work, inPod)) === 321 ? true : undefined),
      '321 reads labelled with pod web-1',
    );
    expect(await reads(work, noPod)).toBeUndefined();

    api.delete('pods', 'shop', 'web-1');
    await agent.waitFor(
      async () => ((await reads(work, inPod)) === undefined ? true : undefined),
      "the deleted pod's series to go",
    );
    expect(((await reads(ping, noPod)) ?? 0) > 0).toBe(true);
  }, 240_000);
});
