// Workloads with known counts and a running `ktrace run` for end-to-end tests: a binary copied under a name the
// test chooses (so its comm is unique), the built CLI as a subprocess, /metrics scraping (OTLP receivers: otlp-receiver.ts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'packages', 'cli', 'dist', 'main.js');

/** The built CLI, or a failure saying how to build it. */
export function requireBuiltCli(): string {
  if (!existsSync(CLI)) {
    throw new Error(
      `${CLI} is missing: these tests run the built ktrace CLI. Build it first: ` +
        'NX_DAEMON=false npx nx run @ktrace/cli:build --outputStyle=static',
    );
  }
  if (
    !existsSync('/usr/bin/bpftrace') &&
    process.env['PATH']?.split(':').every((d) => !existsSync(join(d, 'bpftrace')))
  ) {
    throw new Error('bpftrace is required by this test but is not installed (Debian: apt-get install bpftrace)');
  }
  return CLI;
}

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

export interface KtraceProcess {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startKtrace(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {},
): KtraceProcess {
  const child = spawn(process.execPath, [requireBuiltCli(), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
  };
}

/** Polls `probe` until it returns a value other than undefined; fails with `describe()` after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 60_000,
  describe?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`}${describe === undefined ? '' : `\n${describe()}`}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function scrape(listen: string): Promise<string> {
  const response = await fetch(`http://${listen}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return response.text();
}

/**
 * Scrapes ktrace's /metrics until the sample `name{labels}` is there and `accept`s its value; that value. A failed
 * scrape counts as not yet (ktrace may still be starting); on timeout the error ends with ktrace's output tail.
 */
export function waitForSample(
  ktrace: KtraceProcess,
  listen: string,
  sample: { name: string; labels?: Record<string, string> },
  accept: (value: number) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<number> {
  return eventually(
    async () => {
      const value = sampleValue(await scrape(listen), sample.name, sample.labels);
      return value !== undefined && accept(value) ? value : undefined;
    },
    what,
    timeoutMs,
    () => ktrace.output().slice(-3000),
  );
}

/** The value of one sample in Prometheus text, matched by name and exact label set; undefined when absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const got = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/)
      .filter((p) => p !== '')
      .sort()
      .join(',');
    if (got === want) return Number(match[3]);
  }
  return undefined;
}

/** bpftrace processes whose parent is `pid`. */
export function bpftraceChildren(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (comm === 'bpftrace' && ppid === pid) found.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  return found;
}

/** Processes below `pid` (children, their children…) whose comm is `comm`. */
export function descendants(pid: number, comm = 'bpftrace'): number[] {
  const parents = new Map<number, number>();
  const comms = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comms.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // The process went away while we looked.
    }
  }
  const found: number[] = [];
  for (const [child, name] of comms) {
    if (name !== comm) continue;
    for (let up = parents.get(child); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === pid) {
        found.push(child);
        break;
      }
    }
  }
  return found;
}

/** Whether a process `pid` still exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
