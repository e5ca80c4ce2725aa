// The pods of this node, as far as pod labels and pod selection need them: UID, namespace, name, labels, container
// id → container name, and the workload that owns the pod. Fed by watch events; a deleted pod stays resolvable for a
// grace period. Bounded: at most maxPods pods and 64 container ids each; nothing else of a pod is kept.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { CgroupPathInfo } from './cgroup-path.js';

/** The controller of a pod, as far as the pod itself tells (no ReplicaSet or Job is read). */
export interface PodWorkload {
  /** Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, or another owner's kind as written. */
  kind: string;
  name: string;
}

export interface PodMeta {
  uid: string;
  namespace: string;
  name: string;
  nodeName: string;
  /** The pod's labels, for a trace's podSelector. */
  labels: Readonly<Record<string, string>>;
  /** Container id (64 hex, runtime prefix stripped) → container name, for containers, init and ephemeral ones. */
  containers: ReadonlyMap<string, string>;
  workload?: PodWorkload;
  /** A static pod's config hash (annotation `kubernetes.io/config.mirror`): its cgroup path names this, not the UID. */
  configHash?: string;
  /** When the watch said the pod was deleted (epoch ms). */
  deletedAt?: number;
}

export interface PodResolution {
  pod: PodMeta;
  /** Empty when the cgroup is the pod's but not one of its containers (the sandbox, pod overhead). */
  containerName: string;
}

export interface PodCacheOptions {
  /** Pods scheduled elsewhere are ignored (the watch is node-scoped; this keeps a wrong feed from filling memory). */
  nodeName?: string;
  /** How long a deleted pod stays resolvable, so its last dumps still get labels (default 60 000 ms). */
  deletedGraceMillis?: number;
  /** At most this many pods are kept, deleted ones dropped first (default 1100: 10 × the kubelet's 110 pods). */
  maxPods?: number;
  now?: () => number;
  /** Called after the set of pods or what is known of one changed (upsert, deletion, relist, expiry). */
  onChange?: () => void;
}

/** Container ids kept per pod: restarts add ids, and old ids still name cgroups that late dumps report. */
const maxContainerIdsPerPod = 64;

/** `containerd://<id>`, `cri-o://<id>`, `docker://<id>` → `<id>`. */
export function containerIdOf(statusId: string | undefined): string | undefined {
  if (statusId === undefined || statusId === '') return undefined;
  const at = statusId.indexOf('://');
  const id = (at < 0 ? statusId : statusId.slice(at + 3)).toLowerCase();
  return id === '' ? undefined : id;
}

/**
 * The workload of a pod from its controller owner reference: a ReplicaSet named `<deployment>-<pod-template-hash>`
 * is the Deployment's (the pod carries the hash as a label); a Job named `<cronjob>-<scheduled minutes>` (8 or
 * more digits) is a CronJob's. Undefined for a bare pod.
 */
export function workloadOf(pod: V1Pod): PodWorkload | undefined {
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  if (owner === undefined) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash !== undefined && hash !== '' && owner.name.endsWith(`-${hash}`))
      return { kind: 'Deployment', name: owner.name.slice(0, -hash.length - 1) };
    return { kind: 'ReplicaSet', name: owner.name };
  }
  if (owner.kind === 'Job') {
    const cron = /^(.+)-\d{8,}$/.exec(owner.name);
    if (cron !== null) return { kind: 'CronJob', name: cron[1] ?? owner.name };
  }
  return { kind: owner.kind, name: owner.name };
}

function statusIds(statuses: V1ContainerStatus[] | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const status of statuses ?? []) {
    for (const raw of [status.containerID, status.lastState?.terminated?.containerID]) {
      const id = containerIdOf(raw);
      if (id !== undefined) out.push([id, status.name]);
    }
  }
  return out;
}

