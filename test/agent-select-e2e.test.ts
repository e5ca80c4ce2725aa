// `ktrace agent` restricts a trace to the pods its podSelector and namespaceSelector select: real cgroups in the
// cgroup2 tree shaped as the kubelet makes them, the same workload run in selected and unselected pods and outside any
// pod, Pods and labelled Namespaces in the loopback API server. No bpftrace runs while no pod of the node is selected;
// the selected pod's count is exact and no other pod (nor any process outside a pod) gets a series; pods that start
// matching later (a pod label, a namespace label) are picked up; once none is selected, bpftrace stops again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupSandbox } from './support/cgroup-sandbox.js';
import { leaseType, runCli, startAgent } from './support/cluster.js';
import { requireBuiltCli, sampleValue } from './support/ktrace-process.js';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { descendants } from './support/proc-tree.js';
import { namedBinary, readsFromStdin, uniqueName } from './support/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-select-'));
let sandbox: CgroupSandbox | undefined;
const api = kubeApiServerPerFile({
  namespaces: ['ktrace'],
  resources: [leaseType],
  setup: (server) => {
    requireBuiltCli();
    server.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux' } } });
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'shop' } } });
    server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab', labels: { team: 'lab' } } });
  },
});

afterAll(() => {
  sandbox?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A running pod of node n1 with one container `app`; its uid. */
function runningPod(namespace: string, name: string, labels: Record<string, string>, containerId: string): string {
  api.seed({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] },
  });
  api.setPodStatus(namespace, name, {
    phase: 'Running',
    nodeName: 'n1',
    containerIDs: { app: `containerd://${containerId}` },
  });
  return String(api.get('pods', namespace, name)?.['metadata']?.uid ?? '');
}

