// The exporter's configuration contract: per-map export options and the options of the whole exporter.
// Other packages (core, cli) build these; field names are part of the public API.

import type { MapKind, ProgramInfo } from '@ktrace/parser';
import type { OtlpProtocol } from './otlp-target.js';

export interface MapExportOptions {
  /** Metric name without prefix (default: map name without '@'; the anonymous map '@' → 'map'). */
  metric?: string;
  /** Label name per key position (default: ProgramInfo keyNames, else key0, key1…). */
  labels?: string[];
  /**
   * The unit of the map's values: a duration (`ns`, `us`, `ms`, `s`) or a size (`By`, `bytes`) is exported in
   * seconds or bytes (`_seconds`/`_bytes` in the name, values and `le` bounds divided exactly); any other unit is
   * passed on as given (OTel unit, Prometheus `# UNIT`). Default: the last word of the map's name when it names one
   * (`@lat_ns`, `@io_us`, `@read_bytes`). count() maps are never converted.
   */
  unit?: string;
  /** false: keep this map's name, unit and values as bpftrace prints them (default: the store's `baseUnits`). */
  baseUnits?: boolean;
  help?: string;
  /** Default: 'delta' when ProgramInfo says the program clear()s/zero()s the map, else 'cumulative'. */
  reset?: 'cumulative' | 'delta';
  /** Override the aggregation kind. */
  kind?: MapKind;
  /**
   * Set when the program prints only part of a cumulative map (`print(@m, 10)`): a key missing from a dump is
   * then not taken as deleted. Default: ProgramInfo's `partial` (the program prints the map with a top limit),
   * else false: in a cumulative map a missing key was deleted, so its printed total is carried forward and a
   * re-created key counts on top of it.
   */
  partial?: boolean;
  /**
   * hist() only: the values the map is expected to hold, `[low, high]`. Its layout then has every log2 bucket
   * from the one holding `low` to the one holding `high` from the first scrape (as ebpf_exporter serves its whole
   * configured range), so Prometheus never sees the layout grow there; values outside still add buckets.
   */
  range?: readonly [number, number];
}

export interface SeriesStoreOptions {
  /** Metric name prefix (default 'bpftrace'). */
  prefix?: string;
  program?: ProgramInfo;
  /** Keyed by '@name'. */
  maps?: Record<string, MapExportOptions>;
  /** Export durations in seconds and sizes in bytes (MapExportOptions.unit). Default true. */
  baseUnits?: boolean;
  /**
   * '@name's to export. Default: every aggregation map (count, sum, min, max, avg, stats, hist, lhist);
   * plain-value maps are exported only when listed.
   */
  include?: string[];
  /**
   * Caps on the Prometheus series a map (default 50 000) and all maps (default 200 000) print: a counter or gauge
   * key is 1 series, a stats key 3, a histogram key its buckets + 2. Past them new keys fold into the overflow
   * series, and a histogram layout stops growing.
   */
  maxSeriesPerMap?: number;
  maxSeries?: number;
  /** Default 128 characters. */
  maxLabelValueLength?: number;
  /** Keys absent from this many consecutive dumps of their map expire. Default 10; 0 = never. */
  expireAfterDumps?: number;
  /** Where the metrics path reports what it skipped or could not do (default: console.error, once per reason). */
  onWarning?: (message: string) => void;
  /** Clock in epoch milliseconds (tests). */
  now?: () => number;
}

export interface ExporterOptions extends SeriesStoreOptions {
  /** OTel resource attributes (host.name, k8s.node.name, …); merged over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Record<string, string>;
  /** 'host:port' → our HTTP server with GET /metrics and GET /healthz. Port 0 picks a free port. */
  listen?: string;
  /**
   * OTLP collector. Over HTTP a base URL (…:4318 → …/v1/metrics) or a full URL; over gRPC scheme, host and port
   * (http://…:4317). OTEL_EXPORTER_OTLP_* also work.
   */
  otlpEndpoint?: string;
  /**
   * 'http/protobuf' (default), 'http/json' or 'grpc'. Default: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else
   * OTEL_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf'.
   */
  otlpProtocol?: OtlpProtocol;
  /** Push interval (default OTEL_METRIC_EXPORT_INTERVAL, else 60 000). */
  otlpIntervalMillis?: number;
  /**
   * How /metrics is rendered. 'store' (default): bpftrace series from the store's cached text, self-metrics
   * through OTel's PrometheusSerializer. 'otel': everything through OTel's PrometheusExporter with the
   * store's MetricProducer (slower at 100k series; see docs/benchmarks.md).
   */
  prometheusRenderer?: 'store' | 'otel';
}
