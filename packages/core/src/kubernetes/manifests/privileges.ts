// What a bpftrace pod may do on its node: the privileges profiles, each capability explained, and the host mounts.
// The agent DaemonSet and one-shot trace Jobs share this, so the two never drift apart in what they are allowed.
// The measured capability matrix behind these choices: docs/kubernetes-install.md ("Privileges").
import type { V1Container, V1PodSpec, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';

/**
 * - `default`: drop ALL, add BPF + PERFMON + SYSLOG. Tracepoints, kprobes, profile/interval probes, uprobes on
 *   files the pod can see, `cgroup` keys. No hostPID: `pid` is the pod's own PID namespace (bpftrace >= 0.23).
 * - `host-pid`: default + hostPID + SYS_PTRACE, for uprobes into other containers' processes (`-p PID`, or
 *   `uprobe:/proc/PID/root/...` together with SYS_ADMIN) and maps keyed by host `pid`.
 * - `sys-admin`: default + SYS_ADMIN + SYS_RESOURCE, for nodes where `kernel.perf_event_paranoid` >= 3 (Debian,
 *   AKS and EKS images: PERFMON no longer suffices) and kernels before 5.8 (no CAP_BPF/CAP_PERFMON; before 5.11
 *   BPF memory is charged to RLIMIT_MEMLOCK, which SYS_RESOURCE raises).
 * - `host-pid-sys-admin`: both; uprobes through `/proc/PID/root/...` of another container need SYS_PTRACE and SYS_ADMIN.
 */
export const PRIVILEGES_PROFILES = ['default', 'host-pid', 'sys-admin', 'host-pid-sys-admin'] as const;
export type PrivilegesProfile = (typeof PRIVILEGES_PROFILES)[number];

/** How seccomp confines the container: containerd >= 1.6 allows bpf() and perf_event_open() under its
 *  RuntimeDefault profile when CAP_BPF/CAP_PERFMON are held; CRI-O's profile did not before late 2025. */
export const SECCOMP_PROFILES = ['runtime-default', 'unconfined'] as const;
export type SeccompProfile = (typeof SECCOMP_PROFILES)[number];

export interface PodPrivileges {
  hostPID: boolean;
  capabilities: string[];
}

export function podPrivileges(profile: PrivilegesProfile): PodPrivileges {
  // BPF: create maps and load programs. PERFMON: perf_event_open for probes and bpftrace's output buffer.
  // SYSLOG: read real addresses in /proc/kallsyms, so kstack frames are symbolized (without it they print as hex).
  const capabilities = ['BPF', 'PERFMON', 'SYSLOG'];
  const hostPID = profile === 'host-pid' || profile === 'host-pid-sys-admin';
  // SYS_PTRACE: open /proc/PID/ns/mnt and /proc/PID/root of processes that hold capabilities we lack (other containers).
  if (hostPID) capabilities.push('SYS_PTRACE');
  // SYS_ADMIN: the pre-5.8 and perf_event_paranoid >= 3 gate, and the perf_uprobe PMU on some kernels.
  // SYS_RESOURCE: raise RLIMIT_MEMLOCK, which kernels before 5.11 charge BPF maps to.
  if (profile === 'sys-admin' || profile === 'host-pid-sys-admin') capabilities.push('SYS_ADMIN', 'SYS_RESOURCE');
  return { hostPID, capabilities };
}

/**
 * The container's security context. uid 0 is required: bpftrace up to 0.24 refuses any other euid, and later
 * versions need DAC_OVERRIDE and DAC_READ_SEARCH instead, which is not less power. Not `privileged`.
 */
export function containerSecurityContext(profile: PrivilegesProfile): V1SecurityContext {
  return {
    runAsUser: 0,
    runAsGroup: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], add: podPrivileges(profile).capabilities },
  };
}

export function podSecurityFields(
  profile: PrivilegesProfile,
  seccomp: SeccompProfile,
): Pick<V1PodSpec, 'hostPID' | 'securityContext'> {
  return {
    hostPID: podPrivileges(profile).hostPID,
    securityContext: { seccompProfile: { type: seccomp === 'unconfined' ? 'Unconfined' : 'RuntimeDefault' } },
  };
}

interface HostMount {
  name: string;
  path: string;
  readOnly: boolean;
}

/**
 * Host paths a bpftrace pod needs, mounted at the same place:
 * - tracefs: not mounted in containers; bpftrace reads available_events and the events' format files. Read-only
 *   suffices where kprobes and uprobes attach through their perf PMUs (kernels since 4.17).
 * - debugfs: bpftrace prefers debugfs/tracing when it exists, and some hosts mount tracefs only there; runtimes
 *   bind hostPaths recursively, so the tracing mount inside comes along. Read-only.
 * - the cgroup tree: the agent resolves a `cgroup` key (an inode) to a pod through the host's cgroup v2 tree, and
 *   bpftrace's cgroupid()/cgroup_path() need the host tree at /sys/fs/cgroup. Read-only.
 * - /sys/kernel/btf: the kernel's BTF, for tracepoint args and kernel struct types without headers. Read-only.
 */
const HOST_MOUNTS: readonly HostMount[] = [
  { name: 'tracefs', path: '/sys/kernel/tracing', readOnly: true },
  { name: 'debugfs', path: '/sys/kernel/debug', readOnly: true },
  { name: 'cgroup', path: '/sys/fs/cgroup', readOnly: true },
  { name: 'btf', path: '/sys/kernel/btf', readOnly: true },
];

/** The root filesystem is read-only: bpftrace's and clang's scratch files go to an emptyDir /tmp. */
const TMP = { name: 'tmp', path: '/tmp', sizeLimit: '64Mi' };

export function hostVolumes(): V1Volume[] {
  return [
    ...HOST_MOUNTS.map((mount) => ({ name: mount.name, hostPath: { path: mount.path, type: 'Directory' } })),
    { name: TMP.name, emptyDir: { sizeLimit: TMP.sizeLimit } },
  ];
}

export function hostVolumeMounts(): V1VolumeMount[] {
  return [
    ...HOST_MOUNTS.map((mount) => ({ name: mount.name, mountPath: mount.path, readOnly: mount.readOnly })),
    { name: TMP.name, mountPath: TMP.path },
  ];
}

/** Requests and limits of a bpftrace pod: one bpftrace is ~100 MB resident while LLVM compiles, ~90 MB after. */
export function traceResources(kind: 'agent' | 'one-shot'): NonNullable<V1Container['resources']> {
  return kind === 'agent'
    ? { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } }
    : { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } };
}
