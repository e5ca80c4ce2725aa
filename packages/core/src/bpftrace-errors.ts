// What bpftrace's stderr says went wrong, as a KtraceError a user can act on: program errors with their line and
// column (KTRACE_BAD_PROGRAM), probes that cannot attach here (with a hint for kprobes), or the failing tail.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KtraceError } from '@ktrace/parser';
import { tracefsDir } from './preflight.js';

/** bpftrace reports `stdin:LINE:COL[-COL]: ERROR: message` (also `stdin:L-L:`) for program errors. */
const programErrorPattern = /^stdin:(\d+)(?::(\d+))?(?:-\d+(?::\d+)?)?: ERROR: (.*)$/;

export function bpftraceFailure(programSource: string, stderr: string[], exitCode: number | null, signal: string | null): KtraceError {
  const meaningful = stderr.filter((l) => !l.includes("couldn't set RLIMIT_MEMLOCK"));
  const where = programSource === '<inline>' ? 'program' : programSource;
  for (let i = 0; i < meaningful.length; i++) {
    const match = programErrorPattern.exec(meaningful[i] ?? '');
    if (match === null) continue;
    const line = Number(match[1]);
    const column = match[2] === undefined ? undefined : Number(match[2]);
    const excerpt = meaningful.slice(i + 1, i + 3).map((l) => `    ${l}`).join('\n');
    const options = {
      code: 'KTRACE_BAD_PROGRAM' as const,
      message: `bpftrace rejected the ${where} at line ${line}${column === undefined ? '' : `, column ${column}`}: ${match[3] ?? ''}${excerpt === '' ? '' : `\n${excerpt}`}`,
      line,
    };
    return new KtraceError(column === undefined ? options : { ...options, column });
  }
  const attachError = meaningful.find((l) => /Error attaching probe|tracepoint not found|No probes to attach|Could not resolve|Unable to attach/i.test(l));
  if (attachError !== undefined) {
    const kprobe = /\b(kprobe|kretprobe):/.test(attachError);
    const tracefs = tracefsDir();
    const noKprobes = kprobe && !['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].some((d) => existsSync(join(d, 'kprobe_events')));
    const hint = noKprobes
      ? `kprobes are not available on this kernel (no kprobe_events in ${tracefs ?? 'tracefs'}); use a tracepoint instead (bpftrace -l 'tracepoint:*' lists them, e.g. tracepoint:syscalls:sys_enter_openat)`
      : "the probe does not exist on this kernel or binary; list what does with: bpftrace -l 'PATTERN'";
    const detail = meaningful.filter((l) => l !== attachError && /ERROR|WARNING|No such file/.test(l)).slice(-3);
    return new KtraceError({
      code: 'KTRACE_BAD_PROGRAM',
      message: `bpftrace could not attach the ${where}'s probes: ${attachError.replace(/^ERROR: /, '')}: ${hint}${detail.length === 0 ? '' : `\n    bpftrace said: ${detail.join('\n    ')}`}`,
    });
  }
  const tail = meaningful.slice(-8).join('\n    ');
  return new KtraceError({
    code: 'KTRACE_BPFTRACE_FAILED',
    message: `bpftrace exited ${signal === null ? `with status ${exitCode}` : `on ${signal}`} before printing any map${tail === '' ? '' : `:\n    ${tail}`}`,
  });
}

