// The series store: every exported map's series, fed by parser MapSamples. It owns the exact semantics
// (cumulative vs cleared maps, restarts carried forward, fixed histogram layouts, caps with an overflow series,
// expiry) and renders its own Prometheus text, cached per map, so a scrape of 100k series stays cheap.

import { AGGREGATION_KINDS } from '@ktrace/parser';
import type { HistogramBucket, MapEntry, MapInfo, MapKind, MapSample, StatsValue } from '@ktrace/parser';
import { bucketBounds, createLayout, growLayout, remapCounts, slotOf } from './histogram.js';
import type { BucketLayout } from './histogram.js';
import { divided, entriesByKey, keyOf, toNumber, unusable } from './map-entries.js';
import type { SkipReason } from './map-entries.js';
import { MetricNamePlan, shownName } from './metric-names.js';
import type { ExportShape } from './metric-names.js';
import { hashSuffixed, labelValue, sanitizeLabelNames, sanitizeMetricName } from './names.js';
import type { MapExportOptions, SeriesStoreOptions } from './options.js';
import { labelText, renderMap } from './prometheus-text.js';
import { SELF_METRICS } from './self-metrics.js';
import { Series, carryForward } from './series.js';

export type { ExportShape } from './metric-names.js';
export { SKIP_REASONS } from './map-entries.js';
export type { SkipReason } from './map-entries.js';

export const DEFAULTS = {
  prefix: 'bpftrace',
  maxSeriesPerMap: 50_000,
  maxSeries: 200_000,
  maxLabelValueLength: 128,
  expireAfterDumps: 10,
} as const;

export const OVERFLOW_LABEL = 'otel_metric_overflow';
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

/** One exported map and everything the store knows about it. */
export interface MapState {
  readonly map: string;
  readonly kind: MapKind;
  readonly shape: ExportShape;
  readonly mode: 'cumulative' | 'delta';
  readonly partial: boolean;
  /** The program's `print(@m, top, div)` divisor, applied to the exit-time dump that bpftrace prints undivided. */
  readonly exitDivisor: number | undefined;
  /** Full metric name with prefix, before Prometheus suffixes (`bpftrace_syscalls`). */
  readonly metric: string;
  labelNames: string[];
  readonly help: string;
  readonly unit: string | undefined;
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
  /** Cached Prometheus text of this map; undefined when something changed since the last render. */
  rendered: string | undefined;
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

/** What the store decided for a map before its first sample: its kind, shape and (claimed) metric name. */
interface MapPlan {
  readonly kind: MapKind;
  readonly shape: ExportShape;
  readonly metric: string;
}

function aggregationText(info: MapInfo | undefined, kind: MapKind): string {
  if (kind === 'value') return 'value';
  const args = info !== undefined && info.kind === kind && info.args.length > 0 ? info.args.join(', ') : '';
  return `${kind}(${args})`;
}

function shapeOf(kind: MapKind): ExportShape {
  switch (kind) {
    case 'count':
    case 'sum':
      return 'counter';
    case 'hist':
    case 'lhist':
      return 'histogram';
    case 'stats':
      return 'stats';
    default:
      return 'gauge';
  }
}

export class SeriesStore {
  readonly prefix: string;
  readonly maxSeriesPerMap: number;
  readonly maxSeries: number;
  readonly maxLabelValueLength: number;
  readonly expireAfterDumps: number;
  private readonly options: SeriesStoreOptions;
  private readonly maps = new Map<string, MapState>();
  private readonly plans = new Map<string, MapPlan | 'skipped'>();
  private readonly names = new MetricNamePlan();
  private readonly warned = new Set<string>();
  private readonly now: () => number;
  private seriesCount = 0;
  /** Series of all maps but the one being ingested (caps over all maps). */
  private othersStored = 0;

