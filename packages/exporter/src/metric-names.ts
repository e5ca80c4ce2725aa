// The metrics each export shape prints, under which names, and the one rule for metric names that clash: every Prometheus name a map prints (and the family names Prometheus
// derives from them) is claimed in a fixed order — self-metrics and Prometheus's own names first, then the
// program's maps in source order, then other maps as they first appear. A later map that meets a taken name gets
// `_2`, `_3`… appended to its metric name (before a counter's `_total`), and the store warns naming both maps.

import { reservedNames } from './self-metrics.js';

/** How a map is exported. `stats` is two counters (count, sum) and a gauge (average). */
export type ExportShape = 'counter' | 'gauge' | 'histogram' | 'stats';

/** The Prometheus counter name OTel's serializer would write for a monotonic sum. */
export function counterName(metric: string): string {
  return metric.endsWith('_total') ? metric : `${metric}_total`;
}

/** One metric a map of some shape prints per key, under its OTel name, and what of a series it shows. */
export interface ShapeMetric {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** The parts of a stats(): its count, sum and average; undefined for the map's own metric. */
  readonly part?: 'count' | 'sum' | 'average';
  /** The counter total (or stats count), the stats total, the gauge (or stats average), the buckets. */
  readonly reads: 'total' | 'sumTotal' | 'gauge' | 'buckets';
}

/** The metrics a map of this shape prints: one, or for stats two counters (count, sum) and a gauge (average). */
export function shapeMetrics(shape: ExportShape, metric: string): ShapeMetric[] {
  switch (shape) {
    case 'counter':
      return [{ name: metric, type: 'counter', reads: 'total' }];
    case 'gauge':
      return [{ name: metric, type: 'gauge', reads: 'gauge' }];
    case 'histogram':
      return [{ name: metric, type: 'histogram', reads: 'buckets' }];
    case 'stats':
      return [
        { name: `${metric}_count`, type: 'counter', part: 'count', reads: 'total' },
        { name: `${metric}_sum`, type: 'counter', part: 'sum', reads: 'sumTotal' },
        { name: `${metric}_average`, type: 'gauge', part: 'average', reads: 'gauge' },
      ];
  }
}

/** The names a map of this shape takes: the series names it prints and the family names they belong to. */
export function claimedNames(shape: ExportShape, metric: string): string[] {
  return shapeMetrics(shape, metric).flatMap(({ name, type }) => {
    if (type === 'gauge') return [name];
    if (type === 'histogram') return [name, `${name}_bucket`, `${name}_count`];
    const shown = counterName(name);
    return [shown.slice(0, -'_total'.length), shown];
  });
}

export interface ClaimedName {
  metric: string;
  /** Set when the wanted name clashed: the name met, and who holds it (`@map`, or `ktrace` for self-metrics). */
  clash?: { name: string; owner: string };
}

/** The name a map's series are printed under (a counter's with `_total`). */
export function shownName(shape: ExportShape, metric: string): string {
  return shape === 'counter' ? counterName(metric) : metric;
}

export class MetricNamePlan {
  /** Each claimed name → who holds it and the name its series print under. */
  private readonly owners = new Map<string, { owner: string; shown: string }>();

  constructor() {
    for (const [name, shown] of reservedNames()) this.owners.set(name, { owner: 'ktrace', shown });
  }

  /** Claims the names of `map` exported as `shape` under `wanted`, or under the first free `wanted_N`. */
  claim(map: string, shape: ExportShape, wanted: string): ClaimedName {
    let clash: ClaimedName['clash'];
    // a counter keeps its `_total` at the end: @x_total beside @x becomes bpftrace_x_2_total
    const base = shape === 'counter' && wanted.endsWith('_total') ? wanted.slice(0, -'_total'.length) : wanted;
    for (let n = 1; ; n++) {
      const metric = n === 1 ? wanted : `${base}_${n}`;
      const names = claimedNames(shape, metric);
      const taken = names.find((name) => this.owners.has(name));
      if (taken === undefined) {
        const shown = shownName(shape, metric);
        for (const name of names) this.owners.set(name, { owner: map, shown });
        return clash === undefined ? { metric } : { metric, clash };
      }
      const holder = this.owners.get(taken) as { owner: string; shown: string };
      clash ??= { name: holder.shown, owner: holder.owner };
    }
  }
}
