import { describe, expect, it } from 'vitest';
import { noProgramProbesAttached, runFailure, stopTimedOut } from './trace-failures.js';
import type { RunFailure } from './trace-failures.js';

const spec = { programSource: 'count.bt', program: 'tracepoint:syscalls:sys_enter_read { @n = count(); }\n' };
const base: RunFailure = {
  spec,
  bpftracePath: '/usr/bin/bpftrace',
  exit: { code: 1, signal: null },
  stderrTail: ['stdin:1:1-40: ERROR: tracepoint not found: syscalls:sys_enter_read'],
  reason: 'rejected',
  failedStarts: 1,
};

describe('the errors a trace fails with', () => {
  it('a binary that cannot be run is KTRACE_NO_BPFTRACE, named with the spawn error', () => {
    const error = runFailure({
      ...base,
      exit: { code: null, signal: null, spawnError: { errno: 'ENOENT', message: 'spawn /usr/bin/bpftrace ENOENT' } },
      reason: 'not-runnable',
    });
    expect(error.code).toBe('KTRACE_NO_BPFTRACE');
    expect(error.message).toBe('cannot start /usr/bin/bpftrace: spawn /usr/bin/bpftrace ENOENT');
  });

  it('a machine short of file descriptors, again and again, is KTRACE_BPFTRACE_FAILED and says how often', () => {
    const error = runFailure({
      ...base,
      exit: { code: null, signal: null, spawnError: { errno: 'EMFILE', message: 'spawn EMFILE' } },
      reason: 'gave-up',
      failedStarts: 5,
    });
    expect(error.code).toBe('KTRACE_BPFTRACE_FAILED');
    expect(error.message).toBe('cannot start /usr/bin/bpftrace: spawn EMFILE, 5 times in a row; gave up');
  });

  it("a rejected program is bpftrace's own error; after repeated failures the message says ktrace gave up", () => {
    const rejected = runFailure(base);
    expect(rejected.code).toBe('KTRACE_BAD_PROGRAM');
    expect(rejected.message).toContain('count.bt');
    expect(rejected.message).not.toContain('gave up');
    const gaveUp = runFailure({ ...base, reason: 'gave-up', failedStarts: 5 });
    expect(gaveUp.code).toBe(rejected.code);
    expect(gaveUp.message).toBe(
      `${rejected.message}\n    (5 runs in a row ended before printing any map; ktrace gave up)`,
    );
  });

  it('only ktrace’s own probes attached, and a stop that timed out', () => {
    const none = noProgramProbesAttached('count.bt', ['tracepoint:syscalls:sys_enter_read'], 1);
    expect(none.code).toBe('KTRACE_BAD_PROGRAM');
    expect(none.message).toMatch(
      /^bpftrace attached none of the count.bt's probes \(tracepoint:syscalls:sys_enter_read\): only ktrace's own probe attached/,
    );
    expect(noProgramProbesAttached('program', ['interval:s:1'], 2).message).toContain("only ktrace's own 2 probes");
    expect(stopTimedOut(2500).message).toMatch(/^bpftrace did not exit within 2.5 s of SIGINT/);
  });
});
