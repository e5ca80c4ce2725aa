// createExporter: wires the series store into OTel (MeterProvider, PrometheusExporter without its own server,
// optional OTLP/HTTP push), keeps ktrace's self-metrics, and serves GET /metrics and GET /healthz.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KtraceError } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { detectResources, envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { InstrumentType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { BpftraceMetricProducer, SCOPE } from './metric-producer.js';
import type { ExporterOptions } from './options.js';
import { SeriesStore } from './series-store.js';
import { WatchedPushExporter, within } from './otlp-push.js';
import type { OtlpFinalPush } from './otlp-push.js';

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
  /** The exposition as served at /metrics. */
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

/** A base URL (no path) gets OTLP's metrics path; a URL with a path is used as given. */
function otlpUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--otlp-endpoint ${JSON.stringify(endpoint)} is not a URL; use e.g. http://127.0.0.1:4318`,
      cause,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // `localhost:4318` parses as a URL of scheme `localhost:`: OTLP/HTTP would then fail on every push, silently.
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--otlp-endpoint ${JSON.stringify(endpoint)} is not an http(s) URL; use e.g. http://127.0.0.1:4318`,
    });
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/metrics';
  return url.toString();
}

export function createExporter(options: ExporterOptions = {}): Exporter {
  const warn = options.onWarning ?? ((text: string) => console.error(`ktrace exporter: ${text}`));
  const store = new SeriesStore({ ...options, onWarning: warn });
  const listen = options.listen === undefined ? undefined : parseListen(options.listen);
  const env = process.env;
  const otlpWanted =
    options.otlpEndpoint !== undefined ||
    env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] !== undefined ||
    env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined;
  const renderer = options.prometheusRenderer ?? 'store';

  const detected = detectResources({ detectors: [envDetector, hostDetector] });
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'ktrace' })
    .merge(detected)
    .merge(resourceFromAttributes(options.resourceAttributes ?? {}));

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
  if (otlpWanted) {
    const intervalEnv = Number(env['OTEL_METRIC_EXPORT_INTERVAL']);
    // OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE is read by the exporter; bpftrace's maps follow what it
    // selects for observed counters (delta: yes, lowmemory: no) and for histograms (delta, lowmemory: yes).
    const otlpExporter = new OTLPMetricExporter(options.otlpEndpoint === undefined ? {} : { url: otlpUrl(options.otlpEndpoint) });
    const temporality = {
      sum: otlpExporter.selectAggregationTemporality(InstrumentType.OBSERVABLE_COUNTER),
      histogram: otlpExporter.selectAggregationTemporality(InstrumentType.HISTOGRAM),
    };
    const url =
      options.otlpEndpoint === undefined
        ? (env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] ?? `${(env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '').replace(/\/$/, '')}/v1/metrics`)
        : otlpUrl(options.otlpEndpoint);
    otlpPush = new WatchedPushExporter(otlpExporter, { url, warn, onFailure: () => countOtlpFailure() });
    otlpReader = new PeriodicExportingMetricReader({
      exporter: otlpPush,
      exportIntervalMillis: options.otlpIntervalMillis ?? (Number.isFinite(intervalEnv) && intervalEnv > 0 ? intervalEnv : 60_000),
      metricProducers: [new BpftraceMetricProducer({ store, temporality })],
    });
    readers.push(otlpReader);
  }
  const provider = new MeterProvider({ resource, readers });
  const meter = provider.getMeter(SCOPE.name, SCOPE.version);

  // Self-metrics: ordinary OTel instruments. Observables read the store, so they can never drift from it.
  let up = false;
  let downReason: string | undefined;
  let attachedProbes = 0;
  // Whether the current bpftrace run printed a map: an `attached` after that starts a new run (piped input).
  let dumpsThisRun = false;
  const restarts = meter.createCounter('ktrace_bpftrace_restarts', { description: 'Times bpftrace was restarted' });
  const problems = meter.createCounter('ktrace_parse_problems', { description: 'bpftrace output lines the parser could not read' });
  const lost = meter.createCounter('ktrace_lost_events', { description: 'Events bpftrace reported lost' });
  const runtimeErrors = meter.createCounter('ktrace_runtime_errors', { description: 'Runtime errors bpftrace printed' });
  // counters start at 0 so rate() and alerts see them before the first event
  const otlpFailures = meter.createCounter('ktrace_otlp_export_failures', { description: 'OTLP pushes that did not reach the collector' });
  countOtlpFailure = () => otlpFailures.add(1);
  for (const counter of [restarts, problems, lost, runtimeErrors, otlpFailures]) counter.add(0);
  meter
    .createObservableGauge('ktrace_up', { description: '1 while bpftrace runs and its output is read' })
    .addCallback((result) => result.observe(up ? 1 : 0));
  meter
    .createObservableGauge('ktrace_attached_probes', { description: 'Probes bpftrace attached' })
    .addCallback((result) => result.observe(attachedProbes));
  meter
    .createObservableGauge('ktrace_series', { description: 'Series exported per map (overflow series included)' })
    .addCallback((result) => {
      for (const state of store.mapStates()) result.observe(state.series.size + (state.overflow === undefined ? 0 : 1), { map: state.map });
    });
  meter
    .createObservableCounter('ktrace_series_overflowed', { description: 'Keys folded into the overflow series of their map' })
    .addCallback((result) => {
      for (const state of store.mapStates()) result.observe(state.overflowedTotal, { map: state.map });
    });
  meter
    .createObservableGauge('ktrace_series_folded', { description: 'Keys of the map folded into its overflow series now (0 while under its cap)' })
    .addCallback((result) => {
      for (const state of store.mapStates()) result.observe(state.shadow.size, { map: state.map });
    });
  meter
    .createObservableCounter('ktrace_series_expired', { description: 'Series expired after being absent from their map dumps' })
    .addCallback((result) => {
      for (const state of store.mapStates()) result.observe(state.expiredTotal, { map: state.map });
    });
  meter
    .createObservableCounter('ktrace_dumps', { description: 'Dumps (prints) of each map ingested' })
    .addCallback((result) => {
      for (const state of store.mapStates()) result.observe(state.dumps, { map: state.map });
    });
  meter
    .createObservableGauge('ktrace_dump_age_seconds', { description: "Seconds since the map's last dump", unit: 's' })
    .addCallback((result) => {
      const now = (options.now ?? Date.now)();
      for (const state of store.mapStates()) {
        if (state.lastDumpMs !== undefined) result.observe((now - state.lastDumpMs) / 1000, { map: state.map });
      }
    });

  const prometheusText = async (): Promise<string> => {
    const { resourceMetrics, errors } = await prometheus.collect();
    for (const error of errors) warn(`collecting metrics: ${String(error)}`);
    if (renderer === 'otel') return serializer.serialize(resourceMetrics);
    // target_info and self-metrics through OTel, the bpftrace series from the store's cached text
    const head = serializer.serialize(resourceMetrics);
    return head + store.prometheusText();
  };

  const handleRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
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
      response.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' }).end(up ? 'ok\n' : `${downReason ?? 'bpftrace is not up'}\n`);
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
      if (listen === undefined) return {};
      if (server !== undefined) {
        const address = server.address() as AddressInfo;
        return { url: `http://${listen.host.includes(':') ? `[${address.address}]` : address.address}:${address.port}` };
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
          result.otlp = { url, delivered: false, error: flushError ?? otlpPush.lastError ?? 'the push did not complete' };
        }
      }
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
