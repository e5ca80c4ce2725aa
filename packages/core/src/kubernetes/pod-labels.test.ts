import { describe, expect, it } from 'vitest';
import { cid, opens, podPath, sample, sidecar, webPod, world } from '../../../../test/support/pod-labeler-world.js';
import { podLabelNames } from './pod-labels.js';

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
});
