// One running ktrace CLI (`run`, `export`, `agent`) for end-to-end tests: start it, wait for a log line or a condition
// (failing at once, with its output, if it exits first), read its /metrics, stop it with a signal and await its exit.
// Every process started is remembered so that ktrace-cleanup.ts (a vitest setup file) stops what a test left running.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, descendants } from './proc-tree.js';
import { freePort } from './prometheus.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** What users run: the committed entry, which loads the build's bundle (packages/cli/scripts/bundle.mjs). */
export const CLI = join(ROOT, 'packages', 'cli', 'bin', 'ktrace.js');
const BUILT = join(ROOT, 'packages', 'cli', 'dist', 'bundle', 'main.js');

/** The built CLI, or a failure saying how to build it. */
export function builtCli(): string {
  if (!existsSync(BUILT)) {
    throw new Error(
      `${BUILT} is missing: these tests run the built ktrace CLI. Build it first: ` +
        'NX_DAEMON=false npx nx run @ktrace/cli:build --outputStyle=static',
    );
  }
  return CLI;
}

/** The built CLI and bpftrace, or a failure saying what is missing. */
export function requireBuiltCli(): string {
  builtCli();
  if (
    !existsSync('/usr/bin/bpftrace') &&
    process.env['PATH']?.split(':').every((d) => !existsSync(join(d, 'bpftrace')))
  ) {
    throw new Error('bpftrace is required by this test but is not installed (Debian: apt-get install bpftrace)');
  }
  return CLI;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
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
        `timed out waiting for ${what}${lastError === undefined ? '' : ` (last error: ${errorText(lastError)})`}${describe === undefined ? '' : `\n${describe()}`}`,
      );
    }
    await sleep(200);
  }
}

