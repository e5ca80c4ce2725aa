// Public API of @ktrace/exporter: what hosts (core, cli) and SDK users wiring their own OpenTelemetry pipeline
// need, each export named and explained; everything else (series state, map plans, bucket layouts, the Prometheus
// renderer, the name plan, the HTTP server) is internal.

/** The exporter as `ktrace run` and `ktrace export` use it: series store, OTel, /metrics and /healthz, OTLP push. */
export { createExporter } from './exporter.js';
/** What createExporter returns, and what its shutdown reports. */
export type { Exporter, ExporterShutdown } from './exporter.js';
/** The longest the final OTLP flush on shutdown may take, in milliseconds. */
export { OTLP_FINAL_FLUSH_MILLIS } from './exporter.js';
/** Whether the final OTLP push on shutdown reached the collector (ExporterShutdown.otlp). */
export type { OtlpFinalPush } from './otlp-push.js';
/** The Content-Type of the /metrics exposition, for hosts that serve it from their own server. */
export { PROMETHEUS_CONTENT_TYPE } from './http-server.js';
/**
 * How a --listen value (`HOST:PORT`, `[V6]:PORT`, `:PORT`) becomes the host and port to bind, for hosts that serve
 * their own /metrics (the Kubernetes agent); KtraceError KTRACE_BAD_OPTION for anything else.
 */
export { parseListen } from './http-server.js';
export type { ListenAddress } from './http-server.js';
/** Options of createExporter, of the series store, and of one exported map (a trace spec's `maps`). */
export type { ExporterOptions, MapExportOptions, SeriesStoreOptions } from './options.js';
/** Every exported map's series, fed by parser MapSamples; renders its own Prometheus text. */
export { SeriesStore } from './series-store.js';
/** Why a printed value was not exported (the `reason` of ktrace_values_skipped_total). */
export type { SkipReason } from './map-entries.js';
/** The label (Prometheus) and attribute (OTLP) of the series that keys past a cap fold into. */
export { OVERFLOW_ATTRIBUTE, OVERFLOW_LABEL } from './map-state.js';
/** ktrace's self-metrics: name, type and meaning of each, which dashboards and alert rules read. */
export { SELF_METRICS } from './self-metrics.js';
/** The instrumentation scope of the self-metrics (bpftrace's maps are under SCOPE). */
export { SELF_METRICS_SCOPE } from './self-metrics.js';
/** The OTLP protocols OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL and the otlpProtocol option accept. */
export { OTLP_PROTOCOLS } from './otlp-target.js';
export type { OtlpProtocol } from './otlp-target.js';
export type { SelfMetric } from './self-metrics.js';
/** An OTel MetricProducer over a SeriesStore, to pass as `metricProducers` to your own MetricReader. */
export { BpftraceMetricProducer } from './metric-producer.js';
/** The temporality a reader wants from BpftraceMetricProducer, and the instrumentation scope it reports under. */
export type { ProducerTemporality } from './metric-producer.js';
export { SCOPE } from './metric-producer.js';
/** How a map name or key name becomes a metric or label name (to predict the names a program exports). */
export { sanitizeLabelNames, sanitizeMetricName } from './names.js';
