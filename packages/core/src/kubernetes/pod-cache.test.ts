import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PodCache, containerIdOf, podCacheFeed, workloadOf } from './pod-cache.js';

const id = (c: string): string => c.repeat(64);

/** A pod as the API server returns it (the fields the cache reads, plus some it must not keep). */
function pod(
  overrides: {
    uid?: string;
    name?: string;
    node?: string;
    owner?: { kind: string; name: string };
    hash?: string;
    mirror?: string;
  } = {},
): V1Pod {
  return {
    metadata: {
      uid: overrides.uid ?? '0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f',
      name: overrides.name ?? 'web-7d9f8b6c5d-x2x9k',
      namespace: 'shop',
      labels: { app: 'web', ...(overrides.hash === undefined ? {} : { 'pod-template-hash': overrides.hash }) },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(10_000),
        ...(overrides.mirror === undefined ? {} : { 'kubernetes.io/config.mirror': overrides.mirror }),
      },
      ...(overrides.owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: overrides.owner.kind,
                name: overrides.owner.name,
                uid: 'u',
                controller: true,
              },
            ],
          }),
    },
    spec: { nodeName: overrides.node ?? 'node-a', containers: [{ name: 'app', image: 'nginx' }] },
    status: {
      phase: 'Running',
      initContainerStatuses: [
        {
          name: 'migrate',
          containerID: `containerd://${id('1')}`,
          image: 'i',
          imageID: 'i',
          ready: false,
          restartCount: 0,
        },
      ],
      containerStatuses: [
        {
          name: 'app',
          containerID: `containerd://${id('2')}`,
          image: 'i',
          imageID: 'i',
          ready: true,
          restartCount: 1,
          lastState: { terminated: { exitCode: 1, containerID: `containerd://${id('3')}` } },
        },
        { name: 'sidecar', containerID: `cri-o://${id('4')}`, image: 'i', imageID: 'i', ready: true, restartCount: 0 },
      ],
      ephemeralContainerStatuses: [
        {
          name: 'debugger',
          containerID: `docker://${id('5')}`,
          image: 'i',
          imageID: 'i',
          ready: false,
          restartCount: 0,
        },
      ],
    },
  };
}

describe('workloadOf', () => {
  it('names the Deployment from a ReplicaSet name ending in the pod-template-hash', () => {
    expect(workloadOf(pod({ owner: { kind: 'ReplicaSet', name: 'web-7d9f8b6c5d' }, hash: '7d9f8b6c5d' }))).toEqual({
      kind: 'Deployment',
      name: 'web',
    });
    expect(
      workloadOf(pod({ owner: { kind: 'ReplicaSet', name: 'my-web-api-7d9f8b6c5d' }, hash: '7d9f8b6c5d' })),
    ).toEqual({ kind: 'Deployment', name: 'my-web-api' });
    // A ReplicaSet made by hand: no hash label, so no Deployment is guessed.
    expect(workloadOf(pod({ owner: { kind: 'ReplicaSet', name: 'web-abc' } }))).toEqual({
      kind: 'ReplicaSet',
      name: 'web-abc',
    });
  });

  it('passes StatefulSet, DaemonSet and Job owners through, and finds a CronJob from its Job name', () => {
    expect(workloadOf(pod({ owner: { kind: 'StatefulSet', name: 'db' } }))).toEqual({
      kind: 'StatefulSet',
      name: 'db',
    });
    expect(workloadOf(pod({ owner: { kind: 'DaemonSet', name: 'ktrace-agent' } }))).toEqual({
      kind: 'DaemonSet',
      name: 'ktrace-agent',
    });
    expect(workloadOf(pod({ owner: { kind: 'Job', name: 'backup-29412360' } }))).toEqual({
      kind: 'CronJob',
      name: 'backup',
    });
    expect(workloadOf(pod({ owner: { kind: 'Job', name: 'migrate-v2' } }))).toEqual({
      kind: 'Job',
      name: 'migrate-v2',
    });
    expect(workloadOf(pod())).toBeUndefined();
  });
});