  constructor(options: SeriesStoreOptions = {}) {
    this.options = options;
    this.prefix = options.prefix ?? DEFAULTS.prefix;
    this.maxSeriesPerMap = options.maxSeriesPerMap ?? DEFAULTS.maxSeriesPerMap;
    this.maxSeries = options.maxSeries ?? DEFAULTS.maxSeries;
    this.maxLabelValueLength = Math.max(16, options.maxLabelValueLength ?? DEFAULTS.maxLabelValueLength);
    this.expireAfterDumps = options.expireAfterDumps ?? DEFAULTS.expireAfterDumps;
    this.now = options.now ?? Date.now;
    // The program's maps claim their names first, in source order: the clash rule does not depend on which map
    // bpftrace happens to print first, and a clash is reported as the exporter starts.
    for (const info of options.program?.maps ?? []) {
      if (this.included(info.name, this.options.maps?.[info.name]?.kind ?? info.kind))
        this.planFor(info.name, info.kind);
    }
  }

  /** Exported maps, in the order they first appeared. */
  mapStates(): IterableIterator<MapState> {
    return this.maps.values();
  }

  /** Exported keys over all maps (overflow series included). */
  get size(): number {
    return this.seriesCount;
  }

  /** Ingests one printed map. Never throws: what it cannot use is reported through onWarning. */
  ingest(sample: MapSample): void {
    try {
      const state = this.stateFor(sample);
      if (state === undefined) return;
      this.othersStored = 0;
      for (const other of this.maps.values()) if (other !== state) this.othersStored += storedSeries(other);
      this.ingestInto(state, sample);
    } catch (error) {
      this.warn(`ingest:${sample.name}`, `could not export a dump of ${sample.name}: ${String(error)}`);
    }
  }

  /**
   * bpftrace restarted: its maps start again from zero. Every cumulative value printed so far is carried
   * forward, so the next (smaller or not) value counts on top of it.
   */
  recordRestart(): void {
    for (const state of this.maps.values()) {
      if (state.mode !== 'cumulative') continue;
      for (const series of state.series.values()) carryForward(series);
      for (const series of state.folded.values()) carryForward(series);
    }
  }

  /** The Prometheus text of every exported map (no trailing target_info or self-metrics). */
  prometheusText(): string {
    let out = '';
    for (const state of this.maps.values()) {
      state.rendered ??= renderMap(state);
      out += state.rendered;
    }
    return out;
  }

  private warn(reason: string, message: string): void {
    if (this.warned.has(reason)) return;
    this.warned.add(reason);
    try {
      (this.options.onWarning ?? ((text: string) => console.error(`ktrace exporter: ${text}`)))(message);
    } catch {
      // a failing logger must not break the metrics path
    }
  }

  private included(name: string, kind: MapKind): boolean {
    return this.options.include !== undefined ? this.options.include.includes(name) : AGGREGATION_KINDS.includes(kind);
  }

  /** Decides once per map whether and how it is exported; the metric name is claimed here (metric-names.ts). */
  private planFor(name: string, sampleKind: MapKind): MapPlan | undefined {
    const known = this.plans.get(name);
    if (known !== undefined) return known === 'skipped' ? undefined : known;
    const config: MapExportOptions = this.options.maps?.[name] ?? {};
    const info = this.options.program?.maps.find((map) => map.name === name);
    const kind: MapKind = config.kind ?? info?.kind ?? sampleKind;
    if (!this.included(name, kind)) {
      this.plans.set(name, 'skipped');
      this.warn(
        `skip:${name}`,
        this.options.include !== undefined
          ? `map ${name} is not exported: it is not in the include list`
          : info === undefined && config.kind === undefined
            ? `map ${name} is not exported: its aggregation is unknown (bpftrace -f json prints count(), sum() and plain values alike); give the program (--program FILE.bt) to export it as what it is, or list it in include to export it as a gauge`
            : `map ${name} (${kind}) is not exported: plain-value maps are exported only when listed in include`,
      );
      return undefined;
    }
    const shape = shapeOf(kind);
    const baseName = config.metric ?? (name === '@' ? 'map' : name.replace(/^@/, ''));
    const wanted = sanitizeMetricName(this.prefix === '' ? baseName : `${this.prefix}_${baseName}`);
    const { metric, clash } = this.names.claim(name, shape, wanted);
    if (clash !== undefined) {
      const holder = clash.owner === 'ktrace' ? `ktrace's own ${clash.name}` : `map ${clash.owner} (${clash.name})`;
      this.warn(
        `clash:${name}`,
        `map ${name} would be exported as ${shownName(shape, wanted)}, whose Prometheus names meet those of ${holder}; it is exported as ${shownName(shape, metric)} instead. ` +
          `Choose its name with maps['${name}'].metric (or another --prefix)`,
      );
    }
    const plan: MapPlan = { kind, shape, metric };
    this.plans.set(name, plan);
    return plan;
  }

