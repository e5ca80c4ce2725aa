import { SeriesStore } from '@ktrace/exporter';
import { readProgram } from '@ktrace/parser';
import type { MapSample } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { cid, opens, podPath, sample, sidecar, webPod, world } from '../../../../test/support/pod-labeler-world.js';
import { podLabelNames, podLabeledMaps } from './pod-labels.js';

describe('PodLabeler: merged labels, pids, workloads, deletions', () => {
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
