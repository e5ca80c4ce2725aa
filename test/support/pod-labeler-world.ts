// The world a PodLabeler reads in unit tests: one pod (web, two containers) with its cgroup ids, system cgroups,
// pids, a pod cache and a clock the test moves, and a map sample builder.
import type { MapEntry, MapKind, MapSample } from '@ktrace/parser';
import type { V1Pod } from '@kubernetes/client-node';
import { PodCache } from '../../packages/core/src/kubernetes/pod-cache.js';
import { PodLabeler } from '../../packages/core/src/kubernetes/pod-labels.js';
import type { PodLabeledMap } from '../../packages/core/src/kubernetes/pod-labels.js';

export const uid = '0c6f3a55-2b1e-4d8e-9f4a-7a1b2c3d4e5f';
export const cid = 'a1'.repeat(32);
export const sidecar = 'b2'.repeat(32);
export const podPath = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`;

export function webPod(): V1Pod {
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
export function world(
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

export function sample(
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

export const opens: Record<string, PodLabeledMap> = { '@opens': { keyPosition: 1, keyKind: 'cgroup' } };
