// Public API of @ktrace/exporter: what hosts and SDK users need, nothing else.
// - createExporter (hosts: core, cli): the series store wired into OTel, /metrics and /healthz, OTLP.
// - SeriesStore and BpftraceMetricProducer: for SDK users wiring their own OTel pipeline (a MetricProducer).
// - The name rules (sanitize, escape, truncate), the self-metric table and the overflow label, which dashboards
//   and alert rules depend on.
// Series state, bucket layouts, the Prometheus renderer and the name plan are internal (series.ts, histogram.ts,
// prometheus-text.ts, metric-names.ts).
export { createExporter, listenWarning, OTLP_FINAL_FLUSH_MILLIS, PROMETHEUS_CONTENT_TYPE } from './exporter.js';
export type { Exporter, ExporterShutdown } from './exporter.js';
export type { OtlpFinalPush } from './otlp-push.js';
export { OTLP_PROTOCOLS } from './otlp-target.js';
export type { OtlpProtocol } from './otlp-target.js';
export type { ExporterOptions, MapExportOptions, SeriesStoreOptions } from './options.js';
export { OVERFLOW_ATTRIBUTE, OVERFLOW_LABEL, SeriesStore } from './series-store.js';
export type { SkipReason } from './series-store.js';
export { SELF_METRICS, SELF_METRICS_SCOPE } from './self-metrics.js';
export type { SelfMetric } from './self-metrics.js';
export { BpftraceMetricProducer, SCOPE } from './metric-producer.js';
export type { ProducerTemporality } from './metric-producer.js';
export {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  labelValue,
  sanitizeLabelNames,
  sanitizeMetricName,
  truncateLabelValue,
} from './names.js';
