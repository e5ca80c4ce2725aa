// Programs written for plain bpftrace (print and clear in END, like bpftrace's own tools/syscount.bt; a clear()
// on a timer with no print) run under `ktrace run` with exact counters exported while they run, not only at exit.
import { describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import { requireBuiltCli, sampleValue, startRun } from './support/ktrace-process.js';
import { namedBinary, readsFromStdin, uniqueName } from './support/workload.js';

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'ktrace run (bpftrace %s) on programs that print or clear maps themselves',
  (_name, release) => {
    it('exports maps that the program prints and clears only in END, and maps it clears without printing, exactly while it runs', async () => {
      requireBuiltCli();
      const name = uniqueName('ktend');
      const burst = uniqueName('ktbur');
      const ping = uniqueName('ktpin');
      const clearer = uniqueName('ktclr');
      const attach = uniqueName('ktatt');
      const dd = namedBinary('/bin/dd', name);
      const burstBinary = namedBinary('/bin/dd', burst);
      const pingBinary = namedBinary('/bin/dd', ping);
      const clearBinary = namedBinary('/bin/dd', clearer);
      const attachBinary = namedBinary('/bin/dd', attach);
      const program = [
        `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm != "${clearer}"/ { @reads[comm] = count(); }`,
        `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${burst}"/ { @window = count(); }`,
        `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${clearer}"/ { clear(@window); }`,
        'END',
        '{',
        '  printf("\\nTop 10 readers:\\n");',
        '  print(@reads, 10);',
        '  clear(@reads);',
        '}',
      ].join('\n');
      const ktrace = await startRun(program, { bpftrace: release.path, interval: '1s', listen: true });
      const reads = (comm: string, value: number, why = ''): Promise<number> =>
        ktrace.waitForSample(
          { name: 'bpftrace_reads_total', labels: { comm } },
          (v) => v === value,
          `bpftrace_reads_total{comm="${comm}"} == ${value}${why}`,
        );
      const window = (value: number, why = ''): Promise<number> =>
        ktrace.waitForSample(
          { name: 'bpftrace_window_total' },
          (v) => v === value,
          `bpftrace_window_total == ${value}${why}`,
        );
      try {
        await ktrace.waitFor(
          async () => {
            await readsFromStdin(attachBinary, 1);
            return (await ktrace.sample('bpftrace_reads_total', { comm: attach })) === undefined ? undefined : true;
          },
          'bpftrace to attach and @reads to be exported while it runs',
          30_000,
        );
        // A program that prints @reads only in END still has it exported every interval, as a running total.
        await readsFromStdin(dd, 5000);
        await reads(name, 5000, ' while bpftrace runs');
        await readsFromStdin(dd, 2000);
        await reads(name, 7000, ' (no double counting across prints)');

        // @window is cleared by the program on its own schedule and never printed by it: ktrace prints it, and the
        // counter is the number of reads, however many times the same value is printed before the clear.
        await readsFromStdin(burstBinary, 300);
        await window(300);
        // Two more prints of every map (seen through @reads of a process that reads once each time).
        for (const expected of [1, 2]) {
          await readsFromStdin(pingBinary, 1);
          await reads(ping, expected);
        }
        expect(await ktrace.sample('bpftrace_window_total')).toBe(300);
        await readsFromStdin(clearBinary, 1);
        await readsFromStdin(burstBinary, 200);
        await window(500, ' after the program cleared @window and 200 more reads');
        for (const expected of [3, 4]) {
          await readsFromStdin(pingBinary, 1);
          await reads(ping, expected);
        }
        const text = await ktrace.metrics();
        expect(sampleValue(text, 'bpftrace_window_total')).toBe(500);
        expect(sampleValue(text, 'bpftrace_reads_total', { comm: name })).toBe(7000);
      } finally {
        expect((await ktrace.stop()).code).toBe(0);
      }
    });

    it('does not warn that the probes have not fired while a program that prints its own maps waits for its own interval', async () => {
      requireBuiltCli();
      const ktrace = await startRun(
        'profile:hz:99 { @samples = count(); } interval:s:10 { print(@samples); clear(@samples); }',
        { bpftrace: release.path, interval: '1s', listen: true },
      );
      try {
        // The program's first print, 10 s in: ktrace's silence check (every second, after 5 s) has run several times by then.
        await ktrace.waitForSample(
          { name: 'bpftrace_samples_total' },
          (v) => v > 0,
          "the program's own first print of @samples",
          60_000,
        );
        expect(ktrace.logs().filter((l) => String(l['msg']).startsWith('bpftrace has printed no map'))).toEqual([]);
      } finally {
        expect((await ktrace.stop()).code).toBe(0);
      }
    });

    it('runs a program whose END ends without a semicolon (ktrace adds its exit-time clear() after it)', async () => {
      requireBuiltCli();
      const ktrace = await startRun(
        'tracepoint:raw_syscalls:sys_enter { @start[tid] = nsecs; @calls = count(); } END { printf("bye\\n") }',
        { bpftrace: release.path, args: ['--duration', '5s'] },
      );
      const { code } = await ktrace.exited;
      expect(code, ktrace.output().slice(-3000)).toBe(0);
      expect(ktrace.logs().some((l) => l['msg'] === 'bye')).toBe(true);
      expect(ktrace.logs().some((l) => l['msg'] === 'trace stopped' && Number(l['samples']) > 0)).toBe(true);
    });
  },
);
