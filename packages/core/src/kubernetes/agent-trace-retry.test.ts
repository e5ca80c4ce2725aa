// Which failures of a cluster trace are tried again, from the errors bpftrace 0.17 really printed for each case.
import { KtraceError } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { bpftraceFailure } from '../bpftrace-errors.js';
import { isDeterministicFailure, retryAfter } from './agent-trace-retry.js';

/** bpftrace 0.17's own stderr for a program (`echo PROGRAM | bpftrace --emit-elf x -`). */
function rejected(program: string, stderr: string): KtraceError {
  return bpftraceFailure('<inline>', stderr.split('\n'), 1, null, program);
}

const syntax = rejected(
  'tracepoint:syscalls:sys_enter_read { @x = count() }}',
  'stdin:1:51-53: ERROR: syntax error, unexpected }, expecting {',
);
const noTracepoint = rejected(
  'tracepoint:ktrace_no_such:probe { @x = count(); }',
  'stdin:1:1-32: ERROR: tracepoint not found: ktrace_no_such:probe',
);
const noBinary = rejected(
  'uprobe:/nonexistent/bin:foo { @x = count(); }',
  "stdin:1:1-28: ERROR: uprobe target file '/nonexistent/bin' does not exist or is not executable",
);

describe('retrying failed cluster traces', () => {
  it('a compile error of the program text waits for the document to change', () => {
    expect(syntax.code).toBe('KTRACE_BAD_PROGRAM');
    expect(isDeterministicFailure(syntax)).toBe(true);
    expect(retryAfter(syntax, 1)).toEqual({
      retry: false,
      why: 'the program text is rejected: not retried until the document changes',
    });
    expect(isDeterministicFailure(new KtraceError({ code: 'KTRACE_BAD_SPEC', message: 'maps.@x.podLabels' }))).toBe(
      true,
    );
  });

  it('what the machine lacks now (a probe, a binary) or a bpftrace that does not stay up is retried', () => {
    for (const error of [
      noTracepoint,
      noBinary,
      new KtraceError({ code: 'KTRACE_BPFTRACE_FAILED', message: 'bpftrace exited on SIGKILL' }),
      new KtraceError({ code: 'KTRACE_OUTPUT_LIMIT', message: 'too much output' }),
      new Error('spawn EAGAIN'),
    ]) {
      expect(isDeterministicFailure(error)).toBe(false);
      expect(retryAfter(error, 1)).toEqual({ retry: true, inMillis: 30_000 });
    }
  });

  it('backs off by doubling, capped', () => {
    const delays = [1, 2, 3, 4, 5, 6, 40].map((n) => {
      const decision = retryAfter(noTracepoint, n);
      return decision.retry ? decision.inMillis : undefined;
    });
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    expect(retryAfter(noTracepoint, 3, { initialMillis: 100, maxMillis: 250 })).toEqual({ retry: true, inMillis: 250 });
  });
});
