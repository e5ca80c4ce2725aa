// One real bpftrace run for tests: start a program, wait until its probes are attached, run a workload, stop it with
// SIGINT and return everything it printed (the exit-time map dump included).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BpftraceRun {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** The bpftrace binaries to test with: 0.17 always, 0.23/0.27 when their chroot roots are complete. */
export function bpftraceBinaries(): { version: string; path: string }[] {
  const out = [{ version: '0.17', path: '/usr/bin/bpftrace' }];
  const roots = [
    { version: '0.23', suite: 'trixie' },
    { version: '0.27', suite: 'sid' },
  ];
  for (const { version, suite } of roots) {
    if (existsSync(`/var/cache/ktrace/roots/${suite}/.ktrace-complete`))
      out.push({ version, path: `/var/cache/ktrace/bin/bpftrace-${suite}` });
  }
  return out;
}

/** A readiness check for tracepoint programs: a probe line to add, and a poke that makes it print its marker. */
export interface Readiness {
  probe: string;
  marker: string;
  poke: () => Promise<void>;
  cleanup: () => void;
}

/**
 * bpftrace ≤0.23 prints "Attaching N probes..." before it attaches, so a workload started on that line can be missed.
 * This adds a probe on sched_process_exit for a process of its own; once bpftrace prints the marker, that tracepoint
 * (and every probe attached before it) is live.
 */
export function exitReadiness(): Readiness {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-ready-'));
  readinessDirs.add(dir);
  const name = `ktready${process.pid % 10000}`;
  copyFileSync('/bin/true', join(dir, name));
  const marker = `ktrace-ready-${process.pid}`;
  return {
    probe: `tracepoint:sched:sched_process_exit /comm == "${name}"/ { printf("${marker}\\n"); }`,
    marker,
    poke: () =>
      new Promise((resolve, reject) => {
        const child = spawn(join(dir, name), [], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', () => resolve());
      }),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      readinessDirs.delete(dir);
    },
  };
}

const readinessDirs = new Set<string>();

/** Removes what every exitReadiness() of this process made (for afterEach: a timed-out test never reaches its finally). */
export function cleanupReadiness(): void {
  for (const dir of readinessDirs) rmSync(dir, { recursive: true, force: true });
  readinessDirs.clear();
}

/**
 * Runs `program` with `bpftrace [-f json]`, calls `workload` once bpftrace says it attached, then sends SIGINT. Rejects
 * when bpftrace exits before attaching (with its stderr), or does not attach within `attachTimeoutMillis`.
 */
export function runBpftrace(
  program: string,
  workload: () => Promise<void>,
  options: { bpftrace?: string; json?: boolean; attachTimeoutMillis?: number; ready?: Readiness } = {},
): Promise<BpftraceRun> {
  const args = [...(options.json === true ? ['-f', 'json'] : []), '-e', program];
  const child = spawn(options.bpftrace ?? '/usr/bin/bpftrace', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let attached = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (!attached) {
        child.kill('SIGKILL');
        reject(new Error(`bpftrace did not attach within ${options.attachTimeoutMillis ?? 60_000} ms: ${stderr}`));
      }
    }, options.attachTimeoutMillis ?? 60_000);
    const onOutput = (): void => {
      if (attached || !/Attach(?:ing|ed) \d+ probe|"type": ?"attached_probes"/.test(stdout + stderr)) return;
      attached = true;
      const ready = options.ready;
      const waitReady = async (): Promise<void> => {
        if (ready === undefined) return;
        const deadline = Date.now() + (options.attachTimeoutMillis ?? 60_000);
        while (!stdout.includes(ready.marker)) {
          if (Date.now() > deadline) throw new Error(`bpftrace never printed ${ready.marker}: its probes did not fire`);
          await ready.poke();
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      waitReady()
        .then(workload)
        .then(
          () => child.kill('SIGINT'),
          (error: unknown) => {
            child.kill('SIGINT');
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      onOutput();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      onOutput();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!attached) reject(new Error(`bpftrace exited ${code} before attaching: ${stderr}${stdout}`));
      else resolve({ stdout, stderr, code });
    });
  });
}
