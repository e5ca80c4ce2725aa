// Preflight: before spawning bpftrace, find it and its version, and check privileges and the kernel features the
// program needs (tracefs, debugfs, BTF, kprobes), each failure naming exactly what is missing and how to fix it.
// Every step logs at debug level when it begins, and every step that runs a process has a time bound.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { KtraceError } from '@ktrace/parser';
import { bpftraceFailure, isBenignStderr } from './bpftrace-errors.js';

/** The steps before bpftrace runs, as named in their debug log lines and in their errors. */
export type PreflightStep = 'find bpftrace' | 'bpftrace version' | 'privileges' | 'kernel features' | 'check program';

/** A debug line when a step begins (the runner's LogRecord fits). */
export type PreflightLog = (record: {
  level: 'debug';
  msg: string;
  step: PreflightStep;
  [field: string]: unknown;
}) => void;

/** `bpftrace --version` answers at once; a wrapper's first run (mount namespace, chroot) adds milliseconds. */
export const VERSION_TIMEOUT_MILLIS = 15_000;
/** Checking a program compiles it (clang for #include headers, BTF parsing): seconds on a busy machine. */
export const CHECK_TIMEOUT_MILLIS = 60_000;

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError: Error | undefined;
}

/** Runs a short-lived process to its end, killing it (SIGKILL) when it outlives `timeoutMillis`. */
function runBounded(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMillis: number; input?: string },
): Promise<Ran> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (stdout.length < 65_536) stdout += chunk;
    });
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 65_536) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMillis);
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr, timedOut, spawnError });
    });
  });
}

export interface PreflightOptions {
  /** The bpftrace binary: a path, or a name looked up in PATH. Default `bpftrace`. */
  bpftrace?: string;
  /** Environment whose PATH is searched; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The program, to check only the features it uses (kprobes, tracepoints, BTF-based probes). */
  program?: string;
  /** Told when each step begins. */
  log?: PreflightLog;
}

export interface PreflightResult {
  bpftracePath: string;
  /** e.g. `0.17.0`. */
  bpftraceVersion: string;
  /** Things that are not fatal but worth a log line (e.g. no BTF for a program that does not need it). */
  warnings: string[];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds bpftrace: an explicit path, or the first executable `name` on PATH. Throws KTRACE_NO_BPFTRACE. */
export function findBpftrace(options: { bpftrace?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const name = options.bpftrace ?? 'bpftrace';
  const env = options.env ?? process.env;
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : join(process.cwd(), name);
    if (isExecutable(path)) return path;
    throw new KtraceError({
      code: 'KTRACE_NO_BPFTRACE',
      message: `bpftrace not found at ${path} (no executable file there); install bpftrace (Debian/Ubuntu: apt-get install bpftrace) or point to it with --bpftrace PATH`,
    });
  }
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  throw new KtraceError({
    code: 'KTRACE_NO_BPFTRACE',
    message: `bpftrace not found in PATH (${dirs.join(delimiter) || 'empty'}); install it (Debian/Ubuntu: apt-get install bpftrace) or point to it with --bpftrace PATH`,
  });
}

/**
 * The version of the bpftrace at `path`, from `--version` (`bpftrace v0.17.0`, `bpftrace v0.27.1`). Anything else is
 * not bpftrace (`/bin/true --version` says `true (GNU coreutils) 9.1`), and a hang is cut short: KTRACE_NO_BPFTRACE.
 */
export async function bpftraceVersion(
  path: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMillis?: number } = {},
): Promise<string> {
  const timeoutMillis = options.timeoutMillis ?? VERSION_TIMEOUT_MILLIS;
  const ran = await runBounded(path, ['--version'], {
    ...(options.env === undefined ? {} : { env: options.env }),
    timeoutMillis,
  });
  const fix = "point --bpftrace (or the SDK's bpftrace option) at a bpftrace binary or a wrapper that runs one";
  if (ran.timedOut) {
    throw new KtraceError({
      code: 'KTRACE_NO_BPFTRACE',
      message: `step "bpftrace version": \`${path} --version\` did not answer within ${timeoutMillis / 1000} s and was killed; check that ${path} is bpftrace and runs here, or ${fix}`,
    });
  }
  if (ran.spawnError !== undefined) {
    throw new KtraceError({
      code: 'KTRACE_NO_BPFTRACE',
      message: `step "bpftrace version": cannot run ${path} (${ran.spawnError.message}); ${fix}`,
      cause: ran.spawnError,
    });
  }
  const match = /^bpftrace v?(\d+\.\d+(?:\.\d+)?)/m.exec(ran.stdout);
  if (match?.[1] !== undefined) return match[1];
  const said = (ran.stdout.trim() || ran.stderr.trim()).split('\n')[0] ?? '';
  throw new KtraceError({
    code: 'KTRACE_NO_BPFTRACE',
    message: `step "bpftrace version": ${path} is not bpftrace (\`${path} --version\` ${said === '' ? `printed nothing and exited ${ran.signal ?? ran.code}` : `printed "${said}"`}, not "bpftrace vX.Y.Z"); ${fix}`,
  });
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCapabilities(): bigint {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    return match?.[1] === undefined ? 0n : BigInt(`0x${match[1]}`);
  } catch {
    return 0n;
  }
}

