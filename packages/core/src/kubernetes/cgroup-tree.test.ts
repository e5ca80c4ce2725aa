import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOutput } from '@ktrace/parser';
import type { MapSample } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupReadiness, exitReadiness, runBpftrace } from '../../../../test/support/bpftrace-session.js';
import { CgroupSandbox } from '../../../../test/support/cgroup-sandbox.js';
import { parseCgroupPath } from './cgroup-path.js';
import { CgroupTree, findCgroup2Mount } from './cgroup-tree.js';

const podUid = '3f2a9c1e-7b4d-4e8a-9c61-0d5e2f7a8b90';
const otherUid = 'b7e41d02-5c3a-4f19-8e2d-6a0c9b1f3e57';
const containerId = 'c0ffee'.repeat(10) + 'c0ff';
const otherContainer = '5eed'.repeat(16);

/** Polls until `condition` holds (bounded). */
async function until(condition: () => boolean, what: string, timeoutMillis = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function inCgroup(pid: number, path: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`0::${path}\n`);
  } catch {
    return false;
  }
}

describe('findCgroup2Mount', () => {
  it('finds this machine’s cgroup2 mount in /proc/self/mountinfo', () => {
    const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(mount).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
  });

  it('prefers the host tree a DaemonSet mounts under its host root, and unescapes mount points', () => {
    // Lines as a container's /proc/self/mountinfo shows them: its own cgroup namespace view at /sys/fs/cgroup,
    // the host's hierarchy bind-mounted at /host/sys/fs/cgroup (a hostPath volume).
    const mountinfo = [
      '1301 1290 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate',
      '1340 1290 0:27 / /host/sys/fs/cgroup ro,relatime master:9 - cgroup2 cgroup2 rw,nsdelegate',
      '1341 1290 0:27 / /host/my\\040root/sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw',
      '1350 1290 0:5 / /proc rw,nosuid - proc proc rw',
    ].join('\n');
    expect(findCgroup2Mount(mountinfo)?.mountPoint).toBe('/sys/fs/cgroup');
    expect(findCgroup2Mount(mountinfo, '/host')?.mountPoint).toBe('/host/sys/fs/cgroup');
    expect(findCgroup2Mount(mountinfo, '/host/my root/')?.mountPoint).toBe('/host/my root/sys/fs/cgroup');
    expect(findCgroup2Mount('1350 1290 0:5 / /proc rw - proc proc rw\n')).toBeUndefined();
  });

  it('says plainly when no cgroup2 is mounted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-test-pods-'));
    try {
      writeMountinfo(dir, '1350 1290 0:5 / /proc rw - proc proc rw\n');
      expect(() => new CgroupTree({ mountinfoPath: join(dir, 'mountinfo') })).toThrow(
        /no cgroup2 file system is mounted/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

function writeMountinfo(dir: string, text: string): void {
  execFileSync('/bin/sh', ['-c', `cat > '${join(dir, 'mountinfo')}'`], { input: text });
}

describe('CgroupTree on real cgroups', () => {
  let sandbox: CgroupSandbox | undefined;
  const mounts: string[] = [];
  const temps: string[] = [];
  afterEach(() => {
    for (const mount of mounts.splice(0)) execFileSync('umount', [mount]);
    sandbox?.cleanup();
    sandbox = undefined;
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the inode of systemd- and cgroupfs-driver container cgroups to their paths, and a pid to its cgroup', async () => {
    sandbox = new CgroupSandbox('ktrace-test-pods-');
    const systemd = sandbox.container({ driver: 'systemd', podUid, containerId, qosClass: 'burstable' });
    const cgroupfs = sandbox.container({
      driver: 'cgroupfs',
      podUid: otherUid,
      containerId: otherContainer,
      qosClass: 'besteffort',
    });
    expect(systemd.path).toMatch(
      /\/kubepods\.slice\/kubepods-burstable\.slice\/kubepods-burstable-pod3f2a9c1e_7b4d_4e8a_9c61_0d5e2f7a8b90\.slice\/cri-containerd-c0ffee.*\.scope$/,
    );
    expect(cgroupfs.path).toMatch(/\/kubepods\/besteffort\/podb7e41d02-5c3a-4f19-8e2d-6a0c9b1f3e57\/(5eed){16}$/);

    const tree = new CgroupTree();
    expect(tree.mountPoint).toBe('/sys/fs/cgroup/unified');
    expect(tree.pathOf(systemd.id)).toBe(systemd.path);
    expect(tree.pathOf(cgroupfs.id)).toBe(cgroupfs.path);
    expect(parseCgroupPath(tree.pathOf(systemd.id) ?? '')).toEqual({
      runtime: 'containerd',
      containerId,
      podUid,
      qosClass: 'burstable',
    });
    expect(parseCgroupPath(tree.pathOf(cgroupfs.id) ?? '')).toEqual({
      containerId: otherContainer,
      podUid: otherUid,
      qosClass: 'besteffort',
    });
    expect(tree.pathOf(1)).toBe('/'); // the root of the hierarchy: processes outside any pod on this hybrid host

    const sleeper: ChildProcess = sandbox.spawnIn(systemd.dir, 'sleep', ['600']);
    const pid = sleeper.pid ?? 0;
    await until(() => inCgroup(pid, systemd.path), 'the sleep to be in its cgroup');
    expect(tree.pathOfPid(pid)).toBe(systemd.path);
    expect(parseCgroupPath(tree.pathOfPid(pid) ?? '')?.podUid).toBe(podUid);

    // A process moved in from outside is found as well.
    const moved = sandbox.spawnIn(sandbox.top, 'sleep', ['600']);
    await until(
      () => inCgroup(moved.pid ?? 0, sandbox?.top.slice(tree.mountPoint.length) ?? ''),
      'the second sleep to start',
    );
    sandbox.move(moved.pid ?? 0, cgroupfs.dir);
    await until(() => inCgroup(moved.pid ?? 0, cgroupfs.path), 'the move');
    const fresh = new CgroupTree({ pidTtlMillis: 0 });
    expect(fresh.pathOfPid(moved.pid ?? 0)).toBe(cgroupfs.path);
    expect(fresh.pathOfPid(2 ** 22 + 1)).toBeUndefined(); // above pid_max: no such process
  });

  it('re-checks the inode on a hit, and rescans at most once per interval on misses', () => {
    sandbox = new CgroupSandbox('ktrace-test-pods-');
    let now = 0;
    const tree = new CgroupTree({ now: () => now, minRescanIntervalMillis: 1000 });
    const first = sandbox.container({ driver: 'cgroupfs', podUid, containerId, qosClass: 'burstable' });
    expect(tree.pathOf(first.id)).toBe(first.path);
    expect(tree.stats().rescans).toBe(1);
    expect(tree.pathOf(first.id)).toBe(first.path); // a hit: no walk
    expect(tree.stats().rescans).toBe(1);

    // The container goes away: its id no longer names it even though the cache had it.
    execFileSync('rmdir', [first.dir]);
    expect(tree.pathOf(first.id)).toBeUndefined();

    // A new cgroup made just after a rescan is found once the interval has passed, not by a walk per lookup.
    now += 1000;
    const second = sandbox.container({
      driver: 'cgroupfs',
      podUid,
      containerId: otherContainer,
      qosClass: 'burstable',
    });
    const rescans = tree.stats().rescans;
    expect(tree.pathOf(second.id)).toBe(second.path);
    expect(tree.stats().rescans).toBe(rescans + 1);
    const third = sandbox.container({ driver: 'cgroupfs', podUid: otherUid, containerId, qosClass: 'burstable' });
    expect(tree.pathOf(third.id)).toBeUndefined(); // within the interval
    expect(tree.pathOf(123_456_789_012)).toBeUndefined();
    expect(tree.stats().rescans).toBe(rescans + 1);
    now += 1000;
    expect(tree.pathOf(third.id)).toBe(third.path);
  });

  it('caps a rescan at maxDirectories', () => {
    sandbox = new CgroupSandbox('ktrace-test-pods-');
    const tree = new CgroupTree({ maxDirectories: 3 });
    const deep = sandbox.container({ driver: 'systemd', podUid, containerId, qosClass: 'besteffort' });
    expect(tree.pathOf(deep.id)).toBeUndefined();
    expect(tree.stats()).toMatchObject({ directoriesSeen: 3, truncated: true });
  });

  it('reads the host tree under a host-root prefix, as a DaemonSet with a hostPath mount does', () => {
    sandbox = new CgroupSandbox('ktrace-test-pods-');
    const container = sandbox.container({
      driver: 'systemd',
      podUid,
      containerId,
      qosClass: 'guaranteed',
      runtime: 'cri-o',
    });
    const hostRoot = mkdtempSync(join(tmpdir(), 'ktrace-test-pods-host-'));
    temps.push(hostRoot);
    const cgroupDir = join(hostRoot, 'sys/fs/cgroup');
    mkdirSync(cgroupDir, { recursive: true });
    execFileSync('mount', ['-t', 'cgroup2', 'none', cgroupDir]);
    mounts.push(cgroupDir);
    mkdirSync(join(hostRoot, 'proc'));
    execFileSync('mount', ['-t', 'proc', 'proc', join(hostRoot, 'proc')]);
    mounts.unshift(join(hostRoot, 'proc'));

    const tree = new CgroupTree({ hostRoot });
    expect(tree.mountPoint).toBe(cgroupDir);
    expect(tree.pathOf(container.id)).toBe(container.path);
    expect(parseCgroupPath(tree.pathOf(container.id) ?? '')).toEqual({
      runtime: 'cri-o',
      containerId,
      podUid,
      qosClass: 'guaranteed',
    });
    const ownPath = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    expect(tree.pathOfPid(process.pid)).toBe(ownPath);
  });
});

describe('bpftrace 0.17 and the resolver agree on cgroup ids', () => {
  let sandbox: CgroupSandbox | undefined;
  afterEach(() => {
    cleanupReadiness();
    sandbox?.cleanup();
    sandbox = undefined;
  });

  it('a map keyed by cgroup holds the inode the resolver maps to the workload’s container cgroup', async () => {
    sandbox = new CgroupSandbox('ktrace-test-pods-');
    const container = sandbox.container({ driver: 'systemd', podUid, containerId, qosClass: 'burstable' });
    const binDir = mkdtempSync(join(tmpdir(), 'ktrace-test-pods-bin-'));
    const name = `ktpods${process.pid % 10000}`;
    copyFileSync('/bin/true', join(binDir, name));
    execFileSync('chmod', ['+x', join(binDir, name)]);
    const ready = exitReadiness();
    try {
      const run = await runBpftrace(
        `tracepoint:sched:sched_process_exit /comm == "${name}"/ { @exits[cgroup] = count(); }\n${ready.probe}`,
        async () => {
          for (let i = 0; i < 3; i++) {
            const child = sandbox?.spawnIn(container.dir, join(binDir, name));
            await new Promise((r) => child?.on('close', r));
          }
        },
        { ready, attachTimeoutMillis: 180_000 },
      );
      const samples = parseOutput(run.stdout).filter((e): e is MapSample => e.type === 'map' && e.name === '@exits');
      const entries = samples.at(-1)?.entries ?? [];
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      expect(entry?.value).toBe(3);
      const tree = new CgroupTree();
      expect(tree.pathOf(entry?.key[0] ?? -1)).toBe(container.path);
      expect(BigInt(entry?.key[0] ?? -1)).toBe(container.id);
    } finally {
      ready.cleanup();
      rmSync(binDir, { recursive: true, force: true });
    }
  }, 300_000);
});
