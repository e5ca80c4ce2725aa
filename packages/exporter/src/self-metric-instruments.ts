// ktrace's self-metrics (the table in self-metrics.ts) as ordinary OTel instruments on the exporter's meter:
// counters the exporter adds to as events arrive, and observables that read the store and the host's state at
// each collection, so they never drift from what they report.

import type { Counter, Meter, ObservableResult } from '@opentelemetry/api';
import { SKIP_REASONS } from './map-entries.js';
import { storedSeries } from './map-state.js';
import type { MapState } from './map-state.js';
import type { SeriesStore } from './series-store.js';
import { SELF_METRICS } from './self-metrics.js';
import type { SelfMetric } from './self-metrics.js';

/** The self-metrics counted as events arrive. */
export interface SelfMetricCounters {
  readonly restarts: Counter;
  readonly problems: Counter;
  readonly linesDropped: Counter;
  readonly lost: Counter;
  readonly runtimeErrors: Counter;
  readonly otlpFailures: Counter;
}

/** What the host knows and the store does not: whether bpftrace is up, and the probes it attached. */
export interface HostReadings {
  up(): boolean;
  attachedProbes(): number;
  /** Clock in epoch milliseconds, for the age of each map's last dump. */
  now(): number;
}

export function createSelfMetrics(meter: Meter, store: SeriesStore, host: HostReadings): SelfMetricCounters {
  const counter = (metric: SelfMetric): Counter =>
    meter.createCounter(metric.name, { description: metric.description });
  const observe = (metric: SelfMetric, read: (result: ObservableResult) => void): void => {
    const options = { description: metric.description, ...(metric.unit === undefined ? {} : { unit: metric.unit }) };
    (metric.type === 'counter'
      ? meter.createObservableCounter(metric.name, options)
      : meter.createObservableGauge(metric.name, options)
    ).addCallback(read);
  };
  const counters: SelfMetricCounters = {
    restarts: counter(SELF_METRICS.restarts),
    problems: counter(SELF_METRICS.problems),
    linesDropped: counter(SELF_METRICS.linesDropped),
    lost: counter(SELF_METRICS.lost),
    runtimeErrors: counter(SELF_METRICS.runtimeErrors),
    otlpFailures: counter(SELF_METRICS.otlpFailures),
  };
  // counters start at 0 so rate() and alerts see them before the first event
  for (const c of Object.values<Counter>({ ...counters })) c.add(0);
  const perMap = (metric: SelfMetric, read: (state: MapState) => number | undefined): void =>
    observe(metric, (result) => {
      for (const state of store.mapStates()) {
        const value = read(state);
        if (value !== undefined) result.observe(value, { map: state.map });
      }
    });
  observe(SELF_METRICS.up, (result) => result.observe(host.up() ? 1 : 0));
  observe(SELF_METRICS.attachedProbes, (result) => result.observe(host.attachedProbes()));
  perMap(SELF_METRICS.series, storedSeries);
  perMap(SELF_METRICS.overflowed, (state) => state.overflowedTotal);
  perMap(SELF_METRICS.folded, (state) => state.folded.size);
  perMap(SELF_METRICS.expired, (state) => state.expiredTotal);
  observe(SELF_METRICS.valuesSkipped, (result) => {
    for (const state of store.mapStates()) {
      for (const reason of SKIP_REASONS) result.observe(state.skipped.get(reason) ?? 0, { map: state.map, reason });
    }
  });
  perMap(SELF_METRICS.bucketsMerged, (state) => (state.shape === 'histogram' ? state.bucketsMerged : undefined));
  perMap(SELF_METRICS.dumps, (state) => state.dumps);
  perMap(SELF_METRICS.dumpAge, (state) =>
    state.lastDumpMs === undefined ? undefined : (host.now() - state.lastDumpMs) / 1000,
  );
  return counters;
}
