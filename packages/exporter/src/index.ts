// Public API of @ktrace/exporter: createExporter for hosts (core, cli), and the lower-level pieces (the series
// store, the MetricProducer, bucket layouts, name rules) for SDK users wiring their own OTel pipeline.
//
// Contract extensions beyond issue #3: MapExportOptions.partial (maps printed with print(@m, top)),
// ExporterOptions.onWarning, .now and .prometheusRenderer, and Exporter.store.
export { createExporter, PROMETHEUS_CONTENT_TYPE } from './exporter.js';
export type { Exporter } from './exporter.js';
export type { ExporterOptions, MapExportOptions, SeriesStoreOptions } from './options.js';
export { DEFAULTS, OVERFLOW_ATTRIBUTE, OVERFLOW_LABEL, SeriesStore } from './series-store.js';
export type { MapState, SkipReason } from './series-store.js';
export { Series } from './series.js';
export { renderMap } from './prometheus-text.js';
export { MetricNamePlan, claimedNames, counterName } from './metric-names.js';
export type { ExportShape } from './metric-names.js';
export { SELF_METRICS } from './self-metrics.js';
export type { SelfMetric } from './self-metrics.js';
export { BpftraceMetricProducer, SCOPE, mapMetricData } from './metric-producer.js';
export type { ProducerTemporality } from './metric-producer.js';
export { bucketBounds, createLayout, growLayout, lhistBounds, nextLog2Bound } from './histogram.js';
export type { BucketLayout } from './histogram.js';
export {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  labelValue,
  sanitizeLabelNames,
  sanitizeMetricName,
  truncateLabelValue,
} from './names.js';
