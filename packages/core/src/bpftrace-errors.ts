// What bpftrace's stderr says went wrong, as a KtraceError a user can act on: program errors with their line and
// column (KTRACE_BAD_PROGRAM), probes that cannot attach here (with a hint for kprobes), or the failing tail.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KtraceError } from '@ktrace/parser';
import { programProbes } from './instrument.js';

/** bpftrace reports `stdin:LINE:COL[-COL]: ERROR: message`, or a line range `stdin:L-L: ERROR: message`. */
const programErrorPattern = /^stdin:(\d+)(?::(\d+)(?:-\d+)?|-(\d+))?: ERROR: (.*)$/;

/** Where `needle` (e.g. a probe bpftrace says it cannot find) first appears in the program, 1-based. */
function locate(program: string, needle: string): { line: number; column: number } | undefined {
  const lines = program.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const column = lines[i]?.indexOf(needle) ?? -1;
    if (column >= 0) {
      // Point at the start of the probe, including a provider spelled out before the name (`tracepoint:`).
      const head = lines[i]?.slice(0, column) ?? '';
      const start = /[A-Za-z_]+:$/.exec(head);
      return { line: i + 1, column: (start === null ? column : start.index) + 1 };
    }
  }
  return undefined;
}

/**
 * Warnings bpftrace prints on every start here that change nothing for the run: 0.17 cannot raise RLIMIT_MEMLOCK
 * (newer kernels account BPF memory by cgroup), and 0.23+ cannot read available_filter_functions when debugfs has
 * no tracing directory (only kprobe checks use it; a kprobe that cannot attach still fails with its own error).
 */
export function isBenignStderr(line: string): boolean {
  return (
    line.includes("couldn't set RLIMIT_MEMLOCK") ||
    /Could not read functions from \S*available_filter_functions/.test(line)
  );
}

export function bpftraceFailure(
  programSource: string,
  stderr: string[],
  exitCode: number | null,
  signal: string | null,
  program?: string,
): KtraceError {
  const meaningful = stderr.filter((l) => !isBenignStderr(l));
  const where = programSource === '<inline>' ? 'program' : programSource;
  for (let i = 0; i < meaningful.length; i++) {
    const match = programErrorPattern.exec(meaningful[i] ?? '');
    if (match === null) continue;
    const text = match[4] ?? '';
    let line = Number(match[1]);
    let column = match[2] === undefined ? undefined : Number(match[2]);
    let position = `line ${line}${column === undefined ? '' : `, column ${column}`}`;
    if (match[3] !== undefined) {
      // A line range is all bpftrace 0.17 gives for some errors; a probe it cannot find can be pinned down exactly.
      const missing = /not found: (\S+)/.exec(text);
      const found = missing?.[1] === undefined || program === undefined ? undefined : locate(program, missing[1]);
      if (found !== undefined) {
        line = found.line;
        column = found.column;
        position = `line ${line}, column ${column}`;
      } else {
        position = `lines ${line}-${match[3]}`;
      }
    }
    const excerpt = meaningful
      .slice(i + 1, i + 3)
      .map((l) => `    ${l}`)
      .join('\n');
    const options = {
      code: 'KTRACE_BAD_PROGRAM' as const,
      message: `bpftrace rejected the ${where} at ${position}: ${text}${excerpt === '' ? '' : `\n${excerpt}`}`,
      line,
    };
    return new KtraceError(column === undefined ? options : { ...options, column });
  }
  const attachError = meaningful.find((l) =>
    /Error attaching probe|tracepoint not found|No probes to attach|Could not resolve|Unable to attach/i.test(l),
  );
  if (attachError !== undefined) {
    // The error line may name only the function; the program's own probe list (comments left out) says what it is.
    const kprobe =
      /\b(kprobe|kretprobe):/.test(attachError) ||
      (program !== undefined && programProbes(program).some((p) => /^(kprobe|kretprobe|k|kr):/.test(p)));
    const tracefsDirs = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
    const tracefs = tracefsDirs.find((d) => existsSync(join(d, 'events')));
    const noKprobes = kprobe && !tracefsDirs.some((d) => existsSync(join(d, 'kprobe_events')));
    const hint = noKprobes
      ? `kprobes are not available on this kernel (no kprobe_events in ${tracefs ?? 'tracefs'}); use a tracepoint instead (bpftrace -l 'tracepoint:*' lists them, e.g. tracepoint:syscalls:sys_enter_openat)`
      : "the probe does not exist on this kernel or binary; list what does with: bpftrace -l 'PATTERN'";
    const detail = meaningful.filter((l) => l !== attachError && /ERROR|WARNING|No such file/.test(l)).slice(-3);
    return new KtraceError({
      code: 'KTRACE_BAD_PROGRAM',
      message: `bpftrace could not attach the ${where}'s probes: ${attachError.replace(/^ERROR: /, '')}: ${hint}${detail.length === 0 ? '' : `\n    bpftrace said: ${detail.join('\n    ')}`}`,
    });
  }
  const headerFailure = meaningful.find((l) => l.includes('Include headers with missing type definitions'));
  if (headerFailure !== undefined) {
    // Distribution tools such as runqlat.bt #include kernel headers that clang cannot compile on every system.
    const firstErrors = meaningful.filter((l) => /: error: /.test(l)).slice(0, 2);
    const btf = existsSync('/sys/kernel/btf/vmlinux');
    return new KtraceError({
      code: 'KTRACE_BAD_PROGRAM',
      message: `bpftrace could not compile the kernel headers the ${where} #includes${firstErrors.length === 0 ? '' : ` (${firstErrors.join('; ')})`}: ${
        btf
          ? 'this kernel has BTF (/sys/kernel/btf/vmlinux), so drop the #include lines and bpftrace takes kernel types from BTF; write in the values of macros the headers defined (TASK_RUNNING is 0; see examples/runqueue-latency.bt)'
          : 'install the headers of the running kernel (linux-headers-$(uname -r)), or run on a kernel with BTF (/sys/kernel/btf/vmlinux)'
      }`,
    });
  }
  const tail = meaningful.slice(-8).join('\n    ');
  return new KtraceError({
    code: 'KTRACE_BPFTRACE_FAILED',
    message: `bpftrace exited ${signal === null ? `with status ${exitCode}` : `on ${signal}`} before printing any map${tail === '' ? '' : `:\n    ${tail}`}`,
  });
}
