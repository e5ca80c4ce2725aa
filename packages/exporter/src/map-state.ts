// One exported map's state: its plan (map-plan.ts), its series, the keys folded past the cap, the bucket layout as
// it grew, and the per-map counts the self-metrics read (ktrace_series, _overflowed, _expired, _values_skipped…).

import { createLayout } from './histogram.js';
import type { BucketLayout } from './histogram.js';
import type { SkipReason } from './map-entries.js';
import type { MapPlan } from './map-plan.js';
import type { Series } from './series.js';

/** The label of the series that keys past a cap fold into (Prometheus), and its attribute (OTLP). */
export const OVERFLOW_LABEL = 'otel_metric_overflow';
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

export interface MapState extends MapPlan {
  /** The plan's label names, widened when a key prints more parts than the program said. */
  labelNames: string[];
  readonly layout: BucketLayout | undefined;
  readonly series: Map<string, Series>;
  /** Label texts in use, to keep two keys from printing as one series. */
  readonly labelTexts: Set<string>;
  /** Keys past the cap: their own state (never exported) so their increments fold into `overflow` exactly. */
  readonly folded: Map<string, Series>;
  overflow: Series | undefined;
  dumps: number;
  lastDumpMs: number | undefined;
  overflowedTotal: number;
  expiredTotal: number;
  /** Printed values not exported, by reason. */
  readonly skipped: Map<SkipReason, number>;
  /** Printed buckets counted in the next served bucket because their bound would have passed a cap. */
  bucketsMerged: number;
  /** Cached Prometheus text of this map, in chunks (prometheus-text.ts); undefined when something changed since. */
  rendered: string[] | undefined;
}

export function createMapState(plan: MapPlan): MapState {
  const { buckets } = plan;
  return {
    ...plan,
    labelNames: [...plan.labelNames],
    layout: buckets === undefined ? undefined : createLayout(buckets.kind, buckets.args, buckets.range),
    series: new Map(),
    labelTexts: new Set(),
    folded: new Map(),
    overflow: undefined,
    dumps: 0,
    lastDumpMs: undefined,
    overflowedTotal: 0,
    expiredTotal: 0,
    skipped: new Map(),
    bucketsMerged: 0,
    rendered: undefined,
  };
}

/** Prometheus series one key of this map prints: 1, 3 for stats, buckets + `+Inf` + `_count` for histograms. */
export function seriesPerKey(state: MapState): number {
  if (state.shape === 'stats') return 3;
  if (state.layout !== undefined) return state.layout.bounds.length + 2;
  return 1;
}

/** Prometheus series the map prints now (what ktrace_series{map} reports and the caps count). */
export function storedSeries(state: MapState): number {
  return (state.series.size + (state.overflow === undefined ? 0 : 1)) * seriesPerKey(state);
}

/** Counts a printed value that was not exported (ktrace_values_skipped_total{reason}). */
export function countSkipped(state: MapState, reason: SkipReason): void {
  state.skipped.set(reason, (state.skipped.get(reason) ?? 0) + 1);
}