describe('PodCache', () => {
  it('strips the runtime prefix of container ids', () => {
    expect(containerIdOf(`containerd://${id('a')}`)).toBe(id('a'));
    expect(containerIdOf(`cri-o://${id('b')}`)).toBe(id('b'));
    expect(containerIdOf('')).toBeUndefined();
  });

  it('resolves a container id of any kind of container to its pod and name, and a pod-level cgroup to the pod', () => {
    const cache = new PodCache({ nodeName: 'node-a' });
    cache.upsert(pod({ owner: { kind: 'ReplicaSet', name: 'web-7d9f8b6c5d' }, hash: '7d9f8b6c5d' }));
    const names = ['1', '2', '3', '4', '5'].map((c) => cache.resolve({ containerId: id(c) })?.containerName);
    expect(names).toEqual(['migrate', 'app', 'app', 'sidecar', 'debugger']);
    const resolved = cache.resolve({ containerId: id('2') });
    expect(resolved?.pod).toMatchObject({
      namespace: 'shop',
      name: 'web-7d9f8b6c5d-x2x9k',
      nodeName: 'node-a',
      workload: { kind: 'Deployment', name: 'web' },
    });
    // The pause container's cgroup: the pod is known by UID, the container is not one of its statuses.
    expect(cache.resolve({ containerId: id('9'), podUid: '0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f' })).toMatchObject({
      containerName: '',
      pod: { name: 'web-7d9f8b6c5d-x2x9k' },
    });
    expect(cache.resolve({ containerId: id('9') })).toBeUndefined();
  });

  it('keeps only the fields it needs', () => {
    const cache = new PodCache();
    cache.upsert(pod());
    const kept = cache.pod('0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f');
    expect(Object.keys(kept ?? {}).sort()).toEqual(['containers', 'labels', 'name', 'namespace', 'nodeName', 'uid']);
    // the labels (for podSelector), never the annotations
    expect(kept?.labels).toEqual({ app: 'web' });
    expect(JSON.stringify([...(kept?.containers ?? [])]).length).toBeLessThan(600);
  });

  it('ignores pods of other nodes, and forgets a pod that moved away', () => {
    const cache = new PodCache({ nodeName: 'node-a' });
    cache.upsert(pod({ node: 'node-b' }));
    expect(cache.size).toBe(0);
    cache.upsert(pod());
    cache.upsert(pod({ node: 'node-b' }));
    expect(cache.resolve({ containerId: id('2') })).toBeUndefined();
  });

  it('finds a static pod by the config hash its cgroup path carries', () => {
    const cache = new PodCache();
    cache.upsert(
      pod({
        uid: '9d1e2f3a-0000-4000-8000-000000000001',
        name: 'kube-apiserver-node-a',
        mirror: 'a93317589e76b7828c77926fd38148b8',
      }),
    );
    expect(cache.resolve({ podUid: 'a93317589e76b7828c77926fd38148b8' })?.pod.name).toBe('kube-apiserver-node-a');
  });

  it('keeps a deleted pod resolvable for the grace period, then drops it', () => {
    let now = 1000;
    const cache = new PodCache({ deletedGraceMillis: 60_000, now: () => now });
    cache.upsert(pod());
    cache.remove(pod());
    now += 59_999;
    expect(cache.resolve({ containerId: id('2') })?.containerName).toBe('app');
    now += 1;
    expect(cache.resolve({ containerId: id('2') })).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('takes pods missing from a relist as deleted, and one seen again as alive', () => {
    let now = 0;
    const cache = new PodCache({ deletedGraceMillis: 10, now: () => now });
    cache.upsert(pod());
    cache.upsert(pod({ uid: '11111111-2222-4333-8444-555555555555', name: 'other' }));
    cache.replace([pod({ uid: '11111111-2222-4333-8444-555555555555', name: 'other' })]);
    now = 10;
    expect(cache.pod('0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f')).toBeUndefined();
    expect(cache.pod('11111111-2222-4333-8444-555555555555')?.name).toBe('other');
  });

  it('is bounded: past maxPods, deleted pods go first, then the oldest', () => {
    const cache = new PodCache({ maxPods: 2 });
    const uid = (n: number): string => `00000000-0000-4000-8000-00000000000${n}`;
    cache.upsert(pod({ uid: uid(1), name: 'one' }));
    cache.upsert(pod({ uid: uid(2), name: 'two' }));
    cache.remove(pod({ uid: uid(2), name: 'two' }));
    cache.upsert(pod({ uid: uid(3), name: 'three' }));
    expect([cache.pod(uid(1))?.name, cache.pod(uid(2))?.name, cache.pod(uid(3))?.name]).toEqual([
      'one',
      undefined,
      'three',
    ]);
    cache.upsert(pod({ uid: uid(4), name: 'four' }));
    expect(cache.size).toBe(2);
    expect(cache.pod(uid(1))).toBeUndefined();
  });

  it('can be fed by a generic list+watch loop', () => {
    let now = 0;
    const cache = new PodCache({ deletedGraceMillis: 10, now: () => now });
    const feed = podCacheFeed(cache);
    feed.onSynced([pod()]);
    expect(cache.resolve({ containerId: id('2') })?.containerName).toBe('app');
    feed.onChange('added', pod({ uid: '11111111-2222-4333-8444-555555555555', name: 'other' }));
    feed.onChange('deleted', pod());
    now = 10;
    expect(cache.resolve({ containerId: id('2') })).toBeUndefined();
    expect(cache.pod('11111111-2222-4333-8444-555555555555')?.name).toBe('other');
  });

  it('tells its listener when what it knows changes, not when a status update changes nothing it keeps', () => {
    let now = 0;
    let changes = 0;
    const cache = new PodCache({ deletedGraceMillis: 10, now: () => now, onChange: () => changes++ });
    cache.upsert(pod());
    expect(changes).toBe(1);
    const ready = pod();
    ready.status = { ...ready.status, phase: 'Succeeded' };
    cache.upsert(ready);
    expect(changes).toBe(1);
    const relabelled = pod();
    relabelled.metadata = { ...relabelled.metadata, labels: { app: 'api' } };
    cache.upsert(relabelled);
    expect(changes).toBe(2);
    cache.remove(relabelled);
    expect(changes).toBe(3);
    expect(cache.nextExpiryAt()).toBe(10);
    now = 10;
    expect(cache.list()).toEqual([]);
    expect(changes).toBe(4);
    expect(cache.nextExpiryAt()).toBeUndefined();
  });
});
