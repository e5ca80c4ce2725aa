// createExporter: wires the series store into OTel (MeterProvider, PrometheusExporter without its own server,
// optional OTLP push: otlp-target.ts), keeps ktrace's self-metrics, and serves GET /metrics and GET /healthz.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KtraceError } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { InstrumentType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { ObservableResult } from '@opentelemetry/api';
import { BpftraceMetricProducer } from './metric-producer.js';
import type { ExporterOptions } from './options.js';
import { SKIP_REASONS, SeriesStore, storedSeries } from './series-store.js';
import type { MapState } from './series-store.js';
import { SELF_METRICS, SELF_METRICS_SCOPE } from './self-metrics.js';
import { ktraceResource } from './resource.js';
import type { SelfMetric } from './self-metrics.js';
import { WatchedPushExporter, within } from './otlp-push.js';
import type { OtlpFinalPush } from './otlp-push.js';
import { otlpTarget, otlpWanted } from './otlp-target.js';

export interface Exporter {
  /** Map samples and self-metric events (attached, lost, problem, runtime-error). Never throws. */
  handle(event: ParseEvent): void;
  /**
   * bpftrace restarted: its maps start again from zero; totals are carried forward and
   * ktrace_bpftrace_restarts_total counts it. A supervisor calls this when it starts bpftrace again; without one
   * (piped input), an `attached` event after maps were printed in the same run means the same, and is counted once.
   */
  recordRestart(): void;
  /** ktrace_up and /healthz, set by the host that feeds the exporter; `reason` is what /healthz says when down. */
  setUp(up: boolean, reason?: string): void;
  /** Binds `listen` (KtraceError KTRACE_LISTEN naming the address if it cannot). */
  start(): Promise<{ url?: string }>;
  /** The exposition as served at /metrics; after shutdown, the final one (the state at shutdown). */
  prometheusText(): Promise<string>;
  /** Flushes OTLP (bounded), closes the server; says whether the final push reached the collector. */
  shutdown(): Promise<ExporterShutdown>;
  /** The series store behind this exporter (for SDK users and tests). */
  readonly store: SeriesStore;
}

export interface ExporterShutdown {
  /** Set when OTLP pushes were configured. */
  otlp?: OtlpFinalPush;
}

