import { describe, expect, it } from 'vitest';
import { judgeSilence, silenceThresholdMillis } from './staleness.js';
import type { SilenceInput } from './staleness.js';

const base: SilenceInput = {
  now: 100_000,
  runStartedAt: 0,
  lastDumpAt: undefined,
  intervalMillis: 1000,
  printedByKtrace: ['@reads'],
  mapsCanEmpty: false,
  processState: 'running',
  pid: 42,
};

describe('judgeSilence', () => {
  it('is quiet within three intervals and 2 s of the last dump', () => {
    expect(silenceThresholdMillis(1000)).toBe(5000);
    expect(judgeSilence({ ...base, lastDumpAt: 96_000 })).toEqual({ kind: 'none' });
  });

  it('calls a stopped bpftrace stalled, and says it is stopped', () => {
    const silence = judgeSilence({ ...base, lastDumpAt: 50_000, processState: 'stopped' });
    expect(silence.kind).toBe('stalled');
    expect(silence.kind === 'stalled' && silence.message).toMatch(
      /^bpftrace \(pid 42\) is stopped \(SIGSTOP or a debugger\) and has printed no map for 50 s/,
    );
    // Even a program that prints on its own schedule: a stopped process prints nothing.
    expect(judgeSilence({ ...base, printedByKtrace: [], lastDumpAt: 50_000, processState: 'stopped' }).kind).toBe(
      'stalled',
    );
  });

  it('calls a bpftrace stalled when it printed before and has gone silent, not "still empty"', () => {
    const silence = judgeSilence({ ...base, lastDumpAt: 50_000 });
    expect(silence.kind).toBe('stalled');
    expect(silence.kind === 'stalled' && silence.message).toContain('it printed them before: it is stuck');
  });

  it('says the maps are still empty only when this run never printed them', () => {
    const silence = judgeSilence(base);
    expect(silence.kind).toBe('empty');
    expect(silence.kind === 'empty' && silence.message).toContain('the exported maps (@reads) are still empty');
  });

  it('reads nothing into the silence of a program that prints its own maps, or clears them', () => {
    expect(judgeSilence({ ...base, printedByKtrace: [], lastDumpAt: 50_000 })).toEqual({ kind: 'none' });
    expect(judgeSilence({ ...base, mapsCanEmpty: true, lastDumpAt: 50_000 })).toEqual({ kind: 'none' });
    expect(judgeSilence({ ...base, processState: 'gone' })).toEqual({ kind: 'none' });
  });
});