  private stateFor(sample: MapSample): MapState | undefined {
    const existing = this.maps.get(sample.name);
    if (existing !== undefined) return existing;
    const plan = this.planFor(sample.name, sample.kind);
    if (plan === undefined) return undefined;
    const { kind, shape, metric } = plan;
    const config: MapExportOptions = this.options.maps?.[sample.name] ?? {};
    const info = this.options.program?.maps.find((map) => map.name === sample.name);
    const arity = Math.max(info?.keyArity ?? 0, sample.entries[0]?.key.length ?? 0);
    const labelNames = sanitizeLabelNames(
      Array.from({ length: arity }, (_, i) => config.labels?.[i] ?? info?.keyNames[i] ?? `key${i}`),
    );
    const keyText =
      info !== undefined && info.keyNames.length > 0
        ? `[${info.keyNames.join(', ')}]`
        : arity > 0
          ? `[${labelNames.join(', ')}]`
          : '';
    const help = config.help ?? `bpftrace map ${sample.name}${keyText}, ${aggregationText(info, kind)}`;
    const layout =
      shape === 'histogram'
        ? createLayout(kind === 'lhist' ? 'lhist' : 'hist', info?.kind === kind ? info.args : [], config.range)
        : undefined;
    const state: MapState = {
      map: sample.name,
      kind,
      shape,
      mode: config.reset ?? (info?.cleared === true ? 'delta' : 'cumulative'),
      partial: config.partial ?? info?.partial ?? false,
      exitDivisor: (shape === 'counter' || shape === 'gauge') && info?.kind === kind ? info.printDivisor : undefined,
      metric,
      labelNames,
      help,
      unit: config.unit,
      layout,
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
    this.maps.set(sample.name, state);
    return state;
  }

  private ingestInto(state: MapState, sample: MapSample): void {
    const dump = ++state.dumps;
    const nowMs = this.now();
    state.lastDumpMs = nowMs;
    state.rendered = undefined;
    if (state.layout !== undefined) this.growFor(state, sample.entries);
    const length = state.layout === undefined ? 0 : state.layout.bounds.length + 1;
    let entries =
      sample.final === true && state.exitDivisor !== undefined
        ? divided(sample.entries, state.exitDivisor)
        : sample.entries;
    let keys = new Array<string>(entries.length);
    // The series of each entry, looked up once; a key printed twice in one dump is found on the way (see entriesByKey).
    let found: Array<Series | undefined> | undefined = new Array<Series | undefined>(entries.length);
    let duplicate = false;
    let fresh: Set<string> | undefined;
    for (let e = 0; e < entries.length; e++) {
      const key = keyOf(entries[e] as MapEntry);
      keys[e] = key;
      const series = state.series.get(key);
      found[e] = series;
      if (state.shape === 'gauge') continue;
      const known = series ?? state.folded.get(key);
      if (known !== undefined) {
        if (known.mark === dump) duplicate = true;
        known.mark = dump;
      } else {
        fresh ??= new Set();
        if (fresh.has(key)) duplicate = true;
        fresh.add(key);
      }
    }
    if (duplicate) {
      ({ entries, keys } = entriesByKey(entries));
      found = undefined;
    }
    const perKey = seriesPerKey(state);
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e] as MapEntry;
      const key = keys[e] as string;
      let series = found === undefined ? state.series.get(key) : found[e];
      const bad = unusable(state.shape, entry);
      if (bad !== undefined) {
        // Skipped, never exported as a made-up number; a known key still counts as printed (not deleted).
        this.skip(state, bad, entry);
        const known = series ?? state.folded.get(key);
        if (known !== undefined) known.seenDump = dump;
        continue;
      }
      if (series === undefined) {
        const own = state.folded.get(key);
        if (own !== undefined) {
          this.fold(state, own, entry, dump, length, nowMs);
          continue;
        }
        const stored = storedSeries(state);
        if (stored + perKey > this.maxSeriesPerMap || this.othersStored + stored + perKey > this.maxSeries) {
          const own = new Series([], '', nowMs, dump);
          state.folded.set(key, own);
          state.overflowedTotal += 1;
          this.fold(state, own, entry, dump, length, nowMs);
          continue;
        }
        series = this.createSeries(state, entry, nowMs, dump);
        state.series.set(key, series);
        this.seriesCount += 1;
      }
      this.apply(state, series, entry, length);
      series.seenDump = dump;
    }
    this.sweep(state, dump);
  }