/** The longest the final OTLP flush (and the OTel shutdown after it) may take on stop. */
export const OTLP_FINAL_FLUSH_MILLIS = 5000;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--listen ${JSON.stringify(listen)} is not HOST:PORT; use e.g. 127.0.0.1:9464 (port 0 picks a free port)`,
    });
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/**
 * The warning for a listen address that binds every interface (`0.0.0.0:P`, `[::]:P`, and `:P`, which means
 * 0.0.0.0): /metrics is then reachable from other machines. Undefined for an address of one interface.
 */
export function listenWarning(listen: string): string | undefined {
  const { host, port } = parseListen(listen);
  if (host !== '0.0.0.0' && host !== '::') return undefined;
  const meaning = listen.trim().startsWith(':') ? ' (no host means 0.0.0.0)' : '';
  return `--listen ${listen} binds every network interface${meaning}: /metrics and /healthz are reachable from other machines; give 127.0.0.1:${port} to serve this machine only`;
}

export function createExporter(options: ExporterOptions = {}): Exporter {
  const warn = options.onWarning ?? ((text: string) => console.error(`ktrace exporter: ${text}`));
  const store = new SeriesStore({ ...options, onWarning: warn });
  const listen = options.listen === undefined ? undefined : parseListen(options.listen);
  const env = process.env;
  const renderer = options.prometheusRenderer ?? 'store';

  const resource = ktraceResource(options.resourceAttributes);
  // host.id is read asynchronously; OTLP pushes wait for it, so target_info does too (else early scrapes lack it).
  // start() waits before listening, so no request waits for it.
  let resourceSettled = false;
  const resourceSettling = (resource.waitForAsyncAttributes?.() ?? Promise.resolve()).then(() => {
    resourceSettled = true;
  });

  const prometheus = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    ...(renderer === 'otel' ? { metricProducers: [new BpftraceMetricProducer({ store })] } : {}),
  });
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  const readers: IMetricReader[] = [prometheus];
  let otlpReader: PeriodicExportingMetricReader | undefined;
  let otlpPush: WatchedPushExporter | undefined;
  let countOtlpFailure = (): void => undefined;
  if (otlpWanted(options.otlpEndpoint)) {
    const intervalEnv = Number(env['OTEL_METRIC_EXPORT_INTERVAL']);
    const target = otlpTarget({
      ...(options.otlpEndpoint === undefined ? {} : { endpoint: options.otlpEndpoint }),
      ...(options.otlpProtocol === undefined ? {} : { protocol: options.otlpProtocol }),
    });
    // OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE is read by the exporter; bpftrace's maps follow what it
    // selects for observed counters (delta: yes, lowmemory: no) and for histograms (delta, lowmemory: yes).
    const temporality = {
      sum: target.exporter.selectAggregationTemporality(InstrumentType.OBSERVABLE_COUNTER),
      histogram: target.exporter.selectAggregationTemporality(InstrumentType.HISTOGRAM),
    };
    otlpPush = new WatchedPushExporter(target.exporter, { url: target.url, warn, onFailure: () => countOtlpFailure() });
    otlpReader = new PeriodicExportingMetricReader({
      exporter: otlpPush,
      exportIntervalMillis:
        options.otlpIntervalMillis ?? (Number.isFinite(intervalEnv) && intervalEnv > 0 ? intervalEnv : 60_000),
      metricProducers: [new BpftraceMetricProducer({ store, temporality })],
    });
    readers.push(otlpReader);
  }
  const provider = new MeterProvider({ resource, readers });
  const meter = provider.getMeter(SELF_METRICS_SCOPE.name, SELF_METRICS_SCOPE.version);

  // Self-metrics (self-metrics.ts): ordinary OTel instruments. Observables read the store, so they never drift from it.
  let up = false;
  let downReason: string | undefined;
  let attachedProbes = 0;
  // Whether the current bpftrace run printed a map: an `attached` after that starts a new run (piped input).
  let dumpsThisRun = false;
  const counter = (metric: SelfMetric) => meter.createCounter(metric.name, { description: metric.description });
  const observe = (metric: SelfMetric, read: (result: ObservableResult) => void): void => {
    const options = { description: metric.description, ...(metric.unit === undefined ? {} : { unit: metric.unit }) };
    (metric.type === 'counter'
      ? meter.createObservableCounter(metric.name, options)
      : meter.createObservableGauge(metric.name, options)
    ).addCallback(read);
  };
  const restarts = counter(SELF_METRICS.restarts);
  const problems = counter(SELF_METRICS.problems);
  const linesDropped = counter(SELF_METRICS.linesDropped);
  const lost = counter(SELF_METRICS.lost);
  const runtimeErrors = counter(SELF_METRICS.runtimeErrors);
  const otlpFailures = counter(SELF_METRICS.otlpFailures);
  countOtlpFailure = () => otlpFailures.add(1);
  // counters start at 0 so rate() and alerts see them before the first event
  for (const c of [restarts, problems, linesDropped, lost, runtimeErrors, otlpFailures]) c.add(0);
  const perMap = (metric: SelfMetric, read: (state: MapState) => number | undefined): void =>
    observe(metric, (result) => {
      for (const state of store.mapStates()) {
        const value = read(state);
        if (value !== undefined) result.observe(value, { map: state.map });
      }
    });
  observe(SELF_METRICS.up, (result) => result.observe(up ? 1 : 0));
  observe(SELF_METRICS.attachedProbes, (result) => result.observe(attachedProbes));
  perMap(SELF_METRICS.series, storedSeries);
  perMap(SELF_METRICS.overflowed, (state) => state.overflowedTotal);
  perMap(SELF_METRICS.folded, (state) => state.folded.size);
  perMap(SELF_METRICS.expired, (state) => state.expiredTotal);
  observe(SELF_METRICS.valuesSkipped, (result) => {
    for (const state of store.mapStates()) {
      for (const reason of SKIP_REASONS) result.observe(state.skipped.get(reason) ?? 0, { map: state.map, reason });
    }
  });
  perMap(SELF_METRICS.bucketsMerged, (state) => (state.shape === 'histogram' ? state.bucketsMerged : undefined));
  perMap(SELF_METRICS.dumps, (state) => state.dumps);
  const clock = options.now ?? Date.now;
  perMap(SELF_METRICS.dumpAge, (state) =>
    state.lastDumpMs === undefined ? undefined : (clock() - state.lastDumpMs) / 1000,
  );

  // OTel's readers refuse to collect once shut down, so the exposition at shutdown is kept for later callers.
  let finalText: string | undefined;
  const prometheusText = async (): Promise<string> => {
    if (finalText !== undefined) return finalText;
    if (!resourceSettled) await resourceSettling;
    const { resourceMetrics, errors } = await prometheus.collect();
    for (const error of errors) warn(`collecting metrics: ${String(error)}`);
    if (renderer === 'otel') return serializer.serialize(resourceMetrics);
    // target_info and self-metrics through OTel, the bpftrace series from the store's cached text
    const head = serializer.serialize(resourceMetrics);
    return head + store.prometheusText();
  };

  const handleRequest = (request: IncomingMessage, response: ServerResponse): void => {
    // An absolute-form target (`GET http://host/metrics`, RFC 9112 3.2.2) names the same resource as `/metrics`.
    const target = request.url ?? '/';
    const path = (
      /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/' : target
    ).split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      prometheusText().then(
        (text) => {
          response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          warn(`serving /metrics: ${String(error)}`);
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`# error: ${String(error)}\n`);
        },
      );
      return;
    }
    if (path === '/healthz') {
      response
        .writeHead(up ? 200 : 503, { 'content-type': 'text/plain' })
        .end(up ? 'ok\n' : `${downReason ?? 'bpftrace is not up'}\n`);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  };

  let server: Server | undefined;
  const restart = (): void => {
    store.recordRestart();
    restarts.add(1);
    dumpsThisRun = false;
  };

  return {
    store,
    handle(event) {
      try {
        switch (event.type) {
          case 'map':
            store.ingest(event);
            dumpsThisRun = true;
            break;
          case 'attached':
            // bpftrace prints this once, as it starts: after maps were printed, a new bpftrace run follows in the
            // same stream (`while …; do bpftrace …; done | ktrace export`), and its maps start from zero again.
            if (dumpsThisRun) restart();
            attachedProbes = event.probes;
            up = true;
            downReason = undefined;
            break;
          case 'lost':
            lost.add(event.events);
            break;
          case 'problem':
            problems.add(1);
            if (event.cause === 'line-too-long') {
              linesDropped.add(1);
              warn(
                `${event.reason} (line ${event.line}; counted in ${SELF_METRICS.linesDropped.name}_total). Raise the limit with --max-line-bytes (limits.maxLineBytes in a trace spec)`,
              );
            }
            break;
          case 'runtime-error':
            runtimeErrors.add(1);
            break;
          default:
            break;
        }
      } catch (error) {
        warn(`handling a ${event.type} event: ${String(error)}`);
      }
    },
    recordRestart() {
      restart();
    },
    setUp(value, reason) {
      up = value;
      downReason = value ? undefined : reason;
    },
    async start() {
      await resourceSettling;
      if (listen === undefined) return {};
      if (server !== undefined) {
        const address = server.address() as AddressInfo;
        return {
          url: `http://${listen.host.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
        };
      }
      const everywhere = listenWarning(options.listen ?? '');
      if (everywhere !== undefined) warn(everywhere);
      const created = createServer(handleRequest);
      await new Promise<void>((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException): void => {
          reject(
            new KtraceError({
              code: 'KTRACE_LISTEN',
              message: `cannot listen on ${options.listen ?? ''}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}; choose another --listen HOST:PORT`,
              cause: error,
            }),
          );
        };
        created.once('error', onError);
        created.listen(listen.port, listen.host, () => {
          created.off('error', onError);
          resolve();
        });
      });
      server = created;
      const address = created.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { url: `http://${host}:${address.port}` };
    },
    prometheusText,
    async shutdown() {
      const closing = server;
      server = undefined;
      if (closing !== undefined) {
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
      const result: ExporterShutdown = {};
      // One deadline for the final flush and the OTel shutdown after it: an unreachable collector costs at most that.
      const deadline = Date.now() + OTLP_FINAL_FLUSH_MILLIS;
      if (otlpReader !== undefined && otlpPush !== undefined) {
        const before = otlpPush.completed;
        let flushError: string | undefined;
        const flushed = await within(
          otlpReader.forceFlush().catch((error: unknown) => {
            flushError = String(error);
          }),
          OTLP_FINAL_FLUSH_MILLIS,
        );
        const url = otlpPush.url;
        if (flushed === undefined) {
          result.otlp = { url, delivered: false, error: `no answer within ${OTLP_FINAL_FLUSH_MILLIS / 1000} s` };
        } else if (otlpPush.completed > before && otlpPush.lastError === undefined && flushError === undefined) {
          result.otlp = { url, delivered: true };
        } else {
          result.otlp = {
            url,
            delivered: false,
            error: flushError ?? otlpPush.lastError ?? 'the push did not complete',
          };
        }
      }
      finalText = await prometheusText();
      // The reader pushes once more as it shuts down: within what is left of the deadline, since the collector may be gone.
      const shut = await within(
        provider.shutdown().catch((error: unknown) => {
          if (result.otlp?.delivered !== false) warn(`shutting down OTel: ${String(error)}`);
        }),
        Math.max(0, deadline - Date.now()),
      );
      if (shut === undefined && result.otlp === undefined) warn('shutting down OTel took too long; gave up waiting');
      return result;
    },
  };
}
