// What a one-shot trace's pod does with `--target-pod UID/CONTAINER_ID`: the real `ktrace run` on the real
// bpftrace sees only the processes of that container's cgroup. A real cgroup2 directory laid out as containerd
// under systemd lays out a pod holds one workload; an identical workload outside it must not be counted.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT, requireBuiltCli } from './support/ktrace-process.js';
import { namedBinary } from './support/workload.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const uid = randomUUID();
const containerId = randomUUID().replaceAll('-', '').repeat(2);
const top = join(UNIFIED, `ktrace-oneshot-${uid.slice(0, 8)}`);
const podDir = join(top, 'kubepods.slice', `kubepods-pod${uid.replaceAll('-', '_')}.slice`);
const containerDir = join(podDir, `cri-containerd-${containerId}.scope`);
const workloads: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'ktrace-oneshot-cg-'));

function loop(binary: string, cgroup?: string): ChildProcess {
  // The shell moves itself into the cgroup first, so every `binary` it forks runs there.
  const enter = cgroup === undefined ? '' : `echo $$ > ${join(cgroup, 'cgroup.procs')}; `;
  const child = spawn('sh', ['-c', `${enter}while :; do ${binary} /dev/null; done`], { stdio: 'ignore' });
  workloads.push(child);
  return child;
}

afterAll(() => {
  for (const child of workloads) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
  // A cgroup can be removed once its processes are gone; they die with the SIGKILL above.
  const deadline = Date.now() + 10_000;
  for (const dir of [containerDir, podDir, join(top, 'kubepods.slice'), top]) {
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || Date.now() > deadline) break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  }
});

it("--target-pod restricts the program to that container's cgroup", async () => {
  mkdirSync(containerDir, { recursive: true });
  const inside = namedBinary('/bin/cat', 'oneshotin');
  const outside = namedBinary('/bin/cat', 'oneshotout');
  loop(inside, containerDir);
  loop(outside);
  const program = join(scratch, 'opens.bt');
  writeFileSync(
    program,
    'tracepoint:syscalls:sys_enter_openat /comm == "oneshotin" || comm == "oneshotout"/ { @opens[comm] = count(); }\n',
  );
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        requireBuiltCli(),
        'run',
        '--file',
        program,
        '--duration',
        '3s',
        '--no-listen',
        '--no-view',
        '--output',
        'json',
        '--target-pod',
        `${uid}/${containerId}`,
      ],
      { cwd: ROOT },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(run.code, run.stderr).toBe(0);
  const samples = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { name: string; entries: { key: string[]; value: number }[] });
  const last = samples.filter((s) => s.name === '@opens').at(-1);
  expect(last?.entries.map((e) => e.key[0])).toEqual(['oneshotin']);
  expect(last?.entries[0]?.value).toBeGreaterThan(0);
}, 120_000);

it('--target-pod of a pod that has no cgroup on this node is one line, exit 2', async () => {
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        requireBuiltCli(),
        'run',
        '-e',
        'tracepoint:syscalls:sys_enter_openat { @o = count(); }',
        '--no-listen',
        '--target-pod',
        randomUUID(),
      ],
      {
        cwd: ROOT,
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  expect(run.stderr).toMatch(
    /^ktrace: no cgroup of pod [0-9a-f-]+ under \/sys\/fs\/cgroup\/unified: it does not run on this node/,
  );
  expect(run.code).toBe(2);
});