  private createSeries(state: MapState, entry: MapEntry, nowMs: number, dump: number): Series {
    if (entry.key.length > state.labelNames.length) {
      // a key wider than the program said: name the extra positions key<i>
      const names = [...state.labelNames];
      for (let i = names.length; i < entry.key.length; i++) names.push(`key${i}`);
      state.labelNames = sanitizeLabelNames(names);
      this.warn(
        `arity:${state.map}`,
        `map ${state.map} printed keys with ${entry.key.length} parts; labels are now ${state.labelNames.join(', ')}`,
      );
    }
    const values = state.labelNames.map((_, i) => {
      const part = entry.key[i];
      return part === undefined ? '' : labelValue(String(part), this.maxLabelValueLength);
    });
    let text = labelText(state.labelNames, values);
    if (state.labelTexts.has(text)) {
      // Two keys that print the same labels (a key that reads like another's escape, or a long shared prefix):
      // keep them apart visibly, never merge silently. The suffix hashes the key itself, then a counter.
      const last = values.length - 1;
      const original = values[last] ?? '';
      for (let n = 0; state.labelTexts.has(text); n++) {
        values[last] = hashSuffixed(original, `${JSON.stringify(entry.key)}#${n}`, this.maxLabelValueLength);
        text = labelText(state.labelNames, values);
      }
      this.warn(
        `dup:${state.map}`,
        `map ${state.map} has keys that print identical labels; the last label of one gets a hash suffix`,
      );
    }
    state.labelTexts.add(text);
    return new Series(values, text, nowMs, dump);
  }

  /** Updates one series from one printed entry that `unusable` accepted. */
  private apply(state: MapState, series: Series, entry: MapEntry, length: number): void {
    switch (state.shape) {
      case 'counter': {
        const value = toNumber(entry.value) as number;
        if (state.mode === 'delta') series.carried += value;
        else {
          if (value < series.printed) {
            // Restarts are carried forward before their first dump, so a fall here is within one bpftrace run: a key
            // deleted and re-created between two prints, or a sum() of signed values, which no counter can show.
            if (state.kind === 'sum') this.sumDecreased(state, series, value);
            carryForward(series);
          }
          series.printed = value;
        }
        return;
      }
      case 'gauge': {
        series.gauge = toNumber(entry.value) as number;
        return;
      }
      case 'stats': {
        const stats = entry.stats as StatsValue;
        series.gauge = stats.average;
        if (state.mode === 'delta') {
          series.carried += stats.count;
          if (stats.total < 0) this.statsTotalFell(state, series, stats.total, 'negative');
          else series.carriedSum += stats.total;
          return;
        }
        if (stats.count < series.printed) carryForward(series);
        series.printed = stats.count;
        // Within one life the count only grows; a total that falls (or is below zero) adds negative values: no
        // counter can show that, so `_sum` holds its highest value until the total passes it again.
        if (stats.total < 0) this.statsTotalFell(state, series, stats.total, 'negative');
        else if (stats.total < series.printedSum) this.statsTotalFell(state, series, stats.total, 'decreased');
        else series.printedSum = stats.total;
        return;
      }
      case 'histogram': {
        const buckets = entry.buckets as HistogramBucket[];
        const layout = state.layout as BucketLayout;
        const counts = new Float64Array(length);
        const bounds = bucketBounds(layout.kind, buckets);
        for (let i = 0; i < buckets.length; i++) {
          const slot = slotOf(layout, bounds[i]);
          counts[slot] = (counts[slot] as number) + (buckets[i] as HistogramBucket).count;
        }
        if (series.printedBuckets === undefined || series.printedBuckets.length !== length)
          series.printedBuckets = new Float64Array(length);
        if (series.carriedBuckets === undefined || series.carriedBuckets.length !== length)
          series.carriedBuckets = new Float64Array(length);
        if (state.mode === 'delta') {
          for (let i = 0; i < length; i++)
            series.carriedBuckets[i] = (series.carriedBuckets[i] as number) + (counts[i] as number);
        } else {
          let down = false;
          for (let i = 0; i < length; i++)
            if ((counts[i] as number) < (series.printedBuckets[i] as number)) down = true;
          if (down) carryForward(series);
          series.printedBuckets = counts;
        }
        return;
      }
    }
  }

