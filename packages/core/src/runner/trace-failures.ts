// The errors a trace fails with when the supervisor, not bpftrace's stderr, knows why: only ktrace's own probes
// attached, a run ended so that the restart policy says fail (cannot start, rejected, gave up), or bpftrace ignored
// SIGINT. Pure: each takes what was seen and returns the KtraceError a user reads.
import { KtraceError } from '@ktrace/parser';
import { bpftraceFailure } from '../bpftrace-errors.js';
import type { TraceSpec } from '../trace-spec.js';
import type { BpftraceExit } from './bpftrace-process.js';
import { isTransientSpawnError } from './restart-policy.js';

/** Where the program came from, as messages name it: its file, or `program` for inline text. */
export function programWhere(spec: Pick<TraceSpec, 'programSource'>): string {
  return spec.programSource === '<inline>' ? 'program' : spec.programSource;
}

/** bpftrace attached `added` probes or fewer: only the ones ktrace added, none of the program's. */
export function noProgramProbesAttached(where: string, probes: readonly string[], added: number): KtraceError {
  // bpftrace alone would say "No probes to attach"; ktrace's own probes must not pass for the program's.
  return new KtraceError({
    code: 'KTRACE_BAD_PROGRAM',
    message: `bpftrace attached none of the ${where}'s probes (${probes.join(', ')}): only ktrace's own ${added === 1 ? 'probe' : `${added} probes`} attached, so nothing would ever be counted; the probe does not exist on this kernel or binary: list what does with: bpftrace -l 'PATTERN'`,
  });
}

export interface RunFailure {
  spec: Pick<TraceSpec, 'programSource' | 'program'>;
  bpftracePath: string;
  exit: BpftraceExit;
  /** bpftrace's last stderr lines of the run. */
  stderrTail: readonly string[];
  /** The policy's reason for failing. */
  reason: 'rejected' | 'not-runnable' | 'gave-up';
  /** Consecutive runs that printed no map or could not be spawned, this one included. */
  failedStarts: number;
}

/** Why the trace fails after a run the restart policy will not restart. */
export function runFailure(input: RunFailure): KtraceError {
  const { exit, spec } = input;
  if (exit.spawnError !== undefined) {
    const cannotStart = cannotStartMessage(input.bpftracePath, exit.spawnError);
    const transient = isTransientSpawnError(exit.spawnError.errno);
    return new KtraceError({
      code: transient ? 'KTRACE_BPFTRACE_FAILED' : 'KTRACE_NO_BPFTRACE',
      message: transient ? `${cannotStart}, ${input.failedStarts} times in a row; gave up` : cannotStart,
    });
  }
  const failure = bpftraceFailure(spec.programSource, [...input.stderrTail], exit.code, exit.signal, spec.program);
  if (input.reason !== 'gave-up') return failure;
  return new KtraceError({
    code: failure.code,
    message: `${failure.message}\n    (${input.failedStarts} runs in a row ended before printing any map; ktrace gave up)`,
  });
}

/** `cannot start PATH: the spawn error`, for the failure and for the retry's log line. */
export function cannotStartMessage(bpftracePath: string, spawnError: { message: string }): string {
  return `cannot start ${bpftracePath}: ${spawnError.message}`;
}

/** bpftrace was still running `timeoutMillis` after SIGINT and was killed. */
export function stopTimedOut(timeoutMillis: number): KtraceError {
  return new KtraceError({
    code: 'KTRACE_BPFTRACE_FAILED',
    message: `bpftrace did not exit within ${timeoutMillis / 1000} s of SIGINT, so ktrace killed it: its final dump is lost, and the exported values are those of its last periodic print. A program that takes longer to end (a long END, many probes to detach) needs a longer stop timeout (ktrace run --stop-timeout, stopTimeoutMillis in the SDK)`,
  });
}
