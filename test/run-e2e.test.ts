// `ktrace run` end to end: the built CLI runs the real bpftrace on a workload with known counts; /metrics and a real
// Prometheus see the exact counts; a SIGKILLed bpftrace is restarted and the counter stays monotonic and exact;
// SIGTERM exports bpftrace's final dump (events after the last periodic print) over OTLP, and ktrace exits 0.
// On every bpftrace release of support/versions.ts, each paired with one Prometheus release in turn.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';
import {
  bpftraceChildren,
  eventually,
  namedBinary,
  readsFromStdin,
  requireBuiltCli,
  sampleValue,
  scrape,
  startKtrace,
  uniqueName,
} from './support/workload.js';
import type { KtraceProcess } from './support/workload.js';
import { latestValue, startOtlpHttpReceiver } from './support/otlp-receiver.js';
import type { OtlpReceiver } from './support/otlp-receiver.js';
import { bpftraceReleases, prometheusReleases } from './support/versions.js';
import type { BpftraceRelease, PrometheusRelease } from './support/versions.js';

const matrix = bpftraceReleases().map((release, i) => {
  const proms = prometheusReleases();
  const prom = proms[i % proms.length] as PrometheusRelease;
  return [release.name, prom.name, release, prom] as [string, string, BpftraceRelease, PrometheusRelease];
});

/** Reads of fd 0 by process name, plus a printf when the ping process reads: proof that the probes are attached. */
function program(ping: string): string {
  return [
    'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
    `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${ping}"/ { printf("ktrace-ping\\n"); }`,
  ].join('\n');
}

/** Runs the ping binary until ktrace logs a new ping line: bpftrace's read probe is attached now. */
async function waitAttached(ktrace: KtraceProcess, pingBinary: string): Promise<void> {
  const pings = (): number => ktrace.logs().filter((l) => l['msg'] === 'ktrace-ping').length;
  const before = pings();
  await eventually(
    async () => {
      await readsFromStdin(pingBinary, 1);
      return pings() > before ? true : undefined;
    },
    'bpftrace to attach (a ping read logged by ktrace)',
    60_000,
    () => ktrace.output().slice(-3000),
  );
}

let ktrace: KtraceProcess | undefined;
let prometheus: RunningPrometheus | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  if (ktrace !== undefined && ktrace.child.exitCode === null && ktrace.child.signalCode === null) {
    ktrace.child.kill('SIGKILL');
    await ktrace.exited;
  }
  ktrace = undefined;
  await prometheus?.stop();
  prometheus = undefined;
  await receiver?.close();
  receiver = undefined;
});

