// Preflight: before spawning bpftrace, find it and its version, and check privileges and the kernel features the
// program needs (tracefs, debugfs, BTF, kprobes), each failure naming exactly what is missing and how to fix it.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { KtraceError } from '@ktrace/parser';
import { bpftraceFailure } from './bpftrace-errors.js';

const execFileAsync = promisify(execFile);

export interface PreflightOptions {
  /** The bpftrace binary: a path, or a name looked up in PATH. Default `bpftrace`. */
  bpftrace?: string;
  /** Environment whose PATH is searched; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The program, to check only the features it uses (kprobes, tracepoints, BTF-based probes). */
  program?: string;
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

export async function bpftraceVersion(path: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 10_000 });
    const match = /v?(\d+\.\d+(?:\.\d+)?)/.exec(stdout);
    if (match?.[1] !== undefined) return match[1];
    throw new Error(`unexpected --version output: ${stdout.trim()}`);
  } catch (error) {
    throw new KtraceError({
      code: 'KTRACE_NO_BPFTRACE',
      message: `${path} does not run as bpftrace (\`${path} --version\` failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      cause: error,
    });
  }
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
        (compareVersions(version, '0.18.0') >= 0 ? ' or grant the capabilities (setcap cap_bpf,cap_perfmon+ep on node and bpftrace)' : ''),
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
      message: 'tracefs is not mounted (no /sys/kernel/tracing/events), and tracepoints/kprobes/uprobes need it; mount it: mount -t tracefs nodev /sys/kernel/tracing',
    });
  }
  if (!mountedTypes().has('debugfs')) {
    warnings.push('debugfs is not mounted at /sys/kernel/debug; some bpftrace versions need it for kprobes/uprobes: mount -t debugfs nodev /sys/kernel/debug');
  }
  const needsBtf = uses(/(^|[\s,}])(kfunc|kretfunc|fentry|fexit|iter|rawtracepoint|rt):/m);
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    if (needsBtf) {
      throw new KtraceError({
        code: 'KTRACE_MISSING_KERNEL_FEATURE',
        message: 'the program uses BTF-based probes (kfunc/fentry/iter/rawtracepoint) but the kernel has no BTF (/sys/kernel/btf/vmlinux is missing); use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or tracepoints instead',
      });
    }
    warnings.push('no kernel BTF (/sys/kernel/btf/vmlinux): struct types must come from headers (#include)');
  }
  return warnings;
}

/** Everything checked before bpftrace is spawned. */
export async function preflight(options: PreflightOptions = {}): Promise<PreflightResult> {
  const findOptions: { bpftrace?: string; env?: NodeJS.ProcessEnv } = {};
  if (options.bpftrace !== undefined) findOptions.bpftrace = options.bpftrace;
  if (options.env !== undefined) findOptions.env = options.env;
  const bpftracePath = findBpftrace(findOptions);
  const version = await bpftraceVersion(bpftracePath);
  checkPrivileges(version);
  const warnings = options.program === undefined ? [] : checkKernelFeatures(options.program);
  return { bpftracePath, bpftraceVersion: version, warnings };
}

/**
 * Lets bpftrace itself judge the program without running it (`--emit-elf`: parse, check and compile, no attach),
 * so a syntax or semantic error reaches the user in bpftrace's own words with its line and column.
 * Returns undefined when bpftrace accepts it (or this bpftrace cannot dry-run).
 */
export async function checkProgram(options: { bpftracePath: string; program: string; programSource: string; env?: NodeJS.ProcessEnv; args?: string[] }): Promise<KtraceError | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-check-'));
  try {
    const { code, signal, stderr } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolveRun) => {
      // The program on stdin (`-`), as the runner gives it: no argv size limit (E2BIG past 128 KiB).
      const child = spawn(options.bpftracePath, [...(options.args ?? []), '--emit-elf', join(dir, 'program.elf'), '-'], {
        env: options.env ?? process.env,
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.program);
      let text = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (text.length < 65_536) text += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', () => undefined);
      child.on('close', (exitCode, exitSignal) => {
        clearTimeout(timer);
        resolveRun({ code: exitCode, signal: exitSignal, stderr: text });
      });
    });
    if (code === 0 || signal !== null) return undefined;
    const lines = stderr.split('\n').filter((l) => l.trim() !== '');
    if (lines.some((l) => /unrecognized option|invalid option|unknown option/i.test(l))) return undefined;
    return bpftraceFailure(options.programSource, lines, code, signal, options.program);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