function hasCap(caps: bigint, cap: bigint): boolean {
  return (caps & (1n << cap)) !== 0n;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** bpftrace needs root; from 0.18 it also runs with CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN). Throws KTRACE_NOT_ROOT. */
export function checkPrivileges(version: string): void {
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) return;
  const caps = effectiveCapabilities();
  const capable = hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON));
  if (capable && compareVersions(version, '0.18.0') >= 0) return;
  throw new KtraceError({
    code: 'KTRACE_NOT_ROOT',
    message: capable
      ? `bpftrace ${version} only runs as root (uid 0), and ktrace runs as uid ${uid}; run ktrace with sudo`
      : `ktrace runs as uid ${uid} without CAP_BPF+CAP_PERFMON, and bpftrace needs them to load programs; run ktrace as root (sudo ktrace …)` +
        (compareVersions(version, '0.18.0') >= 0
          ? ' or grant the capabilities (setcap cap_bpf,cap_perfmon+ep on node and bpftrace)'
          : ''),
  });
}

function mountedTypes(): Map<string, string[]> {
  const mounts = new Map<string, string[]>();
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, dir, type] = line.split(' ');
      if (dir === undefined || type === undefined) continue;
      const list = mounts.get(type) ?? [];
      list.push(dir);
      mounts.set(type, list);
    }
  } catch {
    // No /proc/mounts: the checks below then say what is missing.
  }
  return mounts;
}

/** The tracefs directory bpftrace will use, if mounted. */
export function tracefsDir(): string | undefined {
  for (const dir of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (existsSync(join(dir, 'events'))) return dir;
  }
  return undefined;
}

/** Checks the kernel features the program's probes need. Throws KTRACE_MISSING_KERNEL_FEATURE; returns warnings. */
export function checkKernelFeatures(program: string): string[] {
  const warnings: string[] = [];
  const uses = (pattern: RegExp): boolean => pattern.test(program);
  const needsTracefs = uses(/(^|[\s,}])(tracepoint|t|kprobe|k|kretprobe|kr|uprobe|u|uretprobe|ur|usdt|U):/m);
  const tracefs = tracefsDir();
  if (needsTracefs && tracefs === undefined) {
    throw new KtraceError({
      code: 'KTRACE_MISSING_KERNEL_FEATURE',
      message:
        'tracefs is not mounted (no /sys/kernel/tracing/events), and tracepoints/kprobes/uprobes need it; mount it: mount -t tracefs nodev /sys/kernel/tracing',
    });
  }
  if (!mountedTypes().has('debugfs')) {
    warnings.push(
      'debugfs is not mounted at /sys/kernel/debug; some bpftrace versions need it for kprobes/uprobes: mount -t debugfs nodev /sys/kernel/debug',
    );
  }
  const needsBtf = uses(/(^|[\s,}])(kfunc|kretfunc|fentry|fexit|iter|rawtracepoint|rt):/m);
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    if (needsBtf) {
      throw new KtraceError({
        code: 'KTRACE_MISSING_KERNEL_FEATURE',
        message:
          'the program uses BTF-based probes (kfunc/fentry/iter/rawtracepoint) but the kernel has no BTF (/sys/kernel/btf/vmlinux is missing); use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or tracepoints instead',
      });
    }
    warnings.push('no kernel BTF (/sys/kernel/btf/vmlinux): struct types must come from headers (#include)');
  }
  return warnings;
}

