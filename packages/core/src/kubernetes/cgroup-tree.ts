// The host's cgroup v2 tree as the agent sees it: where it is mounted, which directory a cgroup id (bpftrace's
// `cgroup`, the directory's inode) names, and which cgroup a pid is in (/proc/PID/cgroup).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KtraceError } from '@ktrace/parser';
import { unifiedPathOf } from './cgroup-path.js';

/** A cgroup2 mount from mountinfo: where it is mounted, and which directory of the hierarchy it shows. */
export interface Cgroup2Mount {
  mountPoint: string;
  /** The hierarchy path at the mount point: `/` for the host's tree, a sub-path for a cgroup namespace's view. */
  root: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * The cgroup2 mount in a mountinfo text (/proc/self/mountinfo). With `hostRoot` (a DaemonSet that mounts the host's
 * tree at /host), a mount under it is preferred; otherwise the first cgroup2 mount (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid host).
 */
export function findCgroup2Mount(mountinfo: string, hostRoot = ''): Cgroup2Mount | undefined {
  const mounts: Cgroup2Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined || right.split(' ')[0] !== 'cgroup2') continue;
    const fields = left.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    mounts.push({ mountPoint: unescapeMountField(mountPoint), root: unescapeMountField(root) });
  }
  const prefix = hostRoot.replace(/\/+$/, '');
  if (prefix !== '') {
    const underHost = mounts.find((m) => m.mountPoint === prefix || m.mountPoint.startsWith(`${prefix}/`));
    if (underHost !== undefined) return underHost;
  }
  return mounts[0];
}

export interface CgroupTreeOptions {
  /** The cgroup2 mount point to read; default: found in `mountinfo`. */
  mountPoint?: string;
  /** Where the host's file systems are mounted in a DaemonSet (`/host`): its cgroup2 mount and `<hostRoot>/proc`. */
  hostRoot?: string;
  /** Default /proc/self/mountinfo. */
  mountinfoPath?: string;
  /** A miss rescans the tree at most this often (default 1000 ms): a burst of unknown ids costs one walk. */
  minRescanIntervalMillis?: number;
  /** A rescan stops after this many directories (default 100 000); so does the index it keeps. */
  maxDirectories?: number;
  /** How long a pid's cgroup is trusted before /proc is read again, against pid reuse (default 60 000 ms). */
  pidTtlMillis?: number;
  now?: () => number;
}

export interface CgroupTreeStats {
  rescans: number;
  directoriesSeen: number;
  /** True when the last rescan stopped at maxDirectories. */
  truncated: boolean;
}

/**
 * Resolves cgroup ids to paths in the cgroup2 hierarchy (`/kubepods.slice/…/cri-containerd-<id>.scope`). A hit in the
 * cache is re-checked (the directory still has that inode) as bpftrace's cgroup_path() does; a miss triggers a
 * rescan of the tree, rate-limited, that refreshes the whole index at once.
 */
export class CgroupTree {
  readonly mountPoint: string;
  /** The hierarchy path at the mount point (joined before every path this returns). */
  readonly mountRoot: string;
  private readonly procDir: string;
  private readonly byId = new Map<bigint, string>();
  private readonly pids = new Map<number, { text: string; at: number }>();
  private lastRescanAt = Number.NEGATIVE_INFINITY;
  private readonly minRescanIntervalMillis: number;
  private readonly maxDirectories: number;
  private readonly pidTtlMillis: number;
  private readonly now: () => number;
  private statistics: CgroupTreeStats = { rescans: 0, directoriesSeen: 0, truncated: false };