export class PodCache {
  private readonly pods = new Map<string, PodMeta>();
  private readonly byContainer = new Map<string, string>();
  private readonly byConfigHash = new Map<string, string>();
  private readonly nodeName: string | undefined;
  private readonly deletedGraceMillis: number;
  private readonly maxPods: number;
  private readonly now: () => number;
  private readonly onChange: () => void;
  /** When the oldest deletion's grace period ends: sweeps before then have nothing to do. */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(options: PodCacheOptions = {}) {
    this.nodeName = options.nodeName;
    this.deletedGraceMillis = options.deletedGraceMillis ?? 60_000;
    this.maxPods = options.maxPods ?? 1100;
    this.now = options.now ?? Date.now;
    const onChange = options.onChange;
    this.onChange =
      onChange === undefined
        ? () => undefined
        : () => {
            try {
              onChange();
            } catch {
              // a failing listener must not break the feed
            }
          };
  }

  get size(): number {
    return this.pods.size;
  }

  /** Every pod known now, deleted ones still in their grace period included. */
  list(): PodMeta[] {
    this.sweep();
    return [...this.pods.values()];
  }

  /** When the next deleted pod's grace period ends (epoch ms), if one is pending. */
  nextExpiryAt(): number | undefined {
    return this.nextExpiry === Number.POSITIVE_INFINITY ? undefined : this.nextExpiry;
  }

