// When a failed cluster trace is tried again. A failure the same document would meet again (bpftrace rejects the
// program text, the spec cannot be planned) waits for the document to change; anything that may heal on its own (a
// probe or binary not there yet, bpftrace not staying up, an output flood) is retried with a capped, doubling backoff.
// Pure policy: AgentTrace owns the timer.
import { isKtraceError } from '@ktrace/parser';

export interface RetryPolicy {
  /** The first retry after a failure (default 30 s), doubled per consecutive failure of the same version. */
  initialMillis?: number;
  /** The cap (default 10 min). */
  maxMillis?: number;
}

export type RetryDecision = { retry: false; why: string } | { retry: true; inMillis: number };

/** bpftrace names a program position, but what it could not find is on the machine, not in the text. */
const environmental =
  /not found|does not exist|no such file|could not resolve|cannot attach|error attaching|unable to attach|permission denied|not executable/i;

/** Whether the same document would fail the same way however often it is tried. */
export function isDeterministicFailure(error: unknown): boolean {
  if (!isKtraceError(error)) return false;
  if (error.code === 'KTRACE_BAD_SPEC') return true;
  // A compile error at a position of the program text: syntax, types, unknown functions or maps.
  return error.code === 'KTRACE_BAD_PROGRAM' && error.line !== undefined && !environmental.test(error.message);
}

/** What to do after the `failures`-th consecutive failure (1 for the first) of one document version. */
export function retryAfter(error: unknown, failures: number, policy: RetryPolicy = {}): RetryDecision {
  if (isDeterministicFailure(error))
    return { retry: false, why: 'the program text is rejected: not retried until the document changes' };
  const initial = policy.initialMillis ?? 30_000;
  const max = Math.max(initial, policy.maxMillis ?? 600_000);
  return { retry: true, inMillis: Math.min(max, initial * 2 ** Math.min(Math.max(failures - 1, 0), 20)) };
}
