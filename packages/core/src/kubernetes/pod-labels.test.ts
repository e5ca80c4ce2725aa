import { SeriesStore } from '@ktrace/exporter';
import { readProgram } from '@ktrace/parser';
import type { MapEntry, MapKind, MapSample } from '@ktrace/parser';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PodCache } from './pod-cache.js';
import { PodLabeler, podLabelNames, podLabeledMaps } from './pod-labels.js';
import type { PodLabeledMap } from './pod-labels.js';

const uid = '0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f';
const cid = 'a1'.repeat(32);
const sidecar = 'b2'.repeat(32);
const podPath = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`;

function webPod(): V1Pod {
  return {
    metadata: {
      uid,
      name: 'web-7d9f8b6c5d-x2x9k',
      namespace: 'shop',
      labels: { 'pod-template-hash': '7d9f8b6c5d' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b6c5d', uid: 'r', controller: true },
      ],
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'app' }, { name: 'proxy' }] },
    status: {
      containerStatuses: [
        { name: 'app', containerID: `containerd://${cid}`, image: '', imageID: '', ready: true, restartCount: 0 },
        { name: 'proxy', containerID: `containerd://${sidecar}`, image: '', imageID: '', ready: true, restartCount: 0 },
      ],
    },
  };
}

/** A world the labeler reads: cgroup ids → paths, pids → /proc/PID/cgroup, the pod cache, a clock. */
function world(
  maps: Record<string, PodLabeledMap>,
  options: { workload?: boolean; holdMillis?: number; podsCurrent?: () => boolean } = {},
) {
  const paths = new Map<bigint, string>([
    [101n, `${podPath}/cri-containerd-${cid}.scope`],
    [102n, `${podPath}/cri-containerd-${sidecar}.scope`],
    [1n, '/'],
    [7n, '/system.slice/ssh.service'],
    [8n, '/user.slice/user-0.slice/session-1.scope'],
  ]);
  const procs = new Map<number, string>();
  const clock = { now: 0 };
  const pods = new PodCache({ nodeName: 'node-a', deletedGraceMillis: 60_000, now: () => clock.now });
  const labeler = new PodLabeler({
    cgroupPath: (id) => paths.get(id),
    procCgroup: (pid) => procs.get(pid),
    resolvePod: (info) => pods.resolve(info),
    maps,
    holdMillis: options.holdMillis ?? 30_000,
    ...(options.podsCurrent === undefined ? {} : { podsCurrent: options.podsCurrent, maxHoldMillis: 300_000 }),
    now: () => clock.now,
    ...(options.workload === undefined ? {} : { workload: options.workload }),
  });
  return { paths, procs, clock, pods, labeler };
}

function sample(
  name: string,
  entries: [Array<string | number>, number][],
  kind: MapKind = 'count',
  final = false,
): MapSample {
  return {
    type: 'map',
    name,
    kind,
    entries: entries.map(([key, value]): MapEntry => ({ key, value })),
    ...(final ? { final } : {}),
  };
}

const opens: Record<string, PodLabeledMap> = { '@opens': { keyPosition: 1, keyKind: 'cgroup' } };

