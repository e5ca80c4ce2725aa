// `ktrace run` end to end: the built CLI runs the real bpftrace on a workload with known counts; /metrics and a real
// Prometheus see the exact counts; a SIGKILLed bpftrace is restarted and the counter stays monotonic and exact;
// SIGTERM exports bpftrace's final dump (events after the last periodic print) over OTLP, and ktrace exits 0.
// On every bpftrace release of support/versions.ts, each paired with one Prometheus release in turn.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bpftraceChildren } from './support/proc-tree.js';
import { startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';
import { requireBuiltCli, startKtrace, startRun } from './support/ktrace-process.js';
import { namedBinary, ping, readsFromStdin, uniqueName, waitAttached } from './support/workload.js';
import type { Ping } from './support/workload.js';
import { latestValue, startOtlpHttpReceiver } from './support/otlp-receiver.js';
import type { OtlpReceiver } from './support/otlp-receiver.js';
import { bpftraceReleases, prometheusReleases } from './support/versions.js';
import type { BpftraceRelease, PrometheusRelease } from './support/versions.js';

const matrix = bpftraceReleases().map((release, i) => {
  const proms = prometheusReleases();
  const prom = proms[i % proms.length] as PrometheusRelease;
  return [release.name, prom.name, release, prom] as [string, string, BpftraceRelease, PrometheusRelease];
});

/** Reads of fd 0 by process name, plus the ping's probe: proof that the probes are attached. */
function program(pinger: Ping): string {
  return ['tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }', pinger.probe].join('\n');
}

let prometheus: RunningPrometheus | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  await receiver?.close();
  receiver = undefined;
});

describe.each(matrix)('ktrace run with the real bpftrace %s (Prometheus %s)', (_name, _prom, release, prom) => {
  it('exports exact counts to /metrics and Prometheus, and stays monotonic and exact across a bpftrace restart', async () => {
    requireBuiltCli();
    const name = uniqueName('ktw');
    const pinger = ping();
    const dd = namedBinary('/bin/dd', name);
    const ktrace = await startRun(program(pinger), { bpftrace: release.path, interval: '1s', listen: true });
    const listen = ktrace.listen as string;
    const series = `bpftrace_reads_total{comm="${name}"}`;
    const reads = (value: number, what: string): Promise<number> =>
      ktrace.waitForSample({ name: 'bpftrace_reads_total', labels: { comm: name } }, (v) => v === value, what);

    await waitAttached(ktrace, pinger);
    prometheus = await startPrometheus({ targets: [listen], scrapeInterval: '1s', binary: prom.prometheus });

    await readsFromStdin(dd, 2500);
    await reads(2500, `${series} == 2500`);
    const seen = await prometheus.waitFor(series, (rows) => rows[0]?.value === 2500, 30_000);
    expect(seen.map((r) => r.value)).toEqual([2500]);

    // Kill bpftrace as the OOM killer would: no final dump; ktrace must restart it and carry the total forward.
    const pid = ktrace.child.pid ?? 0;
    const [first] = bpftraceChildren(pid);
    expect(first, 'a bpftrace child of ktrace').toBeDefined();
    process.kill(first ?? 0, 'SIGKILL');
    await ktrace.waitFor(async () => {
      const restarts = await ktrace.sample('ktrace_bpftrace_restarts_total');
      const next = bpftraceChildren(pid);
      return restarts === 1 && next.length === 1 && next[0] !== first ? true : undefined;
    }, 'ktrace to restart bpftrace');
    await waitAttached(ktrace, pinger);
    expect(await ktrace.sample('bpftrace_reads_total', { comm: name })).toBe(2500);

    await readsFromStdin(dd, 1700);
    await reads(4200, `${series} == 4200 after the restart`);
    await prometheus.waitFor(series, (rows) => rows[0]?.value === 4200, 30_000);
    // Never a counter reset in what Prometheus scraped, so rate() and increase() stay right.
    const resets = await prometheus.query(`resets(${series}[10m])`);
    expect(resets.map((r) => r.value)).toEqual([0]);
    const restarts = await prometheus.waitFor('ktrace_bpftrace_restarts_total', (rows) => rows[0]?.value === 1, 30_000);
    expect(restarts.map((r) => r.value)).toEqual([1]);

    expect(await ktrace.stop()).toEqual({ code: 0, signal: null });
  });

  it('exports the final dump on SIGTERM (events after the last periodic print) and exits 0', async () => {
    requireBuiltCli();
    const name = uniqueName('ktf');
    const pinger = ping();
    const dd = namedBinary('/bin/dd', name);
    receiver = await startOtlpHttpReceiver();
    // An interval of an hour: no periodic print happens during the test, so only the exit-time dump can carry the count.
    const ktrace = await startRun(program(pinger), {
      bpftrace: release.path,
      interval: '1h',
      listen: true,
      args: ['--otlp-endpoint', receiver.endpoint],
    });
    await waitAttached(ktrace, pinger);

    await readsFromStdin(dd, 777);
    expect(await ktrace.sample('bpftrace_reads_total', { comm: name })).toBeUndefined();

    expect(await ktrace.stop()).toEqual({ code: 0, signal: null });
    const logs = ktrace.logs();
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
    const ktrace = startKtrace(['run', '--spec', spec, '--duration', '1s']);
    expect(await ktrace.exited).toEqual({ code: 0, signal: null });
    const running = ktrace.logs().find((l) => l['msg'] === 'ktrace running');
    expect(running, ktrace.output()).toBeDefined();
    expect(running?.['metrics']).toBeNull();
  });
});
