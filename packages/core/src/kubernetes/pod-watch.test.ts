import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer } from '../../../../test/support/kube-api-server/index.js';
import type { KubeApiServer, KubeObject } from '../../../../test/support/kube-api-server/index.js';
import { PodCache } from './pod-cache.js';
import { createKubeClient } from './kube-client.js';
import { PodWatch } from './pod-watch.js';

let api: KubeApiServer;
const watches: PodWatch[] = [];

beforeAll(async () => {
  api = await startKubeApiServer({ namespaces: ['shop'] });
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  for (const watch of watches.splice(0)) watch.stop();
  for (const pod of api.list('pods')) api.delete('pods', pod['metadata']?.namespace, pod['metadata']?.name ?? '');
});

const hex = (c: string): string => c.repeat(64);

function seedPod(name: string, node: string, containers: Record<string, string> = {}): string {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: {
      containers: (Object.keys(containers).length === 0 ? ['main'] : Object.keys(containers)).map((c) => ({
        name: c,
        image: 'busybox:1.36',
      })),
    },
  };
  api.seed(pod);
  api.setPodStatus('shop', name, {
    phase: 'Running',
    nodeName: node,
    ...(Object.keys(containers).length === 0 ? {} : { containerIDs: containers }),
  });
  return api.get('pods', 'shop', name)?.['metadata']?.uid ?? '';
}

function start(cache: PodCache, node = 'node-a'): PodWatch {
  const client = createKubeClient({ kubeconfig: api.kubeconfigPath({ namespace: 'shop' }) });
  const watch = new PodWatch({ client, nodeName: node, cache, initialBackoffMillis: 20, maxBackoffMillis: 200 });
  watches.push(watch);
  watch.start();
  return watch;
}

async function until(condition: () => boolean, what: string, timeoutMillis = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PodWatch against the loopback API server', () => {
  it('lists and watches only its node’s pods, with a field selector, and follows changes and deletions', async () => {
    const a = seedPod('web-a', 'node-a', { app: `containerd://${hex('a')}` });
    seedPod('web-b', 'node-b', { app: `containerd://${hex('b')}` });
    // No node filter in the cache: only the server-side field selector keeps node-b's pods out.
    const cache = new PodCache();
    api.resetRequests();
    const watch = start(cache);
    await watch.synced();
    expect(cache.resolve({ containerId: hex('a') })).toMatchObject({
      containerName: 'app',
      pod: { name: 'web-a', namespace: 'shop', uid: a },
    });
    expect(cache.size).toBe(1);
    await until(() => api.openWatches() === 1, 'the watch to open');
    const requests = api.requests({ resource: 'pods' });
    expect(requests.map((r) => r.verb)).toEqual(['list', 'watch']);
    expect(requests.every((r) => r.namespace === undefined || r.namespace === '')).toBe(true);

    // A new pod on this node, and its containers starting, arrive through the watch.
    const c = seedPod('api-c', 'node-a');
    api.setPodStatus('shop', 'api-c', { phase: 'Running', containerIDs: { main: `cri-o://${hex('c')}` } });
    await until(() => cache.resolve({ containerId: hex('c') })?.containerName === 'main', 'the new pod’s container');
    expect(cache.pod(c)?.name).toBe('api-c');
    // A pod of another node never does.
    seedPod('other-d', 'node-b', { main: `containerd://${hex('d')}` });

    api.delete('pods', 'shop', 'web-a');
    await until(() => cache.pod(a)?.deletedAt !== undefined, 'the deletion');
    expect(cache.resolve({ containerId: hex('a') })?.pod.name).toBe('web-a'); // still resolvable in its grace period
    expect(cache.resolve({ containerId: hex('d') })).toBeUndefined();
    expect(api.requests({ resource: 'pods', verb: 'list' })).toHaveLength(1);
  });

  it('watches again from where it was when the server ends a watch, without listing again', async () => {
    const cache = new PodCache({ nodeName: 'node-a' });
    const watch = start(cache);
    await watch.synced();
    await until(() => api.openWatches() === 1, 'the watch to open');
    seedPod('before-close', 'node-a');
    await until(() => cache.size === 1, 'the first pod');
    expect(api.closeWatches()).toBe(1);
    await until(() => api.openWatches() === 1 && watch.status().watches === 2, 'the second watch');
    seedPod('after-close', 'node-a');
    await until(() => cache.size === 2, 'the pod added after the close');
    expect(watch.status().lists).toBe(1);
  });

  it('lists again on 410 Gone and takes pods missing from the new list as deleted', async () => {
    const cache = new PodCache({ nodeName: 'node-a' });
    const keep = seedPod('keep', 'node-a');
    const gone = seedPod('gone', 'node-a');
    const watch = start(cache);
    await watch.synced();
    await until(() => api.openWatches() === 1, 'the watch to open');
    // Make the watch's resourceVersion too old: close it, delete a pod, compact the history.
    api.closeWatches();
    api.delete('pods', 'shop', 'gone');
    const later = seedPod('later', 'node-a');
    api.compact();
    await until(() => watch.status().lists === 2, 'a relist after 410');
    await until(() => cache.pod(later) !== undefined, 'the pod created before the relist');
    expect(cache.pod(gone)?.deletedAt).toBeDefined();
    expect(cache.pod(keep)?.deletedAt).toBeUndefined();
    expect(watch.status().state).toBe('watching');
  });

  it('survives the API server going away and coming back', async () => {
    const cache = new PodCache({ nodeName: 'node-a' });
    const stays = seedPod('stays', 'node-a');
    const leaves = seedPod('leaves', 'node-a');
    const watch = start(cache);
    await watch.synced();
    await until(() => api.openWatches() === 1, 'the watch to open');

    await api.stop();
    await until(() => watch.status().failures >= 2, 'failed retries while the server is away');
    expect(watch.current()).toBe(false);
    expect(watch.status().lastError).toMatch(/ECONNREFUSED/);
    // Meanwhile the cluster changes.
    api.delete('pods', 'shop', 'leaves');
    const arrived = seedPod('arrived', 'node-a', { main: `containerd://${hex('e')}` });
    expect(cache.pod(leaves)?.deletedAt).toBeUndefined(); // an outage is not a deletion

    await api.restart();
    await until(() => cache.pod(arrived) !== undefined, 'the pod created during the outage');
    expect(cache.resolve({ containerId: hex('e') })?.containerName).toBe('main');
    expect(cache.pod(leaves)?.deletedAt).toBeDefined();
    expect(cache.pod(stays)?.deletedAt).toBeUndefined();
    await until(() => watch.status().state === 'watching' && api.openWatches() === 1, 'a watch again');
    expect(watch.current()).toBe(true);
    // And the new watch delivers changes.
    const next = seedPod('next', 'node-a');
    await until(() => cache.pod(next) !== undefined, 'a pod after the outage');
  });

  it('stops cleanly: no watch stays open', async () => {
    const watch = start(new PodCache());
    await watch.synced();
    await until(() => api.openWatches() === 1, 'the watch to open');
    watch.stop();
    await until(() => api.openWatches() === 0, 'the watch to close');
    expect(watch.status().state).toBe('stopped');
  });
});