/** Everything checked before bpftrace is spawned. */
export async function preflight(options: PreflightOptions = {}): Promise<PreflightResult> {
  const log: PreflightLog = options.log ?? (() => undefined);
  const findOptions: { bpftrace?: string; env?: NodeJS.ProcessEnv } = {};
  if (options.bpftrace !== undefined) findOptions.bpftrace = options.bpftrace;
  if (options.env !== undefined) findOptions.env = options.env;
  // Finding it and the kernel features are reads of local files (PATH entries, /proc, /sys): no process, no wait.
  log({
    level: 'debug',
    msg: 'preflight: finding bpftrace',
    step: 'find bpftrace',
    bpftrace: options.bpftrace ?? 'bpftrace',
  });
  const bpftracePath = findBpftrace(findOptions);
  log({
    level: 'debug',
    msg: 'preflight: asking bpftrace its version',
    step: 'bpftrace version',
    path: bpftracePath,
    timeoutMillis: VERSION_TIMEOUT_MILLIS,
  });
  const version = await bpftraceVersion(bpftracePath, options.env === undefined ? {} : { env: options.env });
  log({ level: 'debug', msg: 'preflight: checking privileges', step: 'privileges', version });
  checkPrivileges(version);
  let warnings: string[] = [];
  if (options.program !== undefined) {
    log({ level: 'debug', msg: 'preflight: checking kernel features', step: 'kernel features' });
    warnings = checkKernelFeatures(options.program);
  }
  return { bpftracePath, bpftraceVersion: version, warnings };
}

/**
 * How this bpftrace judges a program without running it. Up to 0.23, `--emit-elf FILE` parses, checks and compiles,
 * then stops (0.23's `--dry-run` would attach every probe first). 0.27's `--emit-elf` writes the ELF and then goes on
 * to run the program, forever for a continuous one; `--dry-run` (there since before 0.24) stops before anything runs.
 * 0.24–0.26 cannot run here: they get `--dry-run`, which they have.
 */
export function programCheckArgs(version: string, elfPath: string): string[] {
  return compareVersions(version, '0.24.0') >= 0 ? ['--dry-run'] : ['--emit-elf', elfPath];
}

/**
 * Lets bpftrace itself judge the program without running it (see programCheckArgs), so a syntax or semantic error
 * reaches the user in bpftrace's own words with its line and column. Bounded in time: a check that does not end is
 * killed and reported (KTRACE_BPFTRACE_FAILED). Returns undefined when bpftrace accepts it (or cannot dry-run).
 */
export async function checkProgram(options: {
  bpftracePath: string;
  program: string;
  programSource: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** From preflight; it picks the check bpftrace understands. Without it, `--emit-elf` (0.17–0.23). */
  bpftraceVersion?: string;
  log?: PreflightLog;
  timeoutMillis?: number;
}): Promise<KtraceError | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-check-'));
  const timeoutMillis = options.timeoutMillis ?? CHECK_TIMEOUT_MILLIS;
  try {
    const mode = programCheckArgs(options.bpftraceVersion ?? '0.17.0', join(dir, 'program.elf'));
    options.log?.({
      level: 'debug',
      msg: `preflight: bpftrace checks the program (${mode[0] ?? ''})`,
      step: 'check program',
      timeoutMillis,
    });
    // The program on stdin (`-`), as the runner gives it: no argv size limit (E2BIG past 128 KiB).
    const ran = await runBounded(options.bpftracePath, [...(options.args ?? []), ...mode, '-'], {
      ...(options.env === undefined ? {} : { env: options.env }),
      timeoutMillis,
      input: options.program,
    });
    if (ran.timedOut) {
      return new KtraceError({
        code: 'KTRACE_BPFTRACE_FAILED',
        message: `step "check program": \`${options.bpftracePath} ${mode[0] ?? ''}\` did not finish within ${timeoutMillis / 1000} s and was killed; a bpftrace that runs the program instead of only checking it (or a machine too busy to compile it) does this: check \`${options.bpftracePath} --version\` and the load, or report it with that version`,
      });
    }
    if (ran.code === 0 || ran.signal !== null) return undefined;
    const lines = ran.stderr.split('\n').filter((l) => l.trim() !== '' && !isBenignStderr(l));
    if (lines.some((l) => /unrecognized option|invalid option|unknown option/i.test(l))) return undefined;
    return bpftraceFailure(options.programSource, lines, ran.code, ran.signal, options.program);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
