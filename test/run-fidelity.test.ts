// Fidelity at speed: a process named by the test makes millions of syscalls while `ktrace run` exports every
// second; the counters at /metrics never go backwards and end exactly at the number of calls. On every bpftrace release.
import { describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import { requireBuiltCli, sampleValue, startRun } from './support/ktrace-process.js';
import { namedBinary, ping, readsFromStdin, uniqueName, waitAttached } from './support/workload.js';

const READS = 3_000_000;

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'ktrace run fidelity at speed, bpftrace %s',
  (_name, release) => {
    it(`counts ${READS.toLocaleString('en')} reads and as many writes exactly while exporting every second`, async () => {
      requireBuiltCli();
      const name = uniqueName('ktfid');
      const pinger = ping();
      const dd = namedBinary('/bin/dd', name);
      const program = [
        'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
        'tracepoint:syscalls:sys_enter_write /args->fd == 1/ { @writes[comm] = count(); }',
        pinger.probe,
      ].join('\n');
      let running = true;
      const ktrace = await startRun(program, { bpftrace: release.path, interval: '1s', listen: true });
      try {
        await waitAttached(ktrace, pinger);

        // Scrape all along, until the total is reached (or the test gives up): every exported value must be a
        // running total that never decreases.
        const seen: number[] = [];
        const watcher = (async () => {
          while (running && seen.at(-1) !== READS) {
            const value = await ktrace.sample('bpftrace_reads_total', { comm: name });
            if (value !== undefined && value !== seen.at(-1)) seen.push(value);
            if (value !== READS) await new Promise((r) => setTimeout(r, 100));
          }
        })();
        // dd copies /dev/zero one byte at a time: exactly READS reads of fd 0 and READS writes to fd 1.
        await readsFromStdin(dd, READS);
        const text = await ktrace.waitFor(async () => {
          const t = await ktrace.metrics();
          // Each map is its own line of output: a scrape may fall between the @reads and @writes of one print.
          const done =
            sampleValue(t, 'bpftrace_reads_total', { comm: name }) === READS &&
            sampleValue(t, 'bpftrace_writes_total', { comm: name }) === READS;
          return done ? t : undefined;
        }, `bpftrace_reads_total and bpftrace_writes_total{comm="${name}"} == ${READS}`);
        // The watcher stops by itself once it scrapes READS, which /metrics now serves.
        await Promise.race([watcher, new Promise((r) => setTimeout(r, 5_000))]);
        running = false;
        await watcher;

        expect(sampleValue(text, 'bpftrace_reads_total', { comm: name })).toBe(READS);
        expect(sampleValue(text, 'bpftrace_writes_total', { comm: name })).toBe(READS);
        // At least one intermediate total was exported while dd ran (not only the end), each one a step up.
        expect(seen.length).toBeGreaterThanOrEqual(2);
        expect(seen.at(-1)).toBe(READS);
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(sampleValue(text, 'ktrace_lost_events_total')).toBe(0);
        expect(sampleValue(text, 'ktrace_parse_problems_total')).toBe(0);
      } finally {
        running = false;
        expect((await ktrace.stop()).code).toBe(0);
      }
    });
  },
);