export async function scrape(listen: string): Promise<string> {
  const response = await fetch(`http://${listen}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return response.text();
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

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** A JSON log line of ktrace's stderr. */
export type LogLine = Record<string, unknown>;

/** Which log line a wait wants: its exact `msg`, a pattern of its `msg`, or a test of the whole line. */
export type LogMatch = string | RegExp | ((line: LogLine) => boolean);

function matches(line: LogLine, match: LogMatch): boolean {
  if (typeof match === 'function') return match(line);
  const msg = String(line['msg']);
  return typeof match === 'string' ? msg === match : match.test(msg);
}

function exitText(exit: Exit): string {
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
}

export class KtraceProcess {
  readonly child: ChildProcess;
  /** Settles when the process has exited and its output is all read. */
  readonly exited: Promise<Exit>;
  /** The `--listen` address of its arguments, where metrics() scrapes; undefined without one. */
  readonly listen: string | undefined;
  readonly #command: string;
  #output = '';
  #exit: Exit | undefined;

  constructor(args: string[], options: StartOptions = {}) {
    this.#command = `ktrace ${args[0] ?? ''}`.trim();
    const at = args.indexOf('--listen');
    this.listen = at >= 0 ? args[at + 1] : undefined;
    this.child = spawn(process.execPath, [requireBuiltCli(), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const collect = (chunk: Buffer): void => {
      this.#output += chunk.toString('utf8');
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise<Exit>((resolve) => {
      this.child.on('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /** stdout + stderr so far. */
  output(): string {
    return this.#output;
  }

  /** The end of the output, for a failure message. */
  tail(chars = 3000): string {
    return this.#output.slice(-chars);
  }

  /** Parsed JSON log lines so far. */
  logs(): LogLine[] {
    return this.#output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  }

  /** Whether the process has not exited yet. */
  running(): boolean {
    return this.#exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Polls `probe` until it returns a value other than undefined. Fails with the output's tail at the deadline, or as
   * soon as the process has exited and a last probe (which sees all its output) still finds nothing.
   */
  async waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      const exit = this.#exit;
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        lastError = error;
      }
      const last = lastError === undefined ? '' : ` (last error: ${errorText(lastError)})`;
      if (exit !== undefined) {
        throw new Error(`${this.#command} exited (${exitText(exit)}) before ${what}${last}\n${this.tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last}\n${this.tail()}`);
      }
      await sleep(200);
    }
  }

  /** The first log line that `match` accepts, once there is one. */
  waitForLog(match: LogMatch, timeoutMs = 60_000): Promise<LogLine> {
    const what = typeof match === 'function' ? 'the log line' : `the log line ${String(match)}`;
    return this.waitFor(() => this.logs().find((l) => matches(l, match)), what, timeoutMs);
  }

  /** Its /metrics now. */
  metrics(): Promise<string> {
    if (this.listen === undefined) throw new Error(`${this.#command} was started without --listen`);
    return scrape(this.listen);
  }

  /** One sample of its /metrics now; undefined when absent. */
  async sample(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return sampleValue(await this.metrics(), name, labels);
  }

  /**
   * Scrapes until the sample `name{labels}` is there and `accept`s its value; that value. A failed scrape counts as not
   * yet (ktrace may still be starting).
   */
  waitForSample(
    sample: { name: string; labels?: Record<string, string> },
    accept: (value: number) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<number> {
    if (this.listen === undefined) throw new Error(`${this.#command} was started without --listen`);
    return waitForSample(this, this.listen, sample, accept, what, timeoutMs);
  }

  /**
   * Sends `signal` (unless it has exited already) and awaits the exit. One that does not exit within `timeoutMs` is
   * killed with its bpftrace processes, and the stop fails with its output.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    if (this.running()) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    const exit = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (exit !== undefined) return exit;
    const bpftrace = descendants(this.child.pid ?? 0);
    this.child.kill('SIGKILL');
    await this.exited;
    for (const pid of bpftrace.filter(alive)) process.kill(pid, 'SIGKILL');
    throw new Error(`${this.#command} did not exit within ${timeoutMs / 1000} s of ${signal}\n${this.tail()}`);
  }
}

type Scope = 'test' | 'file';
const started = new Map<KtraceProcess, Scope>();
let scope: Scope = 'file';

/** Runs the built CLI with `args`; stdout and stderr are collected. Stopped after the test if left running. */
export function startKtrace(args: string[], options: StartOptions = {}): KtraceProcess {
  const ktrace = new KtraceProcess(args, options);
  started.set(ktrace, scope);
  return ktrace;
}

export interface RunOptions extends StartOptions {
  /** `--bpftrace PATH`: a release of support/versions.ts; the system bpftrace without it. */
  bpftrace?: string;
  /** `--interval`. */
  interval?: string;
  /** Serve /metrics on a free loopback port (`--listen`), or not (`--no-listen`, the default). */
  listen?: boolean;
  /** More arguments, after these. */
  args?: string[];
}

/** `ktrace run -e PROGRAM` with `options` as its flags. */
export async function startRun(program: string, options: RunOptions = {}): Promise<KtraceProcess> {
  const { bpftrace, interval, listen = false, args = [], ...start } = options;
  return startKtrace(
    [
      'run',
      ...(bpftrace === undefined ? [] : ['--bpftrace', bpftrace]),
      '-e',
      program,
      ...(interval === undefined ? [] : ['--interval', interval]),
      ...(listen ? ['--listen', `127.0.0.1:${await freePort()}`] : ['--no-listen']),
      ...args,
    ],
    start,
  );
}

/** Scrapes `listen` until the sample is there and `accept`s it (KtraceProcess.waitForSample, at another address). */
export function waitForSample(
  ktrace: KtraceProcess,
  listen: string,
  sample: { name: string; labels?: Record<string, string> },
  accept: (value: number) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<number> {
  return ktrace.waitFor(
    async () => {
      const value = sampleValue(await scrape(listen), sample.name, sample.labels);
      return value !== undefined && accept(value) ? value : undefined;
    },
    what,
    timeoutMs,
  );
}

/** A test begins: what starts now is stopped when it ends. */
export function testStarted(): void {
  scope = 'test';
}

/**
 * Stops what is still running of the processes started in the test that ended (`test`) or in the whole file
 * (`file`): SIGTERM, so bpftrace detaches; SIGKILL after 10 s, with their bpftrace processes.
 */
export async function stopLeftRunning(which: Scope): Promise<void> {
  const left = [...started].filter(([, s]) => which === 'file' || s === 'test').map(([k]) => k);
  for (const ktrace of left) started.delete(ktrace);
  scope = 'file';
  await Promise.all(
    left.map(async (ktrace) => {
      if (ktrace.running()) await ktrace.stop('SIGTERM', 10_000).catch(() => undefined);
    }),
  );
}
