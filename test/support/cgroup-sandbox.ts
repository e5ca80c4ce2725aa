// Real kubepods-shaped cgroups for tests (root only): a top-level directory in the host's cgroup2 hierarchy with a
// prefix the test owns, pod and container cgroups under it, processes started inside them, and a cleanup that moves
// every process back to the root cgroup, kills what it started and removes the directories deepest first.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cgroup2 mount of these machines (hybrid layout), else the unified layout's. */
export function cgroup2MountPoint(): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
  const mountPoint = line?.split(' ')[4];
  if (mountPoint === undefined) throw new Error('no cgroup2 file system is mounted: these tests need one');
  return mountPoint;
}

export interface PodCgroupOptions {
  driver: 'systemd' | 'cgroupfs';
  podUid: string;
  /** 64 hex digits. */
  containerId: string;
  qosClass: 'guaranteed' | 'burstable' | 'besteffort';
  /** How the container's directory is named under the systemd driver (default containerd's `cri-containerd-`). */
  runtime?: 'containerd' | 'cri-o' | 'docker';
}

export interface ContainerCgroup {
  /** Absolute directory. */
  dir: string;
  /** The path in the cgroup2 hierarchy, as /proc/PID/cgroup prints it. */
  path: string;
  /** bpftrace's `cgroup` for processes in it: the directory's inode. */
  id: bigint;
}

const scopePrefix = { containerd: 'cri-containerd-', 'cri-o': 'crio-', docker: 'docker-' } as const;

/** The kubelet's relative path of a container cgroup under each driver. */
export function kubepodsPath(options: PodCgroupOptions): string {
  const { driver, podUid, containerId, qosClass } = options;
  if (driver === 'cgroupfs')
    return ['kubepods', ...(qosClass === 'guaranteed' ? [] : [qosClass]), `pod${podUid}`, containerId].join('/');
  const qos = qosClass === 'guaranteed' ? '' : `-${qosClass}`;
  const slices = [
    'kubepods.slice',
    ...(qosClass === 'guaranteed' ? [] : [`kubepods${qos}.slice`]),
    `kubepods${qos}-pod${podUid.replace(/-/g, '_')}.slice`,
  ];
  return [...slices, `${scopePrefix[options.runtime ?? 'containerd']}${containerId}.scope`].join('/');
}

export class CgroupSandbox {
  readonly mountPoint: string;
  /** The sandbox's own top-level directory. */
  readonly top: string;
  private readonly children: ChildProcess[] = [];

  /** `prefix` names everything this sandbox makes at the top level (e.g. `ktrace-test-pods-`). */
  constructor(prefix: string) {
    if (process.getuid?.() !== 0) throw new Error('real cgroup tests need root');
    this.mountPoint = cgroup2MountPoint();
    this.top = join(this.mountPoint, `${prefix}${process.pid}-${Math.floor(Math.random() * 1e6)}`);
    mkdirSync(this.top);
  }

  /** Makes a container cgroup (and its pod and QoS parents) under the sandbox. */
  container(options: PodCgroupOptions): ContainerCgroup {
    const dir = join(this.top, kubepodsPath(options));
    mkdirSync(dir, { recursive: true });
    return { dir, path: dir.slice(this.mountPoint.length), id: statSync(dir, { bigint: true }).ino };
  }

  /** Starts `command` already inside `dir`: the shell moves itself there, then execs, so every event is inside. */
  spawnIn(dir: string, command: string, args: string[] = []): ChildProcess {
    const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('/bin/sh', ['-c', `echo $$ > '${dir}/cgroup.procs' && exec ${quoted}`], { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** Moves a running process into `dir`. */
  move(pid: number, dir: string): void {
    writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
  }

  /** Moves everything back to the root cgroup, kills what this sandbox started, removes its directories. */
  cleanup(): void {
    if (!existsSync(this.top)) return;
    const dirs: string[] = [];
    const walk = (dir: string): void => {
      dirs.push(dir);
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(join(dir, entry.name));
    };
    walk(this.top);
    dirs.sort((a, b) => b.split('/').length - a.split('/').length);
    const rootProcs = join(this.mountPoint, 'cgroup.procs');
    for (const dir of dirs) {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          writeFileSync(rootProcs, `${pid}\n`);
        } catch {
          // it exited meanwhile
        }
      }
    }
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const dir of dirs) rmdirWhenEmpty(dir);
  }
}

/** rmdir, retrying briefly: a killed process leaves its cgroup a moment after the signal. */
function rmdirWhenEmpty(dir: string): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
