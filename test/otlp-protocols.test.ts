// OTLP over each protocol a collector speaks, end to end: the built CLI runs the real bpftrace on a workload of
// known counts and pushes to a receiver that decodes what it gets (protobuf with opentelemetry-proto's schema,
// JSON, gRPC MetricsService/Export). The counter equals bpftrace's count, and the histogram's buckets are those
// /metrics serves. The protocol comes from OTEL_EXPORTER_OTLP_PROTOCOL / _METRICS_PROTOCOL (http/protobuf by default).
import { ktraceVersion } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { latestValue, metricsNamed, startOtlpGrpcReceiver, startOtlpHttpReceiver } from './support/otlp-receiver.js';
import type { OtlpReceiver, ReceivedExport } from './support/otlp-receiver.js';
import { requireBuiltCli, sampleValue, startKtrace, startRun } from './support/ktrace-process.js';
import type { KtraceProcess } from './support/ktrace-process.js';
import { namedBinary, ping, readsFromStdin, uniqueName, waitAttached } from './support/workload.js';
import type { Ping } from './support/workload.js';

let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

/** process.env without any OTEL_* variable, plus `extra`. */
function otelEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  return { ...env, ...extra };
}

/** Reads of fd 0 by process name, their sizes for `name`, and a printf when `ping` reads (the probes are attached). */
function program(name: string, pinger: Ping): string {
  return [
    'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
    `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${name}"/ { @spread[comm] = hist(args->count); }`,
    pinger.probe,
  ].join('\n');
}

interface PushedRun {
  name: string;
  /** /metrics once it showed the workload's reads. */
  metrics: string;
  exports: ReceivedExport[];
  ktrace: KtraceProcess;
}

/**
 * `ktrace run` pushing to `endpoint` with `env`: 777 one-byte reads by a process of a unique name, then SIGTERM
 * (the final dump is pushed as ktrace stops). `exports` reads the receiver afterwards.
 */
async function runPushing(
  endpoint: string,
  env: NodeJS.ProcessEnv,
  exports: () => ReceivedExport[],
): Promise<PushedRun> {
  requireBuiltCli();
  const name = uniqueName('kto');
  const pinger = ping();
  const dd = namedBinary('/bin/dd', name);
  const ktrace = await startRun(program(name, pinger), {
    interval: '500ms',
    listen: true,
    args: ['--otlp-endpoint', endpoint],
    env,
  });
  await waitAttached(ktrace, pinger);
  await readsFromStdin(dd, 777);
  const metrics = await ktrace.waitFor(
    async () => {
      const text = await ktrace.metrics();
      return sampleValue(text, 'bpftrace_reads_total', { comm: name }) === 777 ? text : undefined;
    },
    '/metrics to show the 777 reads',
    30_000,
  );
  expect(await ktrace.stop(), ktrace.tail()).toEqual({ code: 0, signal: null });
  return { name, metrics, exports: exports(), ktrace };
}

/** What a user checks in the collector: the count, the histogram as /metrics has it, the final push delivered. */
function expectPushed(run: PushedRun, encoding: ReceivedExport['encoding'], url: string): void {
  const { name, exports } = run;
  expect(exports.length).toBeGreaterThan(0);
  expect(new Set(exports.map((e) => e.encoding))).toEqual(new Set([encoding]));
  expect(latestValue(exports, 'bpftrace_reads', 'comm', name)).toBe(777);
  const spread = metricsNamed(exports, 'bpftrace_spread')
    .flatMap((m) => m.points)
    .filter((p) => p.attributes['comm'] === name)
    .at(-1);
  expect(spread?.count).toBe(777);
  // OTLP buckets are per bucket, Prometheus's cumulative: add them up and compare bound by bound.
  let cumulative = 0;
  const served = (spread?.explicitBounds ?? []).map((bound, i) => {
    cumulative += spread?.bucketCounts?.[i] ?? 0;
    return [bound, cumulative, sampleValue(run.metrics, 'bpftrace_spread_bucket', { comm: name, le: String(bound) })];
  });
  expect(served.length).toBeGreaterThan(0);
  for (const [bound, pushed, scraped] of served) expect(pushed, `le=${bound}`).toBe(scraped);
  // dd bs=1: every read is one byte, in the bucket whose upper bound is 1.
  expect(spread?.bucketCounts?.[spread.explicitBounds?.indexOf(1) ?? -1]).toBe(777);
  const resource = exports.at(-1)?.resource ?? {};
  expect(resource['service.name']).toBe('ktrace');
  expect(resource['service.version']).toBe(ktraceVersion);
  // A random instance id per exporter, as the OTel SDKs make it.
  expect(resource['service.instance.id']).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  const stopped = run.ktrace.logs().find((l) => String(l['msg']).startsWith('trace stopped'));
  expect(stopped?.['msg']).toBe(`trace stopped; the final dump reached the OTLP collector at ${url}`);
}

describe('ktrace run pushes OTLP over each protocol, decoded by the receiver', () => {
  it('http/protobuf when no protocol is set: an ExportMetricsServiceRequest with the exact count and buckets', async () => {
    receiver = await startOtlpHttpReceiver();
    const http = receiver;
    const run = await runPushing(http.endpoint, otelEnv({}), () => http.exports());
    expect(http.rejected()).toEqual([]);
    expectPushed(run, 'protobuf', `${http.endpoint}/v1/metrics`);
    expect(new Set(run.exports.map((e) => e.path))).toEqual(new Set(['/v1/metrics']));
  });

  it('http/json with OTEL_EXPORTER_OTLP_PROTOCOL=http/json', async () => {
    receiver = await startOtlpHttpReceiver();
    const http = receiver;
    const run = await runPushing(http.endpoint, otelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), () =>
      http.exports(),
    );
    expect(http.rejected()).toEqual([]);
    expectPushed(run, 'json', `${http.endpoint}/v1/metrics`);
  });

  it('grpc with OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=grpc (over OTEL_EXPORTER_OTLP_PROTOCOL=http/json): MetricsService/Export', async () => {
    receiver = await startOtlpGrpcReceiver();
    const grpc = receiver;
    const run = await runPushing(
      grpc.endpoint,
      otelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }),
      () => grpc.exports(),
    );
    expectPushed(run, 'grpc', grpc.endpoint);
  });

  it('an unknown protocol: exit 2 and one line naming the variable and the valid protocols', async () => {
    requireBuiltCli();
    const current = startKtrace(
      ['run', '-e', 'profile:hz:99 { @samples = count(); }', '--otlp-endpoint', 'http://127.0.0.1:4318'],
      { env: otelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http' }) },
    );
    expect((await current.exited).code).toBe(2);
    const lines = current
      .output()
      .split('\n')
      .filter((l) => l.startsWith('ktrace: '));
    expect(lines).toEqual([
      'ktrace: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL "http" is not an OTLP protocol; use http/protobuf (the default), http/json or grpc',
    ]);
    expect(current.output()).not.toMatch(/\n\s+at /);
  });
});
