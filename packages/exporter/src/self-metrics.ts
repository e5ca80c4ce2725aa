// The table of ktrace's self-metrics: name, type and meaning, in one place. exporter.ts creates its instruments
// from it, and the metric name plan reserves every name it prints so a map can never take one.
import { ktraceVersion } from '@ktrace/parser';

export interface SelfMetric {
  /** The OTel instrument name; Prometheus adds `_total` to counters. */
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly description: string;
  readonly unit?: string;
}

export const SELF_METRICS = {
  up: { name: 'ktrace_up', type: 'gauge', description: '1 while bpftrace runs and its output is read' },
  restarts: { name: 'ktrace_bpftrace_restarts', type: 'counter', description: 'Times bpftrace was restarted' },
  problems: {
    name: 'ktrace_parse_problems',
    type: 'counter',
    description: 'bpftrace output lines the parser could not read',
  },
  linesDropped: {
    name: 'ktrace_output_lines_dropped',
    type: 'counter',
    description: 'bpftrace output lines longer than the line limit, dropped unread (raise --max-line-bytes)',
  },
  lost: { name: 'ktrace_lost_events', type: 'counter', description: 'Events bpftrace reported lost' },
  runtimeErrors: { name: 'ktrace_runtime_errors', type: 'counter', description: 'Runtime errors bpftrace printed' },
  otlpFailures: {
    name: 'ktrace_otlp_export_failures',
    type: 'counter',
    description: 'OTLP pushes that did not reach the collector',
  },
  attachedProbes: { name: 'ktrace_attached_probes', type: 'gauge', description: 'Probes bpftrace attached' },
  series: {
    name: 'ktrace_series',
    type: 'gauge',
    description:
      'Prometheus series the map exports now: one per counter or gauge key, 3 per stats key, buckets + 2 per histogram key (overflow series included)',
  },
  overflowed: {
    name: 'ktrace_series_overflowed',
    type: 'counter',
    description: 'Keys folded into the overflow series of their map',
  },
  folded: {
    name: 'ktrace_series_folded',
    type: 'gauge',
    description: 'Keys of the map folded into its overflow series now (0 while under its cap)',
  },
  expired: {
    name: 'ktrace_series_expired',
    type: 'counter',
    description: 'Series expired after being absent from their map dumps',
  },
  valuesSkipped: {
    name: 'ktrace_values_skipped',
    type: 'counter',
    description:
      'Printed values not exported: not a finite number, a negative count, or a total that went down (reason)',
  },
  bucketsMerged: {
    name: 'ktrace_buckets_merged',
    type: 'counter',
    description:
      'Printed histogram buckets whose bound was not added to the layout (series caps); counted in the next served bucket',
  },
  dumps: { name: 'ktrace_dumps', type: 'counter', description: 'Dumps (prints) of each map ingested' },
  dumpAge: {
    name: 'ktrace_dump_age_seconds',
    type: 'gauge',
    description: "Seconds since the map's last dump",
    unit: 's',
  },
} as const satisfies Record<string, SelfMetric>;

/** The instrumentation scope of the self-metrics (bpftrace's maps are under metric-producer.ts's SCOPE). */
export const SELF_METRICS_SCOPE = { name: 'ktrace', version: ktraceVersion } as const;

/** Names Prometheus itself gives series at scrape time, and the resource series the exposition carries. */
const PROMETHEUS_NAMES = [
  'target_info',
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'scrape_timeout_seconds',
  'scrape_sample_limit',
  'scrape_body_size_bytes',
];

/** Every metric name the exposition uses besides bpftrace's maps, with the name it prints under. */
export function reservedNames(): Array<[string, string]> {
  const names: Array<[string, string]> = PROMETHEUS_NAMES.map((name) => [name, name]);
  for (const metric of Object.values(SELF_METRICS) as SelfMetric[]) {
    if (metric.type === 'gauge') names.push([metric.name, metric.name]);
    else names.push([metric.name, `${metric.name}_total`], [`${metric.name}_total`, `${metric.name}_total`]);
  }
  return names;
}
