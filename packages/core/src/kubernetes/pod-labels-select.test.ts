// A trace's pod selection applied by the PodLabeler: only selected pods' entries are exported, processes outside
// any pod never are, and a pod (or namespace) that starts or stops matching is followed at the next dump.
import type { MapEntry, MapSample } from '@ktrace/parser';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podSelected } from './agent-selection.js';
import type { SelectorsOf } from './agent-selection.js';
import { PodCache } from './pod-cache.js';
import { PodLabeler } from './pod-labels.js';

const web = { uid: '11111111-2222-3333-4444-555555555555', cid: 'a1'.repeat(32) };
const db = { uid: '66666666-7777-8888-9999-000000000000', cid: 'b2'.repeat(32) };
const slice = (uid: string): string =>
  `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice`;

function pod(which: typeof web, name: string, namespace: string, labels: Record<string, string>): V1Pod {
  return {
    metadata: { uid: which.uid, name, namespace, labels },
    spec: { nodeName: 'n1', containers: [{ name: 'app' }] },
    status: {
      containerStatuses: [
        { name: 'app', containerID: `containerd://${which.cid}`, image: '', imageID: '', ready: true, restartCount: 0 },
      ],
    },
  };
}

function setup(trace: SelectorsOf) {
  const paths = new Map<bigint, string>([
    [101n, `${slice(web.uid)}/cri-containerd-${web.cid}.scope`],
    [102n, `${slice(db.uid)}/cri-containerd-${db.cid}.scope`],
    [7n, '/system.slice/ssh.service'],
  ]);
  const namespaces = new Map<string, Record<string, string>>([
    ['shop', { team: 'shop' }],
    ['lab', { team: 'lab' }],
  ]);
  const pods = new PodCache({ nodeName: 'n1' });
  const labeler = new PodLabeler({
    cgroupPath: (id) => paths.get(id),
    procCgroup: () => undefined,
    resolvePod: (info) => pods.resolve(info),
    maps: { '@reads': { keyPosition: 1, keyKind: 'cgroup' } },
    select: (meta) => podSelected(trace, meta, (name) => namespaces.get(name)),
  });
  const dump = (entries: [string, number, number][]): MapEntry[] =>
    labeler.rewrite({
      type: 'map',
      name: '@reads',
      kind: 'count',
      entries: entries.map(([comm, cgroup, value]) => ({ key: [comm, cgroup], value })),
    } satisfies MapSample).entries;
  return { pods, namespaces, dump };
}

describe('pod selection in the PodLabeler', () => {
  it('exports only the selected pod, never other pods or processes outside any pod', () => {
    const { pods, dump } = setup({ podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: undefined });
    pods.upsert(pod(web, 'web-1', 'shop', { app: 'web' }));
    pods.upsert(pod(db, 'db-1', 'shop', { app: 'db' }));
    expect(
      dump([
        ['nginx', 101, 5],
        ['postgres', 102, 9],
        ['sshd', 7, 3],
      ]),
    ).toEqual([{ key: ['nginx', 'shop', 'web-1', 'app', web.cid], value: 5 }]);
  });

  it('follows a pod whose labels start and stop matching, with its total since bpftrace started', () => {
    const { pods, dump } = setup({ podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: undefined });
    pods.upsert(pod(web, 'web-1', 'shop', { app: 'web' }));
    pods.upsert(pod(db, 'db-1', 'shop', { app: 'db' }));
    expect(dump([['postgres', 102, 9]])).toEqual([]);
    pods.upsert(pod(db, 'db-1', 'shop', { app: 'web' }));
    expect(dump([['postgres', 102, 12]])).toEqual([{ key: ['postgres', 'shop', 'db-1', 'app', db.cid], value: 12 }]);
    pods.upsert(pod(db, 'db-1', 'shop', { app: 'db' }));
    expect(dump([['postgres', 102, 15]])).toEqual([]);
  });

  it('judges the namespace by its labels now; a namespace not known selects nothing', () => {
    const trace = { podSelector: undefined, namespaceSelector: { matchLabels: { team: 'shop' } } };
    const { pods, namespaces, dump } = setup(trace);
    pods.upsert(pod(web, 'web-1', 'shop', { app: 'web' }));
    pods.upsert(pod(db, 'db-1', 'lab', { app: 'db' }));
    expect(
      dump([
        ['nginx', 101, 1],
        ['postgres', 102, 2],
      ]).map((e) => e.key[2]),
    ).toEqual(['web-1']);
    namespaces.set('lab', { team: 'shop' });
    namespaces.delete('shop');
    expect(
      dump([
        ['nginx', 101, 1],
        ['postgres', 102, 2],
      ]).map((e) => e.key[2]),
    ).toEqual(['db-1']);
  });

  it('an empty podSelector selects every pod, and still no process outside a pod', () => {
    const { pods, dump } = setup({ podSelector: {}, namespaceSelector: undefined });
    pods.upsert(pod(web, 'web-1', 'shop', {}));
    expect(
      dump([
        ['nginx', 101, 1],
        ['sshd', 7, 3],
      ]).map((e) => e.key[0]),
    ).toEqual(['nginx']);
  });
});
