// Maps errors to what a user sees: one line naming the problem and what to do, and a stable exit code.
import { isKtraceError } from '@ktrace/parser';
import type { KtraceErrorCode } from '@ktrace/parser';
import { visible } from './live-view.js';

/** 2: the input or the options are wrong; 1: the environment or bpftrace failed. */
const usageCodes: ReadonlySet<KtraceErrorCode> = new Set<KtraceErrorCode>([
  'KTRACE_BAD_PROGRAM',
  'KTRACE_BAD_SPEC',
  'KTRACE_BAD_INPUT',
  'KTRACE_BAD_OPTION',
  // no such trace, node or pod: the user named something wrong
  'KTRACE_NOT_FOUND',
]);

export function exitCodeFor(error: unknown): number {
  return isKtraceError(error) && usageCodes.has(error.code) ? 2 : 1;
}

export function exitWith(error: unknown): never {
  if (isKtraceError(error)) {
    // Messages quote bpftrace's stderr and the program: drawn so that no control character reaches the terminal.
    process.stderr.write(`ktrace: ${visible(error.message, 'newlines')}\n`);
  } else {
    process.stderr.write(`ktrace: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(exitCodeFor(error));
}