  private sumDecreased(state: MapState, series: Series, value: number): void {
    this.warn(
      `decrease:${state.map}`,
      `map ${state.map} is a sum() that went down without a bpftrace restart (${series.printed} to ${value}${series.labelText === '' ? '' : ` for {${series.labelText}}`}); ` +
        `ktrace takes the fall as the key deleted and re-created, so its counter adds ${value} on top of the ${series.printed} printed before. ` +
        `If the program adds negative values, that overstates the sum: export the map as a gauge (kind: value for ${state.map} in the trace spec's maps)`,
    );
  }

  private statsTotalFell(state: MapState, series: Series, total: number, reason: SkipReason): void {
    this.count(state, reason);
    this.warn(
      `stats-total:${state.map}`,
      `map ${state.map} is a stats() whose total ${reason === 'negative' ? 'is below zero' : 'went down while its count did not'} (${series.printedSum} to ${total}${series.labelText === '' ? '' : ` for {${series.labelText}}`}): ` +
        `it adds negative values, which no counter can show, so ${state.metric}_sum_total keeps its highest value until the total passes it ` +
        `(counted in ${SELF_METRICS.valuesSkipped.name}_total{reason="${reason}"}); its _count and _average stay exact. For a sum that goes both ways, keep a separate map and export it as a gauge (kind: value)`,
    );
  }

