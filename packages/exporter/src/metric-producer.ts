// The store published through OpenTelemetry JS: a MetricProducer (the API has no instrument for
// pre-aggregated histograms) that hands the store's series to any MetricReader as cumulative MetricData.

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
import { OVERFLOW_ATTRIBUTE } from './series-store.js';
import type { MapState, Series, SeriesStore } from './series-store.js';

export const SCOPE = { name: '@ktrace/exporter', version: '0.1.0' } as const;

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function attributesOf(state: MapState, series: Series, overflow: boolean): Attributes {
  if (overflow) return { [OVERFLOW_ATTRIBUTE]: true };
  const attributes: Attributes = {};
  state.labelNames.forEach((name, i) => {
    attributes[name] = series.labelValues[i] ?? '';
  });
  return attributes;
}

/** MetricData for one map, cumulative, as the store holds it (stats → three metrics). */
export function mapMetricData(state: MapState, endMs: number): MetricData[] {
  const endTime = hrTime(endMs);
  const all: Array<[Series, boolean]> = [...state.series.values()].map((series) => [series, false]);
  if (state.overflow !== undefined) all.push([state.overflow, true]);
  const point = <T>(series: Series, overflow: boolean, value: T): DataPoint<T> => ({
    startTime: hrTime(series.startMs),
    endTime,
    attributes: attributesOf(state, series, overflow),
    value,
  });
  const descriptor = (name: string, description: string, unit: string | undefined) => ({
    name,
    description,
    unit: unit ?? '',
    valueType: ValueType.INT,
  });
  const sum = (name: string, description: string, unit: string | undefined, pick: (s: Series) => number): MetricData => ({
    descriptor: descriptor(name, description, unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: all.map(([s, o]) => point(s, o, pick(s))),
  });
  const gauge = (name: string, description: string, unit: string | undefined, pick: (s: Series) => number): MetricData => ({
    descriptor: descriptor(name, description, unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: all.map(([s, o]) => point(s, o, pick(s))),
  });
  switch (state.shape) {
    case 'counter':
      return [sum(state.metric, state.help, state.unit, (s) => s.total0)];
    case 'gauge':
      return [gauge(state.metric, state.help, state.unit, (s) => s.gauge)];
    case 'stats':
      return [
        sum(`${state.metric}_count`, `${state.help} count`, undefined, (s) => s.total0),
        sum(`${state.metric}_sum`, `${state.help} sum`, state.unit, (s) => s.total1),
        gauge(`${state.metric}_average`, `${state.help} average`, state.unit, (s) => s.gauge),
      ];
    case 'histogram': {
      const bounds = state.layout?.bounds ?? [];
      const length = bounds.length + 1;
      return [
        {
          descriptor: descriptor(state.metric, state.help, state.unit),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: all.map(([s, o]) => {
            const counts = Array.from(s.bucketCounts(length));
            const value: Histogram = {
              buckets: { boundaries: [...bounds], counts },
              count: counts.reduce((a, b) => a + b, 0),
            };
            return point(s, o, value);
          }),
        },
      ];
    }
  }
}

/**
 * A MetricProducer over a SeriesStore. Pass one instance per reader (`metricProducers`): the data is cumulative
 * with a start time per series, and no `sum` on histograms (bpftrace's hist()/lhist() have none).
 */
export class BpftraceMetricProducer implements MetricProducer {
  private readonly store: SeriesStore;
  private readonly now: () => number;

  constructor(options: { store: SeriesStore; now?: () => number }) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  async collect(_options?: MetricCollectOptions): Promise<CollectionResult> {
    const errors: unknown[] = [];
    const metrics: MetricData[] = [];
    const endMs = this.now();
    for (const state of this.store.mapStates()) {
      try {
        metrics.push(...mapMetricData(state, endMs));
      } catch (error) {
        errors.push(error);
      }
    }
    return {
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { ...SCOPE }, metrics }] },
      errors,
    };
  }
}
