// Start-up on every bpftrace release of support/versions.ts: each step before bpftrace runs is logged when it
// begins and bounded in time, bpftrace checks the program without running it (0.27's --emit-elf runs it: the check
// that hung forever), the SDK takes the version wrappers as its bpftrace, and a binary that is not bpftrace is refused.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpftraceVersion, checkProgram, startTrace } from '@ktrace/core';
import type { LogRecord } from '@ktrace/core';
import { afterAll, describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import { requireBuiltCli, startKtrace } from './support/ktrace-process.js';

const CONTINUOUS = 'interval:ms:200 { @ticks = count(); } tracepoint:syscalls:sys_enter_getppid { @calls = count(); }';
const STEPS = ['find bpftrace', 'bpftrace version', 'privileges', 'kernel features', 'check program'];

const dir = mkdtempSync(join(tmpdir(), 'ktrace-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'start-up with bpftrace %s',
  (_name, release) => {
    it('the SDK runs the release given as its bpftrace option, logging every start-up step at debug level first', async () => {
      const logs: LogRecord[] = [];
      const trace = await startTrace({
        spec: { program: CONTINUOUS, interval: '200ms', metrics: { listen: false } },
        bpftrace: release.path,
        onLog: (r) => logs.push(r),
      });
      const started = Date.now();
      while (!logs.some((l) => l.msg === 'bpftrace attached probes') && Date.now() - started < 60_000)
        await new Promise((r) => setTimeout(r, 100));
      const result = await trace.stop();
      expect(result.reason).toBe('stopped');
      expect(trace.status().bpftraceVersion).toBe(release.version);
      const steps = logs.filter((l) => l.level === 'debug' && typeof l['step'] === 'string').map((l) => l['step']);
      expect(steps).toEqual(STEPS);
      const order = logs.map((l) => l.msg);
      expect(order.indexOf('bpftrace started')).toBeGreaterThan(
        order.findIndex((m) => m.startsWith('preflight: bpftrace checks the program')),
      );
      expect(logs.some((l) => l.msg === 'bpftrace attached probes')).toBe(true);
    });

    it("checks a continuous program without running it, and reports a bad one in bpftrace's words", async () => {
      const accepted = await checkProgram({
        bpftracePath: release.path,
        program: CONTINUOUS,
        programSource: '<inline>',
        bpftraceVersion: release.version,
        timeoutMillis: 30_000,
      });
      expect(accepted).toBeUndefined();
      const rejected = await checkProgram({
        bpftracePath: release.path,
        program: 'BEGIN { @x = count(); }\ninterval:s:1 { @x = nosuchvar; }',
        programSource: '<inline>',
        bpftraceVersion: release.version,
      });
      expect(rejected?.code).toBe('KTRACE_BAD_PROGRAM');
      expect(rejected?.line).toBe(2);
    });
  },
);

describe('start-up bounds', () => {
  it('a check that does not end is killed at its bound and named: bpftrace 0.27 given --emit-elf runs the program', async () => {
    const sid = bpftraceReleases().find((r) => r.name === '0.27');
    expect(sid, 'bpftrace 0.27 (scripts/versions.sh)').toBeDefined();
    const started = Date.now();
    // Told it is 0.17, checkProgram uses --emit-elf, which 0.27 follows by running the program until killed.
    const error = await checkProgram({
      bpftracePath: sid?.path ?? '',
      program: CONTINUOUS,
      programSource: '<inline>',
      bpftraceVersion: '0.17.0',
      timeoutMillis: 5_000,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error?.code).toBe('KTRACE_BPFTRACE_FAILED');
    expect(error?.message).toMatch(/^step "check program": `.*--emit-elf` did not finish within 5 s and was killed/);
  });

  it('a --version that never answers is killed at its bound and named', async () => {
    const hang = join(dir, 'bpftrace-that-hangs');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 600\n');
    chmodSync(hang, 0o755);
    await expect(bpftraceVersion(hang, { timeoutMillis: 500 })).rejects.toThrow(
      /^step "bpftrace version": `.*bpftrace-that-hangs --version` did not answer within 0.5 s/,
    );
  });

  it('ktrace run --bpftrace /bin/true: /bin/true is not bpftrace, exit 1, one line', async () => {
    requireBuiltCli();
    const ktrace = startKtrace(['run', '--bpftrace', '/bin/true', '-e', CONTINUOUS, '--no-listen']);
    expect((await ktrace.exited).code).toBe(1);
    expect(ktrace.output().trim()).toBe(
      'ktrace: step "bpftrace version": /bin/true is not bpftrace (`/bin/true --version` printed "true (GNU coreutils) 9.1", not "bpftrace vX.Y.Z"); point --bpftrace (or the SDK\'s bpftrace option) at a bpftrace binary or a wrapper that runs one',
    );
  });
});
