// On the node, in a one-shot trace's pod: the cgroup ids of a target pod (all of its containers) or of some of
// its containers, found by walking the host's cgroup2 tree for directories named after the pod uid (`-` or `_`,
// as systemd writes it) and the runtime's container ids (containerd, CRI-O, Docker; systemd or cgroupfs drivers).
import { readdirSync, statSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KtraceError } from '@ktrace/parser';

/** `--target-pod UID[/CONTAINER_ID]`, as one-shot.ts writes it. */
export interface PodCgroupTarget {
  uid: string;
  containerId?: string;
}

export function parsePodCgroupTarget(arg: string): PodCgroupTarget {
  const [uid, containerId, extra] = arg.split('/');
  if (uid === undefined || !/^[0-9a-fA-F-]{8,}$/.test(uid) || extra !== undefined || containerId === '') {
    throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: `--target-pod must be POD_UID or POD_UID/CONTAINER_ID, not "${arg}"` });
  }
  return { uid, ...(containerId === undefined ? {} : { containerId }) };
}

/** The cgroup2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
export function cgroup2Root(base = '/sys/fs/cgroup'): string {
  if (existsSync(join(base, 'cgroup.controllers'))) return base;
  if (existsSync(join(base, 'unified', 'cgroup.controllers'))) return join(base, 'unified');
  throw new KtraceError({ code: 'KTRACE_MISSING_KERNEL_FEATURE', message: `no cgroup2 hierarchy under ${base}: a pod target needs cgroup v2 (or the hybrid unified tree)` });
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

/** Every directory under `root` (itself included), depth-first, to a bounded depth. */
function walk(root: string, depth: number, visit: (dir: string) => 'descend' | 'skip'): void {
  if (visit(root) === 'skip' || depth === 0) return;
  for (const dir of subdirs(root)) walk(dir, depth - 1, visit);
}

/** The cgroup ids (directory inodes, what bpftrace's `cgroup` returns) of the targets' cgroups and their children. */
export function podCgroupIds(targets: readonly PodCgroupTarget[], root = cgroup2Root()): bigint[] {
  const ids = new Set<bigint>();
  const addTree = (dir: string): void => walk(dir, 4, (d) => (ids.add(statSync(d, { bigint: true }).ino), 'descend'));
  for (const target of targets) {
    const forms = [target.uid, target.uid.replaceAll('-', '_')];
    const before = ids.size;
    walk(root, 8, (dir) => {
      if (!forms.some((f) => basename(dir).includes(f))) return 'descend';
      if (target.containerId === undefined) addTree(dir);
      else walk(dir, 3, (d) => (basename(d).includes(target.containerId ?? '') ? (addTree(d), 'skip') : 'descend'));
      return 'skip';
    });
    if (ids.size === before) {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: `no cgroup of pod ${target.uid}${target.containerId === undefined ? '' : ` container ${target.containerId}`} under ${root}: it does not run on this node (any more)`,
      });
    }
  }
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