  constructor(options: CgroupTreeOptions = {}) {
    const hostRoot = (options.hostRoot ?? '').replace(/\/+$/, '');
    this.procDir = `${hostRoot}/proc`;
    this.minRescanIntervalMillis = options.minRescanIntervalMillis ?? 1000;
    this.maxDirectories = options.maxDirectories ?? 100_000;
    this.pidTtlMillis = options.pidTtlMillis ?? 60_000;
    this.now = options.now ?? Date.now;
    if (options.mountPoint !== undefined) {
      this.mountPoint = options.mountPoint;
      this.mountRoot = '/';
      return;
    }
    const mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
    let mountinfo: string;
    try {
      mountinfo = readFileSync(mountinfoPath, 'utf8');
    } catch (error) {
      throw new KtraceError({
        code: 'KTRACE_IO',
        message: `cannot read ${mountinfoPath} to find the cgroup v2 mount: ${(error as Error).message}`,
        cause: error,
      });
    }
    const mount = findCgroup2Mount(mountinfo, hostRoot);
    if (mount === undefined) {
      throw new KtraceError({
        code: 'KTRACE_MISSING_KERNEL_FEATURE',
        message: `no cgroup2 file system is mounted (${mountinfoPath}): pod labels need the host's cgroup v2 tree${hostRoot === '' ? '' : ` under ${hostRoot}`}`,
      });
    }
    this.mountPoint = mount.mountPoint;
    this.mountRoot = mount.root;
  }

  /** The hierarchy path of a cgroup id, or undefined when no directory has that inode (yet, or any more). */
  pathOf(id: bigint | number | string): string | undefined {
    const key = BigInt(id);
    const cached = this.byId.get(key);
    if (cached !== undefined && this.inodeAt(cached) === key) return cached;
    if (cached !== undefined) this.byId.delete(key);
    if (this.now() - this.lastRescanAt < this.minRescanIntervalMillis) return undefined;
    this.rescan();
    return this.byId.get(key);
  }

  /** The cgroup v2 path of a process (its /proc/PID/cgroup `0::` line), or undefined when it is gone. */
  pathOfPid(pid: number): string | undefined {
    const text = this.procCgroupOf(pid);
    return text === undefined ? undefined : unifiedPathOf(text);
  }

  /** The text of /proc/PID/cgroup (cached for pidTtlMillis), or undefined when the process is gone. */
  procCgroupOf(pid: number): string | undefined {
    const at = this.now();
    const cached = this.pids.get(pid);
    if (cached !== undefined && at - cached.at < this.pidTtlMillis) return cached.text;
    this.pids.delete(pid);
    let text: string;
    try {
      text = readFileSync(`${this.procDir}/${pid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
    if (this.pids.size >= this.maxDirectories) this.prunePids(at);
    this.pids.set(pid, { text, at });
    return text;
  }

  stats(): CgroupTreeStats {
    return { ...this.statistics };
  }

  /** The mount-point directory of a hierarchy path. */
  directoryOf(path: string): string {
    const relative =
      this.mountRoot === '/' ? path : path.startsWith(this.mountRoot) ? path.slice(this.mountRoot.length) : path;
    return join(this.mountPoint, relative);
  }

  private inodeAt(path: string): bigint | undefined {
    try {
      return statSync(this.directoryOf(path), { bigint: true }).ino;
    } catch {
      return undefined;
    }
  }

  /** One bounded walk of the tree (breadth first, so a cap cuts the deepest levels): rebuilds the index. */
  private rescan(): void {
    this.lastRescanAt = this.now();
    this.byId.clear();
    const base = this.mountRoot === '/' ? '' : this.mountRoot.replace(/\/+$/, '');
    const queue: string[] = [''];
    let seen = 0;
    let truncated = false;
    for (let head = 0; head < queue.length; head++) {
      const relative = queue[head] ?? '';
      const dir = relative === '' ? this.mountPoint : join(this.mountPoint, relative);
      let ino: bigint;
      try {
        ino = statSync(dir, { bigint: true }).ino;
      } catch {
        continue; // removed while we walked
      }
      this.byId.set(ino, relative === '' ? base || '/' : `${base}/${relative}`);
      if (++seen >= this.maxDirectories) {
        truncated = true;
        break;
      }
      let children: string[];
      try {
        children = readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name);
      } catch {
        continue;
      }
      for (const child of children) queue.push(relative === '' ? child : `${relative}/${child}`);
    }
    this.statistics = { rescans: this.statistics.rescans + 1, directoriesSeen: seen, truncated };
  }

  private prunePids(at: number): void {
    for (const [pid, entry] of this.pids) if (at - entry.at >= this.pidTtlMillis) this.pids.delete(pid);
    if (this.pids.size >= this.maxDirectories) this.pids.clear();
  }
}