  /** An ADDED or MODIFIED pod (also one seen again after a deletion by a relist). */
  upsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined || uid === '') return;
    const nodeName = pod.spec?.nodeName ?? '';
    if (this.nodeName !== undefined && nodeName !== this.nodeName) {
      this.drop(uid);
      return;
    }
    const previous = this.pods.get(uid);
    const containers = new Map(previous?.containers ?? []);
    const status = pod.status;
    for (const [id, name] of [
      ...statusIds(status?.initContainerStatuses),
      ...statusIds(status?.containerStatuses),
      ...statusIds(status?.ephemeralContainerStatuses),
    ]) {
      containers.delete(id);
      containers.set(id, name);
    }
    while (containers.size > maxContainerIdsPerPod) containers.delete(containers.keys().next().value ?? '');
    for (const id of previous?.containers.keys() ?? []) if (!containers.has(id)) this.byContainer.delete(id);
    const workload = workloadOf(pod);
    const configHash = pod.metadata?.annotations?.['kubernetes.io/config.mirror'];
    const meta: PodMeta = {
      uid,
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      nodeName,
      labels: { ...(pod.metadata?.labels ?? {}) },
      containers,
      ...(workload === undefined ? {} : { workload }),
      ...(configHash === undefined || configHash === '' ? {} : { configHash }),
    };
    const changed = previous === undefined || previous.deletedAt !== undefined || !sameMeta(previous, meta);
    this.pods.delete(uid);
    this.pods.set(uid, meta);
    for (const id of containers.keys()) this.byContainer.set(id, uid);
    if (meta.configHash !== undefined) this.byConfigHash.set(meta.configHash, uid);
    this.bound();
    if (changed) this.onChange();
  }

  /** A DELETED pod: kept (with its last known containers) for the grace period, then dropped. */
  remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined) return;
    if (this.pods.has(uid)) this.upsert(pod);
    const meta = this.pods.get(uid);
    if (meta !== undefined && meta.deletedAt === undefined) this.markDeleted(meta, this.now());
  }

  /** A relist: the list is the truth; pods absent from it are taken as deleted (and kept for the grace period). */
  replace(pods: V1Pod[]): void {
    const listed = new Set<string>();
    for (const pod of pods) {
      this.upsert(pod);
      if (pod.metadata?.uid !== undefined) listed.add(pod.metadata.uid);
    }
    const at = this.now();
    for (const meta of this.pods.values())
      if (!listed.has(meta.uid) && meta.deletedAt === undefined) this.markDeleted(meta, at);
  }

  /** The pod with this UID (or static-pod config hash), if known and not deleted longer than the grace period ago. */
  pod(uidOrHash: string): PodMeta | undefined {
    this.sweep();
    return this.pods.get(uidOrHash) ?? this.pods.get(this.byConfigHash.get(uidOrHash) ?? '');
  }

  /** Pod and container for what a cgroup path tells: by container id first, else by pod UID or config hash. */
  resolve(info: CgroupPathInfo): PodResolution | undefined {
    this.sweep();
    if (info.containerId !== undefined) {
      const pod = this.pods.get(this.byContainer.get(info.containerId) ?? '');
      const containerName = pod?.containers.get(info.containerId);
      if (pod !== undefined && containerName !== undefined) return { pod, containerName };
    }
    if (info.podUid === undefined) return undefined;
    const pod = this.pod(info.podUid);
    if (pod === undefined) return undefined;
    return { pod, containerName: info.containerId === undefined ? '' : (pod.containers.get(info.containerId) ?? '') };
  }

  /** Drops pods deleted longer than the grace period ago. */
  sweep(): void {
    const now = this.now();
    if (now < this.nextExpiry) return;
    const cutoff = now - this.deletedGraceMillis;
    this.nextExpiry = Number.POSITIVE_INFINITY;
    for (const [uid, meta] of this.pods) {
      if (meta.deletedAt === undefined) continue;
      if (meta.deletedAt <= cutoff) this.drop(uid);
      else this.nextExpiry = Math.min(this.nextExpiry, meta.deletedAt + this.deletedGraceMillis);
    }
  }

  private markDeleted(meta: PodMeta, at: number): void {
    this.pods.set(meta.uid, { ...meta, deletedAt: at });
    this.nextExpiry = Math.min(this.nextExpiry, at + this.deletedGraceMillis);
    this.onChange();
  }

  private drop(uid: string): void {
    const meta = this.pods.get(uid);
    if (meta === undefined) return;
    this.pods.delete(uid);
    this.onChange();
    for (const id of meta.containers.keys()) if (this.byContainer.get(id) === uid) this.byContainer.delete(id);
    if (meta.configHash !== undefined && this.byConfigHash.get(meta.configHash) === uid)
      this.byConfigHash.delete(meta.configHash);
  }

  /** Over maxPods: deleted pods go first (oldest deletion first), then the least recently updated. */
  private bound(): void {
    if (this.pods.size <= this.maxPods) return;
    const deleted = [...this.pods.values()]
      .filter((p) => p.deletedAt !== undefined)
      .sort((a, b) => (a.deletedAt ?? 0) - (b.deletedAt ?? 0));
    for (const pod of deleted) {
      if (this.pods.size <= this.maxPods) return;
      this.drop(pod.uid);
    }
    for (const uid of this.pods.keys()) {
      if (this.pods.size <= this.maxPods) return;
      this.drop(uid);
    }
  }
}

/** Whether two versions of a pod tell the same (status-only updates such as readiness change nothing here). */
function sameMeta(a: PodMeta, b: PodMeta): boolean {
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.nodeName === b.nodeName &&
    a.configHash === b.configHash &&
    a.workload?.kind === b.workload?.kind &&
    a.workload?.name === b.workload?.name &&
    JSON.stringify(a.labels) === JSON.stringify(b.labels) &&
    JSON.stringify([...a.containers]) === JSON.stringify([...b.containers])
  );
}

/**
 * Callbacks that feed a PodCache from a generic list+watch loop (changes `added`/`modified`/`deleted`, and the full
 * set after each relist), for a caller that drives the watch itself instead of PodWatch.
 */
export function podCacheFeed(cache: PodCache): {
  onChange: (change: 'added' | 'modified' | 'deleted', pod: V1Pod) => void;
  onSynced: (pods: V1Pod[]) => void;
} {
  return {
    onChange: (change, pod) => (change === 'deleted' ? cache.remove(pod) : cache.upsert(pod)),
    onSynced: (pods) => cache.replace(pods),
  };
}