describe('PodLabeler', () => {
  it('replaces the cgroup id with namespace, pod, container and container id', () => {
    const { pods, labeler } = world(opens);
    pods.upsert(webPod());
    const out = labeler.rewrite(
      sample('@opens', [
        [['nginx', 101], 5],
        [['envoy', 102], 2],
      ]),
    );
    expect(out.entries).toEqual([
      { key: ['nginx', 'shop', 'web-7d9f8b6c5d-x2x9k', 'app', cid], value: 5 },
      { key: ['envoy', 'shop', 'web-7d9f8b6c5d-x2x9k', 'proxy', sidecar], value: 2 },
    ]);
    expect(labeler.labelNames('@opens', ['comm', 'cgroup'])).toEqual(['comm', ...podLabelNames]);
    expect(labeler.labelNames('@other', ['comm'])).toEqual(['comm']);
    // never `namespace`/`pod`, which a PodMonitor's target labels would turn into exported_*
    expect(labeler.addedLabels).not.toContain('namespace');
    expect(labeler.addedLabels).not.toContain('pod');
  });

  it('passes other maps through untouched', () => {
    const { labeler } = world(opens);
    const other = sample('@bytes', [[['x'], 1]]);
    expect(labeler.rewrite(other)).toBe(other);
  });

  it('exports processes outside any pod at once, with empty pod labels, merged when they land on the same labels', () => {
    const { labeler } = world(opens);
    const out = labeler.rewrite(
      sample('@opens', [
        [['sshd', 7], 3],
        [['sshd', 8], 4],
        [['init', 1], 1],
      ]),
    );
    expect(out.entries).toEqual([
      { key: ['sshd', '', '', '', ''], value: 7 },
      { key: ['init', '', '', '', ''], value: 1 },
    ]);
  });

  it('holds an unknown pod’s entries, then exports them with the container id and empty pod labels, never dropped', () => {
    const { clock, labeler, pods } = world(opens, { holdMillis: 30_000 });
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries).toEqual([]);
    clock.now = 29_999;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 2]])).entries).toEqual([]);
    clock.now = 30_000;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 3]])).entries).toEqual([
      { key: ['nginx', '', '', '', cid], value: 3 },
    ]);
    // Sticky: the pod showing up later does not change the series' identity.
    pods.upsert(webPod());
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 4]])).entries).toEqual([
      { key: ['nginx', '', '', '', cid], value: 4 },
    ]);
  });

  it('holds a pod’s cgroup on while the pod source is not current, then for holdMillis once it is, at most maxHoldMillis', () => {
    let current = false;
    const { clock, labeler, pods, paths } = world(opens, { podsCurrent: () => current });
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries).toEqual([]);
    clock.now = 100_000; // the API server is still away: no empty labels yet
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 2]])).entries).toEqual([]);
    current = true; // the watch is back; the pod arrives a little later
    clock.now = 110_000;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 3]])).entries).toEqual([]);
    pods.upsert(webPod());
    clock.now = 120_000;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 4]])).entries[0]?.key).toEqual([
      'nginx',
      'shop',
      'web-7d9f8b6c5d-x2x9k',
      'app',
      cid,
    ]);

    // An agent that never reaches its API server still exports, after maxHoldMillis.
    current = false;
    const unknownId = 'd4'.repeat(32);
    paths.set(103n, `/kubepods/besteffort/pod7a7a7a7a-0000-4000-8000-000000000001/${unknownId}`);
    expect(labeler.rewrite(sample('@opens', [[['job', 103], 1]])).entries).toEqual([]);
    clock.now = 120_000 + 299_999;
    expect(labeler.rewrite(sample('@opens', [[['job', 103], 1]])).entries).toEqual([]);
    clock.now = 120_000 + 300_000;
    expect(labeler.rewrite(sample('@opens', [[['job', 103], 1]])).entries).toEqual([
      { key: ['job', '', '', '', unknownId], value: 1 },
    ]);
  });

  it('resolves a held entry as soon as its pod is known', () => {
    const { clock, labeler, pods } = world(opens);
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries).toEqual([]);
    clock.now = 5000;
    pods.upsert(webPod());
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 2]])).entries).toEqual([
      { key: ['nginx', 'shop', 'web-7d9f8b6c5d-x2x9k', 'app', cid], value: 2 },
    ]);
  });

  it('holds a cgroup id not in the tree yet, and exports it with empty labels after the hold', () => {
    const { clock, labeler, paths, pods } = world(opens);
    pods.upsert(webPod());
    expect(
      labeler.rewrite(
        sample('@opens', [
          [['a', 999], 1],
          [['b', 998], 1],
        ]),
      ).entries,
    ).toEqual([]);
    paths.set(998n, `${podPath}/cri-containerd-${cid}.scope`);
    clock.now = 30_000;
    expect(
      labeler.rewrite(
        sample('@opens', [
          [['a', 999], 1],
          [['b', 998], 1],
        ]),
      ).entries,
    ).toEqual([
      { key: ['a', '', '', '', ''], value: 1 },
      { key: ['b', 'shop', 'web-7d9f8b6c5d-x2x9k', 'app', cid], value: 1 },
    ]);
  });

  it('releases held entries in the exit-time dump', () => {
    const { labeler } = world(opens);
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 9]], 'count', true)).entries).toEqual([
      { key: ['nginx', '', '', '', cid], value: 9 },
    ]);
  });

  it('forgets a key that left the dumps, and resolves it afresh when it comes back', () => {
    const { clock, labeler, pods } = world(opens);
    clock.now = 30_000;
    labeler.rewrite(sample('@opens', [[['nginx', 101], 1]], 'count', true)); // exported with empty pod labels
    labeler.rewrite(sample('@opens', [])); // gone from the dump (cleared, deleted)
    pods.upsert(webPod());
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries[0]?.key).toEqual([
      'nginx',
      'shop',
      'web-7d9f8b6c5d-x2x9k',
      'app',
      cid,
    ]);
  });

  it('keeps the values of held entries of a delta map and adds them to the first labelled dump', () => {
    const { clock, labeler, pods } = world({ '@opens': { keyPosition: 1, keyKind: 'cgroup', reset: 'delta' } });
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 4]])).entries).toEqual([]);
    clock.now = 1000;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 5]])).entries).toEqual([]);
    pods.upsert(webPod());
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 6]])).entries).toEqual([
      { key: ['nginx', 'shop', 'web-7d9f8b6c5d-x2x9k', 'app', cid], value: 15 },
    ]);
  });

  it('releases the held values of a delta map whose key stopped printing, once the pod is known or the hold ends', () => {
    const { clock, labeler, pods, paths } = world({ '@opens': { keyPosition: 1, keyKind: 'cgroup', reset: 'delta' } });
    paths.set(103n, `/kubepods/besteffort/pod7a7a7a7a-0000-4000-8000-000000000001/${'d4'.repeat(32)}`);
    expect(
      labeler.rewrite(
        sample('@opens', [
          [['nginx', 101], 4],
          [['job', 103], 2],
        ]),
      ).entries,
    ).toEqual([]);
    clock.now = 1000;
    pods.upsert(webPod());
    // Neither key printed in this interval (no events): the known pod's held count comes out anyway.
    expect(labeler.rewrite(sample('@opens', [])).entries).toEqual([
      { key: ['nginx', 'shop', 'web-7d9f8b6c5d-x2x9k', 'app', cid], value: 4 },
    ]);
    clock.now = 30_000;
    expect(labeler.rewrite(sample('@opens', [])).entries).toEqual([
      { key: ['job', '', '', '', 'd4'.repeat(32)], value: 2 },
    ]);
    expect(labeler.rewrite(sample('@opens', [])).entries).toEqual([]);
  });

  it('keeps a merged group of a cumulative map from going down when one member leaves the dumps', () => {
    const { labeler } = world(opens);
    expect(
      labeler.rewrite(
        sample('@opens', [
          [['sh', 7], 3],
          [['sh', 8], 4],
        ]),
      ).entries[0]?.value,
    ).toBe(7);
    expect(labeler.rewrite(sample('@opens', [[['sh', 7], 5]])).entries[0]?.value).toBe(9);
    expect(labeler.rewrite(sample('@opens', [[['sh', 7], 6]])).entries[0]?.value).toBe(10);
  });

  it('merges histograms and stats of cgroups that land on the same labels exactly', () => {
    const { labeler } = world({ '@lat': { keyPosition: 0, keyKind: 'cgroup' } });
    const hist: MapSample = {
      type: 'map',
      name: '@lat',
      kind: 'hist',
      entries: [
        {
          key: [7],
          buckets: [
            { min: 1, max: 1, count: 2 },
            { min: 2, max: 3, count: 1 },
          ],
        },
        {
          key: [8],
          buckets: [
            { min: 2, max: 3, count: 4 },
            { min: 4, max: 7, count: 1 },
          ],
        },
      ],
    };
    expect(labeler.rewrite(hist).entries).toEqual([
      {
        key: ['', '', '', ''],
        buckets: [
          { min: 1, max: 1, count: 2 },
          { min: 2, max: 3, count: 5 },
          { min: 4, max: 7, count: 1 },
        ],
      },
    ]);
  });

  it('keeps the pid of a pid-keyed map and appends the labels of its cgroup', () => {
    const { procs, labeler, pods } = world({ '@bytes': { keyPosition: 0, keyKind: 'pid' } });
    pods.upsert(webPod());
    procs.set(4242, `0::${podPath}/cri-containerd-${sidecar}.scope\n`);
    procs.set(1, '0::/init.scope\n');
    expect(
      labeler.rewrite(
        sample(
          '@bytes',
          [
            [[4242], 10],
            [[1], 2],
          ],
          'sum',
        ),
      ).entries,
    ).toEqual([
      { key: [4242, 'shop', 'web-7d9f8b6c5d-x2x9k', 'proxy', sidecar], value: 10 },
      { key: [1, '', '', '', ''], value: 2 },
    ]);
    expect(labeler.labelNames('@bytes', ['pid'])).toEqual(['pid', ...podLabelNames]);
  });

  it('adds the workload when asked: the Deployment from the ReplicaSet name', () => {
    const { pods, labeler } = world(opens, { workload: true });
    pods.upsert(webPod());
    const [entry] = labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries;
    const names = labeler.labelNames('@opens', ['comm', 'cgroup']);
    expect(Object.fromEntries(names.map((n, i) => [n, entry?.key[i]]))).toEqual({
      comm: 'nginx',
      k8s_namespace_name: 'shop',
      k8s_pod_name: 'web-7d9f8b6c5d-x2x9k',
      k8s_container_name: 'app',
      container_id: cid,
      k8s_deployment_name: 'web',
      k8s_replicaset_name: '',
      k8s_statefulset_name: '',
      k8s_daemonset_name: '',
      k8s_job_name: '',
      k8s_cronjob_name: '',
    });
  });

  it('leaves out a deleted pod’s entries once the pod cache dropped it, so its series expire', () => {
    const { clock, pods, labeler } = world(opens);
    pods.upsert(webPod());
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 1]])).entries).toHaveLength(1);
    pods.remove(webPod());
    clock.now = 59_999;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 2]])).entries).toHaveLength(1);
    clock.now = 60_000;
    expect(labeler.rewrite(sample('@opens', [[['nginx', 101], 2]])).entries).toEqual([]);
  });
});

