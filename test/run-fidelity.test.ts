// Fidelity at speed: a process named by the test makes millions of syscalls while `ktrace run` exports every
// second; the counters at /metrics never go backwards and end exactly at the number of calls. On every bpftrace release.
import { describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import {
  eventually,
  namedBinary,
  readsFromStdin,
  requireBuiltCli,
  sampleValue,
  scrape,
  startKtrace,
  uniqueName,
} from './support/workload.js';

const READS = 3_000_000;

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'ktrace run fidelity at speed, bpftrace %s',
  (_name, release) => {
    it(`counts ${READS.toLocaleString('en')} reads and as many writes exactly while exporting every second`, async () => {
      requireBuiltCli();
      const name = uniqueName('ktfid');
      const ping = uniqueName('ktp');
      const dd = namedBinary('/bin/dd', name);
      const pingBinary = namedBinary('/bin/dd', ping);
      const listen = `127.0.0.1:${await freePort()}`;
      const program = [
        'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
        'tracepoint:syscalls:sys_enter_write /args->fd == 1/ { @writes[comm] = count(); }',
        `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${ping}"/ { printf("ktrace-ping\\n"); }`,
      ].join('\n');
      let running = true;
      const ktrace = startKtrace([
        'run',
        '--bpftrace',
        release.path,
        '-e',
        program,
        '--interval',
        '1s',
        '--listen',
        listen,
      ]);
      try {
        await eventually(
          async () => {
            await readsFromStdin(pingBinary, 1);
            return ktrace.logs().some((l) => l['msg'] === 'ktrace-ping') ? true : undefined;
          },
          'bpftrace to attach',
          60_000,
          () => ktrace.output().slice(-3000),
        );

        // Scrape all along, until the total is reached (or the test gives up): every exported value must be a
        // running total that never decreases.
        const seen: number[] = [];
        const watcher = (async () => {
          while (running && seen.at(-1) !== READS) {
            const value = sampleValue(await scrape(listen), 'bpftrace_reads_total', { comm: name });
            if (value !== undefined && value !== seen.at(-1)) seen.push(value);
            if (value !== READS) await new Promise((r) => setTimeout(r, 100));
          }
        })();
        // dd copies /dev/zero one byte at a time: exactly READS reads of fd 0 and READS writes to fd 1.
        await readsFromStdin(dd, READS);
        const text = await eventually(
          async () => {
            const t = await scrape(listen);
            // Each map is its own line of output: a scrape may fall between the @reads and @writes of one print.
            const done =
              sampleValue(t, 'bpftrace_reads_total', { comm: name }) === READS &&
              sampleValue(t, 'bpftrace_writes_total', { comm: name }) === READS;
            return done ? t : undefined;
          },
          `bpftrace_reads_total and bpftrace_writes_total{comm="${name}"} == ${READS}`,
          60_000,
          () => ktrace.output().slice(-3000),
        );
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
        ktrace.child.kill('SIGTERM');
        expect((await ktrace.exited).code).toBe(0);
      }
    });
  },
);