describe('pod selection by the agent', () => {
  it('counts only the selected pods, exactly, follows label changes, and runs bpftrace only while a pod is selected', async () => {
    const ids = { web1: 'a1'.repeat(32), db1: 'b2'.repeat(32), web2: 'c3'.repeat(32) };
    const db1 = runningPod('shop', 'db-1', { app: 'db' }, ids.db1);
    const web2 = runningPod('lab', 'web-2', { app: 'web' }, ids.web2);
    sandbox = new CgroupSandbox('ktrace-test-select-');
    const cgroups = {
      db1: sandbox.container({ driver: 'systemd', podUid: db1, containerId: ids.db1, qosClass: 'besteffort' }).dir,
      web2: sandbox.container({ driver: 'cgroupfs', podUid: web2, containerId: ids.web2, qosClass: 'burstable' }).dir,
    };
    const work = uniqueName('ksw');
    const ping = uniqueName('ksp');
    const dd = namedBinary('/bin/dd', work);
    const pingDd = namedBinary('/bin/dd', ping);
    const runIn = async (cgroup: string, binary: string, count: number): Promise<void> => {
      const child = sandbox?.spawnIn(cgroup, binary, ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`]);
      await new Promise((resolve) => child?.on('close', resolve));
    };

    const traceFile = join(dir, 'reads.bt');
    writeFileSync(traceFile, 'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }\n');
    const kubeconfig = api.kubeconfigPath({ namespace: 'ktrace' });
    const agent = await startAgent(kubeconfig, dir, ['--deleted-pod-grace', '1s']);
    const waitFor = <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> =>
      agent.waitFor(probe, what, 90_000);
    const state = async (wanted: string): Promise<true | undefined> =>
      (await agent.sample('ktrace_agent_trace_state', { trace: 'web', state: wanted })) === 1 ? true : undefined;
    /** Every exported count of `comm`, by pod name ('' outside any pod). */
    const readsByPod = async (comm: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const line of (await agent.metrics()).split('\n')) {
        if (!line.startsWith('bpftrace_reads_total{') || !line.includes(`comm="${comm}"`)) continue;
        const pod = /k8s_pod_name="([^"]*)"/.exec(line)?.[1] ?? '?';
        out[pod] = Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return out;
    };
    const reads = (expected: Record<string, number>, what: string): Promise<true> =>
      waitFor(
        async () => (JSON.stringify(await readsByPod(work)) === JSON.stringify(expected) ? true : undefined),
        `${what}: ${JSON.stringify(expected)}`,
      );

    const applied = await runCli(
      [
        'apply',
        '-f',
        traceFile,
        '--name',
        'web',
        '--pods',
        'app=web',
        '--pod-namespaces',
        'team=shop',
        '--interval',
        '500ms',
        '--kubeconfig',
        kubeconfig,
      ],
      { HOME: dir },
    );
    expect(applied.code).toBe(0);

    // web-2 is a web pod but in namespace lab, db-1 is in shop but no web pod: nothing selected, no bpftrace
    await waitFor(async () => {
      const got = await runCli(['get', 'web', '-o', 'json', '--kubeconfig', kubeconfig], { HOME: dir });
      return got.stdout.includes('no pod of node n1 matches podSelector app=web, namespaceSelector team=shop')
        ? true
        : undefined;
    }, 'ktrace get to show web skipped on n1: no pod is selected');
    expect(await state('skipped')).toBe(true);
    expect(descendants(agent.child.pid ?? 0)).toEqual([]);

    // a selected pod appears: bpftrace starts
    const web1 = runningPod('shop', 'web-1', { app: 'web' }, ids.web1);
    const web1Dir = sandbox.container({
      driver: 'systemd',
      podUid: web1,
      containerId: ids.web1,
      qosClass: 'burstable',
    });
    await waitFor(() => state('running'), 'the trace to run once web-1 is selected');
    await waitFor(async () => {
      await runIn(web1Dir.dir, pingDd, 1);
      return ((await readsByPod(ping))['web-1'] ?? 0) > 0 ? true : undefined;
    }, 'the ping reads inside web-1');

    // the same binary in the selected pod, in two unselected ones and outside any pod
    await Promise.all([
      runIn(web1Dir.dir, dd, 321),
      runIn(cgroups.db1, dd, 200),
      runIn(cgroups.web2, dd, 150),
      readsFromStdin(dd, 77),
    ]);
    await reads({ 'web-1': 321 }, 'only web-1, exactly');
    const text = await agent.metrics();
    expect(
      sampleValue(text, 'bpftrace_reads_total', {
        trace: 'web',
        comm: work,
        k8s_namespace_name: 'shop',
        k8s_pod_name: 'web-1',
        k8s_container_name: 'app',
        container_id: ids.web1,
      }),
    ).toBe(321);

    // the API traffic this costs: one watch each of the trace ConfigMaps, the node's pods and the Namespaces
    expect(api.openWatches()).toBe(3);
    expect(api.requestCounts()).toMatchObject({ 'list namespaces': 1, 'list pods': 1 });

    // pods that start matching later: db-1 by its own label, web-2 by its namespace's; each with its whole count
    expect((await api.kubectl(['label', 'pod', 'db-1', '-n', 'shop', 'app=web', '--overwrite'])).code).toBe(0);
    await reads({ 'web-1': 321, 'db-1': 200 }, 'db-1 selected once labelled app=web');
    expect((await api.kubectl(['label', 'namespace', 'lab', 'team=shop', '--overwrite'])).code).toBe(0);
    await reads({ 'web-1': 321, 'db-1': 200, 'web-2': 150 }, 'web-2 selected once its namespace is team=shop');
    await runIn(cgroups.web2, dd, 5);
    await reads({ 'web-1': 321, 'db-1': 200, 'web-2': 155 }, 'web-2 counting on');

    // web-1 deleted: its series go after the grace period, the others stay
    api.delete('pods', 'shop', 'web-1');
    await reads({ 'db-1': 200, 'web-2': 155 }, "web-1's series gone");

    // nothing selected any more: the trace is skipped and its bpftrace stopped
    api.delete('pods', 'shop', 'db-1');
    expect((await api.kubectl(['label', 'namespace', 'lab', 'team=lab', '--overwrite'])).code).toBe(0);
    await waitFor(() => state('skipped'), 'the trace to be skipped again');
    await waitFor(
      () => Promise.resolve(descendants(agent.child.pid ?? 0).length === 0 ? true : undefined),
      'bpftrace to stop',
    );
    expect(await readsByPod(work)).toEqual({});
    expect((await agent.stop()).code).toBe(0);
  }, 300_000);

  it('refuses a series cap that is not a whole number of series, before contacting anything', async () => {
    const refused = await runCli(['agent', '--node-name', 'n1', '--max-series-per-trace', '0'], { HOME: dir });
    expect(refused).toMatchObject({
      code: 2,
      stderr: 'ktrace: --max-series-per-trace must be a whole number of series (1 or more), not "0"\n',
    });
  });
});