describe('podLabeledMaps and the exporter', () => {
  it('finds the cgroup- and pid-keyed maps of a program', () => {
    const program = readProgram(
      'tracepoint:syscalls:sys_enter_openat { @opens[comm, cgroup] = count(); @by_pid[pid] = count(); @plain[comm] = count(); }\n' +
        'interval:s:1 { print(@d); clear(@d); } tracepoint:raw_syscalls:sys_enter { @d[cgroup] = count(); }',
    );
    expect(podLabeledMaps(program)).toEqual({
      '@opens': { keyPosition: 1, keyKind: 'cgroup', reset: 'cumulative' },
      '@by_pid': { keyPosition: 0, keyKind: 'pid', reset: 'cumulative' },
      '@d': { keyPosition: 0, keyKind: 'cgroup', reset: 'delta' },
    });
    expect(Object.keys(podLabeledMaps(program, { pid: false }))).toEqual(['@opens', '@d']);
  });

  it('gives /metrics series with the pod labels when its names extend the map’s labels option', () => {
    const source = 'tracepoint:syscalls:sys_enter_openat { @opens[comm, cgroup] = count(); }';
    const program = readProgram(source);
    const { pods, labeler } = world(podLabeledMaps(program));
    pods.upsert(webPod());
    const store = new SeriesStore({
      program,
      maps: { '@opens': { labels: labeler.labelNames('@opens', program.maps[0]?.keyNames ?? []) } },
    });
    store.ingest(
      labeler.rewrite(
        sample('@opens', [
          [['nginx', 101], 5],
          [['sshd', 7], 2],
        ]),
      ),
    );
    const text = store.prometheusText();
    expect(text).toContain(
      `bpftrace_opens_total{comm="nginx",k8s_namespace_name="shop",k8s_pod_name="web-7d9f8b6c5d-x2x9k",k8s_container_name="app",container_id="${cid}"} 5`,
    );
    expect(text).toContain(
      'bpftrace_opens_total{comm="sshd",k8s_namespace_name="",k8s_pod_name="",k8s_container_name="",container_id=""} 2',
    );
  });
});
