// createExporter: wires the series store into OTel (MeterProvider, PrometheusExporter without its own server,
// optional OTLP push: otlp-target.ts), feeds parser events to the store and the self-metrics, and serves them over HTTP
// (http-server.ts) when asked to listen.

import type { ParseEvent } from '@ktrace/parser';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { InstrumentType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { BpftraceMetricProducer } from './metric-producer.js';
import { prometheusUnitLines } from './units.js';
import { ktraceResource } from './resource.js';
import type { ExporterOptions } from './options.js';
import { MetricsServer } from './http-server.js';
import { SeriesStore } from './series-store.js';
import { SELF_METRICS, SELF_METRICS_SCOPE } from './self-metrics.js';
import { createSelfMetrics } from './self-metric-instruments.js';
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
  /**
   * The same exposition in chunks to write in turn (their concatenation is prometheusText()): what /metrics and
   * `ktrace export` write, since the text of millions of series is longer than one string can be.
   */
  prometheusChunks(): Promise<string[]>;
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

export function createExporter(options: ExporterOptions = {}): Exporter {
  const warn = options.onWarning ?? ((text: string) => console.error(`ktrace exporter: ${text}`));
  const store = new SeriesStore({ ...options, onWarning: warn });
  // Built first: a --listen that is not HOST:PORT fails before anything else is made.
  const server =
    options.listen === undefined
      ? undefined
      : new MetricsServer(options.listen, {
          metrics: () => prometheusChunks(),
          health: () => ({ up, reason: downReason }),
          warn,
        });
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
    // OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE is read by the exporter; bpftrace's maps follow what it
    // selects for observed counters (delta: yes, lowmemory: no) and for histograms (delta, lowmemory: yes).
    const target = otlpTarget({
      ...(options.otlpEndpoint === undefined ? {} : { endpoint: options.otlpEndpoint }),
      ...(options.otlpProtocol === undefined ? {} : { protocol: options.otlpProtocol }),
    });
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

  let up = false;
  let downReason: string | undefined;
  let attachedProbes = 0;
  // Whether the current bpftrace run printed a map: an `attached` after that starts a new run (piped input).
  let dumpsThisRun = false;
  const { restarts, problems, linesDropped, lost, runtimeErrors, otlpFailures } = createSelfMetrics(meter, store, {
    up: () => up,
    attachedProbes: () => attachedProbes,
    now: options.now ?? Date.now,
  });
  countOtlpFailure = () => otlpFailures.add(1);

  // OTel's readers refuse to collect once shut down, so the exposition at shutdown is kept for later callers.
  let finalChunks: string[] | undefined;
  const prometheusChunks = async (): Promise<string[]> => {
    if (finalChunks !== undefined) return finalChunks;
    if (!resourceSettled) await resourceSettling;
    const { resourceMetrics, errors } = await prometheus.collect();
    for (const error of errors) warn(`collecting metrics: ${String(error)}`);
    const head = prometheusUnitLines(serializer.serialize(resourceMetrics));
    if (renderer === 'otel') return [head];
    // target_info and self-metrics through OTel, the bpftrace series from the store's cached text
    return [head, ...store.prometheusChunks()];
  };
  const prometheusText = async (): Promise<string> => (await prometheusChunks()).join('');

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
      return server === undefined ? {} : { url: await server.start() };
    },
    prometheusText,
    prometheusChunks,
    async shutdown() {
      await server?.close();
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
      finalChunks = await prometheusChunks();
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
