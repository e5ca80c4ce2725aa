// Workloads with known counts for end-to-end tests: a binary copied under a name the test chooses (so its comm is
// unique), dd runs that read fd 0 a known number of times, and the ping that shows bpftrace's probes attached. The
// running ktrace itself is ktrace-process.ts; the /proc walks are proc-tree.ts.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KtraceProcess } from './ktrace-process.js';

const binaryDirs: string[] = [];
process.on('exit', () => {
  for (const dir of binaryDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of `binary` named `name` (≤ 15 chars, so the kernel's comm is exactly `name`); removed when the test process exits. */
export function namedBinary(binary: string, name: string): string {
  if (name.length > 15) throw new Error(`comm names are at most 15 characters: ${name}`);
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-workload-'));
  binaryDirs.push(dir);
  const path = join(dir, name);
  copyFileSync(binary, path);
  return path;
}

/** A unique short process name for one test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid % 1000}${Math.floor(Math.random() * 1e4)}`.slice(0, 15);
}

/** Runs a process to completion; rejects on a non-zero exit. */
export function runToEnd(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited ${signal ?? code}: ${stderr}`));
    });
  });
}

/** `dd` under `name` reading fd 0 exactly `count` times (bs=1 from /dev/zero). */
export function readsFromStdin(ddPath: string, count: number): Promise<void> {
  return runToEnd(ddPath, ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`, 'status=none']);
}

/** A dd of a unique name whose reads of fd 0 a program logs as `ktrace-ping`: proof that its probes are attached. */
export interface Ping {
  name: string;
  binary: string;
  /** The probe to add to a program. */
  probe: string;
}

export function ping(prefix = 'ktp'): Ping {
  const name = uniqueName(prefix);
  return {
    name,
    binary: namedBinary('/bin/dd', name),
    probe: `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${name}"/ { printf("ktrace-ping\\n"); }`,
  };
}

/** Runs the ping until ktrace logs a ping line it had not logged before: bpftrace's read probe is attached now. */
export async function waitAttached(ktrace: KtraceProcess, { binary }: Ping, timeoutMs = 60_000): Promise<void> {
  const pings = (): number => ktrace.logs().filter((l) => l['msg'] === 'ktrace-ping').length;
  const before = pings();
  await ktrace.waitFor(
    async () => {
      await readsFromStdin(binary, 1);
      return pings() > before ? true : undefined;
    },
    'bpftrace to attach (a ping read logged by ktrace)',
    timeoutMs,
  );
}