describe.each(matrix)('ktrace run with the real bpftrace %s (Prometheus %s)', (_name, _prom, release, prom) => {
  it('exports exact counts to /metrics and Prometheus, and stays monotonic and exact across a bpftrace restart', async () => {
    requireBuiltCli();
    const name = uniqueName('ktw');
    const ping = uniqueName('ktp');
    const dd = namedBinary('/bin/dd', name);
    const pingBinary = namedBinary('/bin/dd', ping);
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const current = startKtrace([
      'run',
      '--bpftrace',
      release.path,
      '-e',
      program(ping),
      '--interval',
      '1s',
      '--listen',
      listen,
    ]);
    ktrace = current;
    const debug = (): string => current.output().slice(-4000);
    const reads = async (): Promise<number | undefined> =>
      sampleValue(await scrape(listen), 'bpftrace_reads_total', { comm: name });

    await waitAttached(current, pingBinary);
    prometheus = await startPrometheus({ targets: [listen], scrapeInterval: '1s', binary: prom.prometheus });

    await readsFromStdin(dd, 2500);
    await eventually(
      async () => ((await reads()) === 2500 ? true : undefined),
      `bpftrace_reads_total{comm="${name}"} == 2500`,
      30_000,
      debug,
    );
    const series = `bpftrace_reads_total{comm="${name}"}`;
    const seen = await prometheus.waitFor(series, (rows) => rows[0]?.value === 2500, 30_000);
    expect(seen.map((r) => r.value)).toEqual([2500]);

    // Kill bpftrace as the OOM killer would: no final dump; ktrace must restart it and carry the total forward.
    const pid = current.child.pid ?? 0;
    const [first] = bpftraceChildren(pid);
    expect(first, 'a bpftrace child of ktrace').toBeDefined();
    process.kill(first ?? 0, 'SIGKILL');
    await eventually(
      async () => {
        const text = await scrape(listen);
        const next = bpftraceChildren(pid);
        return sampleValue(text, 'ktrace_bpftrace_restarts_total') === 1 && next.length === 1 && next[0] !== first
          ? true
          : undefined;
      },
      'ktrace to restart bpftrace',
      60_000,
      debug,
    );
    await waitAttached(current, pingBinary);
    expect(await reads()).toBe(2500);

    await readsFromStdin(dd, 1700);
    await eventually(
      async () => ((await reads()) === 4200 ? true : undefined),
      `${series} == 4200 after the restart`,
      30_000,
      debug,
    );
    await prometheus.waitFor(series, (rows) => rows[0]?.value === 4200, 30_000);
    // Never a counter reset in what Prometheus scraped, so rate() and increase() stay right.
    const resets = await prometheus.query(`resets(${series}[10m])`);
    expect(resets.map((r) => r.value)).toEqual([0]);
    const restarts = await prometheus.waitFor('ktrace_bpftrace_restarts_total', (rows) => rows[0]?.value === 1, 30_000);
    expect(restarts.map((r) => r.value)).toEqual([1]);

    current.child.kill('SIGTERM');
    expect(await current.exited).toEqual({ code: 0, signal: null });
  });

  it('exports the final dump on SIGTERM (events after the last periodic print) and exits 0', async () => {
    requireBuiltCli();
    const name = uniqueName('ktf');
    const ping = uniqueName('ktp');
    const dd = namedBinary('/bin/dd', name);
    const pingBinary = namedBinary('/bin/dd', ping);
    receiver = await startOtlpHttpReceiver();
    const listen = `127.0.0.1:${await freePort()}`;
    // An interval of an hour: no periodic print happens during the test, so only the exit-time dump can carry the count.
    const current = startKtrace([
      'run',
      '--bpftrace',
      release.path,
      '-e',
      program(ping),
      '--interval',
      '1h',
      '--listen',
      listen,
      '--otlp-endpoint',
      receiver.endpoint,
    ]);
    ktrace = current;
    await waitAttached(current, pingBinary);

    await readsFromStdin(dd, 777);
    expect(sampleValue(await scrape(listen), 'bpftrace_reads_total', { comm: name })).toBeUndefined();

    current.child.kill('SIGTERM');
    expect(await current.exited).toEqual({ code: 0, signal: null });
    const logs = current.logs();
    expect(logs.some((l) => String(l['msg']).startsWith('trace stopped') && l['reason'] === 'stopped')).toBe(true);
    expect(
      latestValue(receiver.exports(), 'bpftrace_reads', 'comm', name),
      JSON.stringify(receiver.exports(), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 2000),
    ).toBe(777);
  });
});

describe('ktrace run, whichever bpftrace', () => {
  it('serves no /metrics when the spec says metrics.listen: false (no default port added)', async () => {
    requireBuiltCli();
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-nolisten-'));
    const spec = join(dir, 'trace.yaml');
    writeFileSync(spec, 'program: "profile:hz:99 { @samples = count(); }"\nmetrics:\n  listen: false\n');
    const current = startKtrace(['run', '--spec', spec, '--duration', '1s']);
    ktrace = current;
    expect(await current.exited).toEqual({ code: 0, signal: null });
    const running = current.logs().find((l) => l['msg'] === 'ktrace running');
    expect(running, current.output()).toBeDefined();
    expect(running?.['metrics']).toBeNull();
  });
});
