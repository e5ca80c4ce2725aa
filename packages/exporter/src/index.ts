// Public API of @ktrace/exporter: createExporter for hosts (core, cli), and the lower-level pieces (the series
// store, the MetricProducer, bucket layouts, name rules) for SDK users wiring their own OTel pipeline.
//
// Contract extensions beyond issue #3: MapExportOptions.partial (maps printed with print(@m, top)),
// ExporterOptions.onWarning, .now and .prometheusRenderer, and Exporter.store.
export { createExporter, listenWarning, OTLP_FINAL_FLUSH_MILLIS, PROMETHEUS_CONTENT_TYPE } from './exporter.js';
export type { Exporter, ExporterShutdown } from './exporter.js';
export type { OtlpFinalPush } from './otlp-push.js';
export type { ExporterOptions, MapExportOptions, SeriesStoreOptions } from './options.js';
export {
  AGGREGATION_KINDS,
  DEFAULTS,
  OVERFLOW_ATTRIBUTE,
  OVERFLOW_LABEL,
  Series,
  SeriesStore,
  counterName,
  renderMap,
} from './series-store.js';
export type { ExportShape, MapState } from './series-store.js';
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