  private skip(state: MapState, reason: SkipReason, entry: MapEntry): void {
    this.count(state, reason);
    const shown = JSON.stringify(entry.value ?? entry.stats ?? entry.buckets ?? null);
    this.warn(
      `bad:${state.map}:${reason}`,
      reason === 'negative'
        ? `map ${state.map} printed a negative ${state.kind === 'sum' ? 'sum' : 'count'} (key ${JSON.stringify(entry.key)}, value ${shown}): no counter can show it, so the entry is skipped and its series does not move ` +
            `(${SELF_METRICS.valuesSkipped.name}_total{reason="negative"})${state.kind === 'sum' ? `. If the program adds negative values, export the map as a gauge (kind: value for ${state.map} in the trace spec's maps)` : ''}`
        : `map ${state.map}: an entry has no usable ${state.shape} value (key ${JSON.stringify(entry.key)}, value ${shown}): it is skipped, not exported as a made-up number (${SELF_METRICS.valuesSkipped.name}_total{reason="not_a_number"})`,
    );
  }

  private count(state: MapState, reason: SkipReason): void {
    state.skipped.set(reason, (state.skipped.get(reason) ?? 0) + 1);
  }

  /** A key past the cap: update its private state, and add what its exported value gained to the overflow series. */
  private fold(state: MapState, own: Series, entry: MapEntry, dump: number, length: number, nowMs: number): void {
    if (state.overflow === undefined) {
      state.overflow = new Series([], `${OVERFLOW_LABEL}="true"`, nowMs, dump);
      this.seriesCount += 1;
    }
    const overflow = state.overflow;
    overflow.seenDump = dump;
    const before0 = own.total;
    const before1 = own.sumTotal;
    const beforeBuckets = state.shape === 'histogram' ? own.bucketCounts(length) : undefined;
    this.apply(state, own, entry, length);
    own.seenDump = dump;
    overflow.carried += own.total - before0;
    overflow.carriedSum += own.sumTotal - before1;
    if (state.shape === 'gauge') overflow.gauge = own.gauge;
    if (state.shape === 'stats') overflow.gauge = own.gauge;
    if (beforeBuckets !== undefined) {
      const after = own.bucketCounts(length);
      overflow.carriedBuckets ??= new Float64Array(length);
      for (let i = 0; i < length; i++) {
        overflow.carriedBuckets[i] =
          (overflow.carriedBuckets[i] as number) + (after[i] as number) - (beforeBuckets[i] as number);
      }
    }
  }

  /** After a dump: keys missing from a full cumulative dump were deleted (carry forward); long-missing keys expire. */
  private sweep(state: MapState, dump: number): void {
    const deletedMeansZero = state.mode === 'cumulative' && !state.partial;
    const expire = this.expireAfterDumps;
    for (const [key, series] of state.series) {
      if (series.seenDump === dump) continue;
      if (deletedMeansZero) carryForward(series);
      if (expire > 0 && dump - series.seenDump >= expire) {
        state.series.delete(key);
        state.labelTexts.delete(series.labelText);
        state.expiredTotal += 1;
        this.seriesCount -= 1;
      }
    }
    for (const [key, own] of state.folded) {
      if (own.seenDump === dump) continue;
      if (deletedMeansZero) carryForward(own);
      if (expire > 0 && dump - own.seenDump >= expire) state.folded.delete(key);
    }
  }

  /**
   * Adds the bounds this dump printed to the layout (and, for each key, the lower edge of its lowest bucket, so
   * Prometheus never interpolates a quantile from 0), unless the grown layout would pass a series cap: then the
   * layout stays, and those buckets count in the next served bound (exact for every `le` served, only coarser).
   */
  private growFor(state: MapState, entries: readonly MapEntry[]): void {
    const layout = state.layout as BucketLayout;
    const seen: number[] = [];
    for (const entry of entries) {
      if (entry.buckets === undefined) continue;
      let lowest: number | undefined;
      for (const bucket of entry.buckets) {
        if (bucket.min !== null && Number.isFinite(bucket.min) && bucket.count > 0)
          lowest = Math.min(lowest ?? Infinity, bucket.min);
      }
      if (lowest !== undefined) seen.push(lowest - 1);
      for (const bound of bucketBounds(layout.kind, entry.buckets)) if (bound !== undefined) seen.push(bound);
    }
    // Keys already exported (new keys of this dump are created only if they fit the grown layout, else fold).
    const keys = Math.max(1, state.series.size + (state.overflow === undefined ? 0 : 1));
    const fits = (bounds: number): boolean => {
      const stored = keys * (bounds + 2);
      return stored <= this.maxSeriesPerMap && this.othersStored + stored <= this.maxSeries;
    };
    const oldLength = layout.bounds.length + 1;
    const remap = growLayout(layout, seen, fits);
    if (remap === 'refused') {
      let merged = 0;
      for (const bound of seen) if (Number.isFinite(bound) && !layout.index.has(bound)) merged += 1;
      state.bucketsMerged += merged;
      this.warn(
        `buckets:${state.map}`,
        `map ${state.map}: adding the bucket bounds it printed would take ${keys} keys past the series caps (maxSeriesPerMap ${this.maxSeriesPerMap}, maxSeries ${this.maxSeries}); ` +
          `those buckets are counted in the next bucket served (exact, coarser; ${SELF_METRICS.bucketsMerged.name}_total). Raise the caps or declare the range (maps['${state.map}'].range)`,
      );
      return;
    }
    if (remap === undefined) return;
    const length = layout.bounds.length + 1;
    const move = (series: Series): void => {
      if (series.printedBuckets !== undefined && series.printedBuckets.length === oldLength)
        series.printedBuckets = remapCounts(series.printedBuckets, remap, length);
      if (series.carriedBuckets !== undefined && series.carriedBuckets.length === oldLength)
        series.carriedBuckets = remapCounts(series.carriedBuckets, remap, length);
    };
    for (const series of state.series.values()) move(series);
    for (const series of state.folded.values()) move(series);
    if (state.overflow !== undefined) move(state.overflow);
  }
}
