// On the node, in a one-shot trace's pod: the cgroup ids of a target pod (all of its containers) or of some of
// its containers, found by walking the host's cgroup2 tree and reading each path with cgroup-path.ts's rules
// (containerd, CRI-O, Docker; systemd or cgroupfs drivers).
import { readdirSync, statSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { KtraceError } from '@ktrace/parser';
import { parseCgroupPath } from './cgroup-path.js';

/** `--target-pod UID[/CONTAINER_ID]`, as one-shot.ts writes it. */
export interface PodCgroupTarget {
  uid: string;
  containerId?: string;
}

export function parsePodCgroupTarget(arg: string): PodCgroupTarget {
  const [uid, containerId, extra] = arg.split('/');
  if (uid === undefined || !/^[0-9a-fA-F-]{8,}$/.test(uid) || extra !== undefined || containerId === '') {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--target-pod must be POD_UID or POD_UID/CONTAINER_ID, not "${arg}"`,
    });
  }
  return { uid, ...(containerId === undefined ? {} : { containerId }) };
}

/** The cgroup2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
export function cgroup2Root(base = '/sys/fs/cgroup'): string {
  if (existsSync(join(base, 'cgroup.controllers'))) return base;
  if (existsSync(join(base, 'unified', 'cgroup.controllers'))) return join(base, 'unified');
  throw new KtraceError({
    code: 'KTRACE_MISSING_KERNEL_FEATURE',
    message: `no cgroup2 hierarchy under ${base}: a pod target needs cgroup v2 (or the hybrid unified tree)`,
  });
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * The cgroup ids (directory inodes, what bpftrace's `cgroup` returns) of the targets: every cgroup that
 * cgroup-path.ts reads as the pod (and, with a container id, that container), children included.
 */
export function podCgroupIds(targets: readonly PodCgroupTarget[], root = cgroup2Root()): bigint[] {
  const found = new Map<PodCgroupTarget, bigint[]>(targets.map((t) => [t, []]));
  const visit = (dir: string, depth: number): void => {
    const info = parseCgroupPath(relative(root, dir));
    if (info?.podUid !== undefined) {
      for (const target of targets) {
        if (info.podUid !== target.uid) continue;
        if (target.containerId !== undefined && info.containerId !== target.containerId) continue;
        found.get(target)?.push(statSync(dir, { bigint: true }).ino);
      }
    }
    if (depth < 12) for (const sub of subdirs(dir)) visit(sub, depth + 1);
  };
  visit(root, 0);
  const ids = new Set<bigint>();
  for (const [target, list] of found) {
    if (list.length === 0) {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: `no cgroup of pod ${target.uid}${target.containerId === undefined ? '' : ` container ${target.containerId}`} under ${root}: it does not run on this node (any more)`,
      });
    }
    for (const id of list) ids.add(id);
  }
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
