// The path rules: a cgroup path (or /proc/PID/cgroup text) → container runtime, container id, pod UID and QoS class,
// for containerd, CRI-O and Docker under the kubelet's systemd and cgroupfs drivers. Pure: no file system.

export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker';
export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

/** What a cgroup path tells about the process in it. */
export interface CgroupPathInfo {
  /** Undefined when the path gives a container id without its runtime (the bare 64-hex directory of cgroupfs). */
  runtime?: ContainerRuntime;
  /** 64 lower-case hex digits. Undefined for a pod-level cgroup (pod overhead, CRI-O's conmon). */
  containerId?: string;
  /** The pod's UID with dashes (systemd slices spell it with `_`), or a static pod's 32-hex config hash. */
  podUid?: string;
  /** Set when the path is inside a pod: guaranteed pods have no QoS level in their path. */
  qosClass?: QosClass;
}

const hex64 = /^[0-9a-f]{64}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const configHash = /^[0-9a-f]{32}$/;
/** `kubepods-burstable-pod<uid_>.slice`, `kubepods-pod<uid_>.slice`, kind's `kubelet-kubepods-…-pod<uid_>.slice`. */
const systemdPod = /^(?:[a-z0-9_]+-)*kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]+)\.slice$/;
/** cgroupfs: `pod<uid>` under `kubepods[/<qos>]`. */
const cgroupfsPod = /^pod([0-9a-f-]+)$/;
/** Container scopes and directories, by runtime. CRI-O's conmon scope is not the container (checked first). */
const conmon = /^crio-conmon-[0-9a-f]{64}(?:\.scope)?$/;
const containerRules: { pattern: RegExp; runtime: ContainerRuntime | undefined }[] = [
  { pattern: /^cri-containerd-([0-9a-f]{64})\.scope$/, runtime: 'containerd' },
  { pattern: /^crio-([0-9a-f]{64})(?:\.scope)?$/, runtime: 'cri-o' },
  { pattern: /^docker-([0-9a-f]{64})\.scope$/, runtime: 'docker' },
  { pattern: /^([0-9a-f]{64})$/, runtime: undefined },
];
/** cgroup v1 with the systemd naming of containerd/cri-o: `<pod slice>:<prefix>:<id>` in one segment. */
const colonRuntimes: Record<string, ContainerRuntime> = {
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  docker: 'docker',
};

/** A pod UID as the API server spells it, or undefined when the token is not one. */
function podUidOf(token: string): string | undefined {
  const dashed = token.replace(/_/g, '-');
  if (uuid.test(dashed)) return dashed;
  if (configHash.test(token)) return token;
  return undefined;
}

function podAt(segment: string, parent: string | undefined): { podUid: string; qosClass: QosClass } | undefined {
  const systemd = systemdPod.exec(segment);
  if (systemd !== null) {
    const podUid = podUidOf(systemd[2] ?? '');
    return podUid === undefined
      ? undefined
      : { podUid, qosClass: (systemd[1] as QosClass | undefined) ?? 'guaranteed' };
  }
  const cgroupfs = cgroupfsPod.exec(segment);
  if (cgroupfs !== null) {
    const podUid = podUidOf(cgroupfs[1] ?? '');
    if (podUid === undefined) return undefined;
    const qosClass: QosClass = parent === 'burstable' || parent === 'besteffort' ? parent : 'guaranteed';
    return { podUid, qosClass };
  }
  return undefined;
}

function containerAt(segment: string): { runtime?: ContainerRuntime; containerId: string } | 'conmon' | undefined {
  if (conmon.test(segment)) return 'conmon';
  for (const rule of containerRules) {
    const match = rule.pattern.exec(segment);
    if (match !== null)
      return { ...(rule.runtime === undefined ? {} : { runtime: rule.runtime }), containerId: match[1] ?? '' };
  }
  return undefined;
}

/**
 * Reads one cgroup path (`/kubepods.slice/…/cri-containerd-<id>.scope`), or one /proc/PID/cgroup line (`0::/…`,
 * `4:memory:/…`). The last pod segment wins and the container is the segment right below it, so a kind node's own
 * container id earlier in the path is never taken for the pod's. Leading `/..` segments (a reader in another cgroup
 * namespace) are ignored. Undefined when the path is in no pod and no container.
 */
export function parseCgroupPath(pathOrLine: string): CgroupPathInfo | undefined {
  const line = /^\d+:[^:]*:(.*)$/.exec(pathOrLine.trim());
  const path = line === null ? pathOrLine.trim() : (line[1] ?? '');
  const segments = path.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');

  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] ?? '';
    // cgroup v1 + systemd naming: `kubepods-besteffort-pod<uid_>.slice:cri-containerd:<id>`.
    const colon = segment.split(':');
    if (colon.length === 3) {
      const pod = podAt(colon[0] ?? '', segments[i - 1]);
      const runtime = colonRuntimes[colon[1] ?? ''];
      const id = colon[2] ?? '';
      if (pod !== undefined && hex64.test(id))
        return { ...(runtime === undefined ? {} : { runtime }), containerId: id, ...pod };
    }
    const pod = podAt(segment, segments[i - 1]);
    if (pod === undefined) continue;
    const below = segments[i + 1];
    const container = below === undefined ? undefined : containerAt(below);
    if (container === undefined || container === 'conmon') return pod;
    return { ...container, ...pod };
  }
  // Not in a pod: a container of a runtime (docker outside Kubernetes), the innermost one.
  for (let i = segments.length - 1; i >= 0; i--) {
    const container = containerAt(segments[i] ?? '');
    if (container !== undefined && container !== 'conmon') return container;
  }
  return undefined;
}

/** The cgroup v2 path of a /proc/PID/cgroup text (its `0::` line), or undefined on a pure v1 host. */
export function unifiedPathOf(procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim();
  }
  return undefined;
}

/** v1 hierarchies that name the container on a v1 host, in the order they are tried. */
const v1Controllers = ['name=systemd', 'memory', 'cpu', 'cpu,cpuacct', 'pids'];

/**
 * Reads a whole /proc/PID/cgroup: the v2 (`0::`) line first; when it names no pod or container (a v1 or hybrid host
 * where the kubelet manages only v1 hierarchies), the v1 systemd, memory, cpu or pids line.
 */
export function parseProcCgroup(procCgroup: string): CgroupPathInfo | undefined {
  const unified = unifiedPathOf(procCgroup);
  const fromUnified = unified === undefined ? undefined : parseCgroupPath(unified);
  if (fromUnified !== undefined) return fromUnified;
  const lines = procCgroup
    .split('\n')
    .map((l) => /^\d+:([^:]*):(.*)$/.exec(l.trim()))
    .filter((m) => m !== null);
  for (const controller of v1Controllers) {
    const match = lines.find((m) => m[1] === controller);
    const info = match === undefined ? undefined : parseCgroupPath(match[2] ?? '');
    if (info !== undefined) return info;
  }
  return undefined;
}
