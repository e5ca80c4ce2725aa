import { describe, expect, it } from 'vitest';
import { decideRestart, initialRestartHistory } from './restart-policy.js';
import type { RestartDecision, RestartHistory, RunEnd } from './restart-policy.js';

const killed = (ranMillis: number, sawSample: boolean): RunEnd => ({
  kind: 'exited',
  code: null,
  signal: 'SIGKILL',
  sawSample,
  ranMillis,
  programCanExit: false,
});

/** Feeds run ends one after the other; the decisions. */
function decisions(ends: RunEnd[], options = {}): RestartDecision[] {
  let history: RestartHistory = initialRestartHistory;
  return ends.map((end) => {
    const next = decideRestart(history, end, options);
    history = next.history;
    return next.decision;
  });
}

describe('decideRestart', () => {
  it('backs off a bpftrace that dies after every print: 0.5, 1, 2, 4 … capped at 30 s, and never gives up on it', () => {
    const delays = decisions(Array.from({ length: 12 }, () => killed(700, true))).map((d) =>
      d.action === 'restart' ? d.delayMillis : d.action,
    );
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('starts the backoff again after a healthy run (one that lasted healthyRunMillis)', () => {
    const out = decisions([
      killed(700, true),
      killed(700, true),
      killed(700, true),
      killed(120_000, true),
      killed(700, true),
    ]);
    expect(out.map((d) => (d.action === 'restart' ? d.delayMillis : d.action))).toEqual([500, 1000, 2000, 500, 1000]);
  });

  it('gives up after maxFailedStarts consecutive runs that printed no map (killed before their first print)', () => {
    const out = decisions(Array.from({ length: 5 }, () => killed(300, false)));
    expect(out.map((d) => d.action)).toEqual(['restart', 'restart', 'restart', 'restart', 'fail']);
    expect(out[4]).toEqual({ action: 'fail', reason: 'gave-up' });
    // A printing run in between resets the count of failed starts.
    const mixed = decisions(
      [
        killed(300, false),
        killed(300, false),
        killed(300, false),
        killed(300, true),
        killed(300, false),
        killed(300, false),
      ],
      { maxFailedStarts: 4 },
    );
    expect(mixed.map((d) => d.action)).toEqual(['restart', 'restart', 'restart', 'restart', 'restart', 'restart']);
  });

  it('retries a transient spawn failure (EMFILE) with backoff, and fails at once on one that cannot pass (ENOENT)', () => {
    const emfile = decisions(Array.from({ length: 3 }, () => ({ kind: 'spawn-failed', errno: 'EMFILE' })));
    expect(emfile).toEqual([
      { action: 'restart', delayMillis: 500 },
      { action: 'restart', delayMillis: 1000 },
      { action: 'restart', delayMillis: 2000 },
    ]);
    expect(decisions([{ kind: 'spawn-failed', errno: 'ENOENT' }])).toEqual([
      { action: 'fail', reason: 'not-runnable' },
    ]);
    expect(decisions(Array.from({ length: 5 }, () => ({ kind: 'spawn-failed', errno: 'EAGAIN' }))).at(-1)).toEqual({
      action: 'fail',
      reason: 'gave-up',
    });
  });

  it('fails fast when bpftrace exits by itself before any map (it rejected the program or could not attach)', () => {
    expect(
      decisions([{ kind: 'exited', code: 1, signal: null, sawSample: false, ranMillis: 900, programCanExit: false }]),
    ).toEqual([{ action: 'fail', reason: 'rejected' }]);
  });

  it('finishes on a clean exit of a program that calls exit(), and restarts one stopped from outside (SIGTERM: status 0, no exit())', () => {
    expect(
      decisions([{ kind: 'exited', code: 0, signal: null, sawSample: true, ranMillis: 5000, programCanExit: true }]),
    ).toEqual([{ action: 'finish' }]);
    expect(
      decisions([{ kind: 'exited', code: 0, signal: null, sawSample: true, ranMillis: 5000, programCanExit: false }]),
    ).toEqual([{ action: 'restart', delayMillis: 500 }]);
  });

  it('takes its delays and limits from the options', () => {
    const out = decisions([killed(10, true), killed(10, true), killed(10, true)], {
      initialDelayMillis: 100,
      maxDelayMillis: 250,
    });
    expect(out).toEqual([
      { action: 'restart', delayMillis: 100 },
      { action: 'restart', delayMillis: 200 },
      { action: 'restart', delayMillis: 250 },
    ]);
  });
});
