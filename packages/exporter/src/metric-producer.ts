// The store published through OpenTelemetry JS: a MetricProducer (the API has no instrument for
// pre-aggregated histograms) that hands the store's series to any MetricReader as MetricData: cumulative, or
// for a reader that wants delta sums or histograms (OTLP with OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE),
// the difference since that reader's previous collection.

import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type {
  CollectionResult,
  DataPoint,
  Histogram,
  MetricCollectOptions,
  MetricData,
  MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { ktraceVersion } from '@ktrace/parser';
import { OVERFLOW_ATTRIBUTE } from './map-state.js';
import { labelValuesOf } from './prometheus-text.js';
import type { MapState } from './map-state.js';
import type { SeriesStore } from './series-store.js';
import type { Series } from './series.js';
import type { PlannedMetric } from './map-plan.js';
import { inBaseUnit } from './units.js';

/** The instrumentation scope of bpftrace's maps (self-metrics have their own: SELF_METRICS_SCOPE). */
export const SCOPE = { name: 'ktrace.bpftrace', version: ktraceVersion } as const;

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function attributesOf(state: MapState, series: Series, overflow: boolean): Attributes {
  if (overflow) return { [OVERFLOW_ATTRIBUTE]: true };
  const attributes: Attributes = {};
  const values = labelValuesOf(series.labelText);
  state.labelNames.forEach((name, i) => {
    attributes[name] = values[i] ?? '';
  });
  return attributes;
}

/** What one producer last reported of a series, for delta temporality. */
interface Reported {
  ms: number;
  total: number;
  sumTotal: number;
  /** Bucket counts by upper bound (`Infinity` for the open top): a layout that grew still lines up. */
  buckets: Map<number, number> | undefined;
}

/** Which temporality a reader wants for sums (bpftrace counters are observed totals) and for histograms. */
export interface ProducerTemporality {
  sum: AggregationTemporality;
  histogram: AggregationTemporality;
}

const CUMULATIVE: ProducerTemporality = {
  sum: AggregationTemporality.CUMULATIVE,
  histogram: AggregationTemporality.CUMULATIVE,
};

/**
 * MetricData for one map (stats → three metrics): cumulative as the store holds it, or, where `temporality` asks
 * for delta, what changed since `reported` (which it updates), starting where the previous point ended.
 */
function mapMetricData(
  state: MapState,
  endMs: number,
  temporality: ProducerTemporality,
  reported: WeakMap<Series, Reported>,
): MetricData[] {
  const endTime = hrTime(endMs);
  const deltaSums = temporality.sum === AggregationTemporality.DELTA;
  const deltaHistograms = temporality.histogram === AggregationTemporality.DELTA;
  const all: Array<[Series, boolean]> = [...state.series.values()].map((series) => [series, false]);
  if (state.overflow !== undefined) all.push([state.overflow, true]);
  const point = <T>(series: Series, overflow: boolean, value: T, delta = false): DataPoint<T> => ({
    startTime: hrTime(delta ? (reported.get(series)?.ms ?? series.startMs) : series.startMs),
    endTime,
    attributes: attributesOf(state, series, overflow),
    value,
  });
  // Values in a base unit (units.ts) are divided as they leave: the series keep bpftrace's integers. The unit is
  // UCUM (`s`, `By`); a reader serving Prometheus text renames it (units.ts's prometheusUnitLines).
  const descriptor = (metric: PlannedMetric) => ({
    name: metric.name,
    description: metric.help,
    unit: metric.unit ?? '',
    valueType: metric.divisor === 1 ? ValueType.INT : ValueType.DOUBLE,
  });
  const sum = (metric: PlannedMetric, which: 'total' | 'sumTotal'): MetricData => ({
    descriptor: descriptor(metric),
    aggregationTemporality: temporality.sum,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: all.map(([s, o]) =>
      point(s, o, inBaseUnit(s[which] - (deltaSums ? (reported.get(s)?.[which] ?? 0) : 0), metric.divisor), deltaSums),
    ),
  });
  const gauge = (metric: PlannedMetric): MetricData => ({
    descriptor: descriptor(metric),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: all.map(([s, o]) => point(s, o, inBaseUnit(s.gauge, metric.divisor))),
  });
  const bounds = state.layout?.bounds ?? [];
  const bucketsNow = new Map<Series, Map<number, number>>();
  const histogram = (metric: PlannedMetric): MetricData => {
    const length = bounds.length + 1;
    const boundaries = bounds.map((bound) => inBaseUnit(bound, metric.divisor));
    return {
      descriptor: descriptor(metric),
      aggregationTemporality: temporality.histogram,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: all.map(([s, o]) => {
        let counts = Array.from(s.bucketCounts(length));
        if (deltaHistograms) {
          const byBound = new Map(counts.map((count, i) => [bounds[i] ?? Infinity, count]));
          bucketsNow.set(s, byBound);
          const before = reported.get(s)?.buckets;
          counts = counts.map((count, i) => count - (before?.get(bounds[i] ?? Infinity) ?? 0));
        }
        const value: Histogram = {
          buckets: { boundaries: [...boundaries], counts },
          count: counts.reduce((a, b) => a + b, 0),
        };
        return point(s, o, value, deltaHistograms);
      }),
    };
  };
  // The metrics the map's plan says each key prints (map-plan.ts): one, or three for stats.
  const metrics = state.metrics.map((metric) =>
    metric.type === 'counter'
      ? sum(metric, metric.reads === 'sumTotal' ? 'sumTotal' : 'total')
      : metric.type === 'gauge'
        ? gauge(metric)
        : histogram(metric),
  );
  if (deltaSums || deltaHistograms) {
    for (const [s] of all)
      reported.set(s, { ms: endMs, total: s.total, sumTotal: s.sumTotal, buckets: bucketsNow.get(s) });
  }
  return metrics;
}

/**
 * A MetricProducer over a SeriesStore. Pass one instance per reader (`metricProducers`): the data is cumulative
 * with a start time per series (or delta since this producer's previous collect, where asked), and no `sum` on
 * histograms (bpftrace's hist()/lhist() have none).
 */
export class BpftraceMetricProducer implements MetricProducer {
  private readonly store: SeriesStore;
  private readonly now: () => number;
  private readonly temporality: ProducerTemporality;
  private readonly reported = new WeakMap<Series, Reported>();

  /**
   * `temporality`: what the reader's exporter selects (OTLP: `exporter.selectAggregationTemporality`).
   */
  constructor(options: { store: SeriesStore; now?: () => number; temporality?: ProducerTemporality }) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.temporality = options.temporality ?? CUMULATIVE;
  }

  collect(_options?: MetricCollectOptions): Promise<CollectionResult> {
    const errors: unknown[] = [];
    const metrics: MetricData[] = [];
    const endMs = this.now();
    for (const state of this.store.mapStates()) {
      try {
        metrics.push(...mapMetricData(state, endMs, this.temporality, this.reported));
      } catch (error) {
        errors.push(error);
      }
    }
    return Promise.resolve({
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { ...SCOPE }, metrics }] },
      errors,
    });
  }
}
