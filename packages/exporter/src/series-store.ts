// The series store: every exported map's series, fed by parser MapSamples. It keeps the exact semantics that
// each map's plan asks for (map-plan.ts; entries move series as series-update.ts says), restarts carried forward,
// growing histogram layouts, caps with an overflow series and expiry, and caches each map's Prometheus text.

import type { MapEntry, MapSample } from '@ktrace/parser';
import { bucketBound, growLayout, remapCounts } from './histogram.js';
import type { BucketLayout } from './histogram.js';
import { entriesByKey, keyOf, unusable } from './map-entries.js';
import type { SkipReason } from './map-entries.js';
import { MapPlans, carriesRestarts, exportedEntries, missingKeyDeleted } from './map-plan.js';
import { OVERFLOW_LABEL, countSkipped, createMapState, seriesPerKey, storedSeries } from './map-state.js';
import type { MapState } from './map-state.js';
import { hashSuffixed, labelValue, sanitizeLabelNames } from './names.js';
import type { SeriesStoreOptions } from './options.js';
import { labelText, renderMap } from './prometheus-text.js';
import { SELF_METRICS } from './self-metrics.js';
import { Series, carryForward } from './series.js';
import { updateFolded, updateSeries } from './series-update.js';
import type { UpdateProblem } from './series-update.js';

const DEFAULTS = {
  prefix: 'bpftrace',
  maxSeriesPerMap: 50_000,
  maxSeries: 200_000,
  maxLabelValueLength: 128,
  expireAfterDumps: 10,
} as const;

export class SeriesStore {
  readonly prefix: string;
  readonly maxSeriesPerMap: number;
  readonly maxSeries: number;
  readonly maxLabelValueLength: number;
  readonly expireAfterDumps: number;
  private readonly options: SeriesStoreOptions;
  private readonly maps = new Map<string, MapState>();
  private readonly plans: MapPlans;
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
    this.plans = new MapPlans(options, this.prefix, (reason, message) => this.warn(reason, message));
  }

  /** Exported maps, in the order they first appeared. */
  mapStates(): IterableIterator<MapState> {
    return this.maps.values();
  }

  /** Exported keys over all maps (overflow series included). */
  get size(): number {
    return this.seriesCount;
  }

  /** Prometheus series over all maps (a histogram key is several), as maxSeries counts them. */
  get exportedSeries(): number {
    let n = 0;
    for (const state of this.maps.values()) n += storedSeries(state);
    return n;
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
      if (!carriesRestarts(state)) continue;
      for (const series of state.series.values()) carryForward(series);
      for (const series of state.folded.values()) carryForward(series);
    }
  }

  /**
   * The Prometheus text of every exported map (no trailing target_info or self-metrics), in chunks to be written in
   * turn: the text of a map of millions of series is longer than a string can be.
   */
  prometheusChunks(): string[] {
    const out: string[] = [];
    for (const state of this.maps.values()) {
      state.rendered ??= renderMap(state);
      for (const chunk of state.rendered) out.push(chunk);
    }
    return out;
  }

  /** prometheusChunks() joined: for maps small enough to be one string. */
  prometheusText(): string {
    return this.prometheusChunks().join('');
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

  private stateFor(sample: MapSample): MapState | undefined {
    const existing = this.maps.get(sample.name);
    if (existing !== undefined) return existing;
    const plan = this.plans.planFor(sample);
    if (plan === undefined) return undefined;
    const state = createMapState(plan);
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
    let entries = exportedEntries(state, sample);
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
          this.fold(state, own, entry, dump, nowMs);
          continue;
        }
        const stored = storedSeries(state);
        if (stored + perKey > this.maxSeriesPerMap || this.othersStored + stored + perKey > this.maxSeries) {
          const own = new Series('', nowMs, dump);
          state.folded.set(key, own);
          state.overflowedTotal += 1;
          this.fold(state, own, entry, dump, nowMs);
          continue;
        }
        series = this.createSeries(state, entry, nowMs, dump);
        state.series.set(key, series);
        this.seriesCount += 1;
      }
      const problem = updateSeries(state, series, entry, length);
      if (problem !== undefined) this.explain(state, series, problem);
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
    return new Series(text, nowMs, dump);
  }

  private sumDecreased(state: MapState, series: Series, printed: number, value: number): void {
    this.warn(
      `decrease:${state.map}`,
      `map ${state.map} is a sum() that went down without a bpftrace restart (${printed} to ${value}${series.labelText === '' ? '' : ` for {${series.labelText}}`}); ` +
        `ktrace takes the fall as the key deleted and re-created, so its counter adds ${value} on top of the ${printed} printed before. ` +
        `If the program adds negative values, that overstates the sum: export the map as a gauge (kind: value for ${state.map} in the trace spec's maps)`,
    );
  }

  private statsTotalFell(state: MapState, series: Series, from: number, total: number, reason: SkipReason): void {
    countSkipped(state, reason);
    this.warn(
      `stats-total:${state.map}`,
      `map ${state.map} is a stats() whose total ${reason === 'negative' ? 'is below zero' : 'went down while its count did not'} (${from} to ${total}${series.labelText === '' ? '' : ` for {${series.labelText}}`}): ` +
        `it adds negative values, which no counter can show, so ${state.metric}_sum_total keeps its highest value until the total passes it ` +
        `(counted in ${SELF_METRICS.valuesSkipped.name}_total{reason="${reason}"}); its _count and _average stay exact. For a sum that goes both ways, keep a separate map and export it as a gauge (kind: value)`,
    );
  }

  private skip(state: MapState, reason: SkipReason, entry: MapEntry): void {
    countSkipped(state, reason);
    const shown = JSON.stringify(entry.value ?? entry.stats ?? entry.buckets ?? null);
    this.warn(
      `bad:${state.map}:${reason}`,
      reason === 'negative'
        ? `map ${state.map} printed a negative ${state.kind === 'sum' ? 'sum' : 'count'} (key ${JSON.stringify(entry.key)}, value ${shown}): no counter can show it, so the entry is skipped and its series does not move ` +
            `(${SELF_METRICS.valuesSkipped.name}_total{reason="negative"})${state.kind === 'sum' ? `. If the program adds negative values, export the map as a gauge (kind: value for ${state.map} in the trace spec's maps)` : ''}`
        : `map ${state.map}: an entry has no usable ${state.shape} value (key ${JSON.stringify(entry.key)}, value ${shown}): it is skipped, not exported as a made-up number (${SELF_METRICS.valuesSkipped.name}_total{reason="not_a_number"})`,
    );
  }

  /** A key past the cap: its own series moves, and the overflow series by what it gained. */
  private fold(state: MapState, own: Series, entry: MapEntry, dump: number, nowMs: number): void {
    if (state.overflow === undefined) {
      state.overflow = new Series(`${OVERFLOW_LABEL}="true"`, nowMs, dump);
      this.seriesCount += 1;
    }
    state.overflow.seenDump = dump;
    const length = state.layout === undefined ? 0 : state.layout.bounds.length + 1;
    const problem = updateFolded(state, own, state.overflow, entry, length);
    if (problem !== undefined) this.explain(state, own, problem);
    own.seenDump = dump;
  }

  private explain(state: MapState, series: Series, update: UpdateProblem): void {
    if (update.problem === 'sum-decreased') this.sumDecreased(state, series, update.from, update.to);
    else this.statsTotalFell(state, series, update.from, update.to, update.reason);
  }

  /** After a dump: keys missing from a full cumulative dump were deleted (carry forward); long-missing keys expire. */
  private sweep(state: MapState, dump: number): void {
    const deletedMeansZero = missingKeyDeleted(state);
    const expire = this.expireAfterDumps;
    // forEach, not for-of: destructured [key, series] pairs are an allocation per series and dump
    state.series.forEach((series, key) => {
      if (series.seenDump === dump) return;
      if (deletedMeansZero) carryForward(series);
      if (expire > 0 && dump - series.seenDump >= expire) {
        state.series.delete(key);
        state.labelTexts.delete(series.labelText);
        state.expiredTotal += 1;
        this.seriesCount -= 1;
      }
    });
    state.folded.forEach((own, key) => {
      if (own.seenDump === dump) return;
      if (deletedMeansZero) carryForward(own);
      if (expire > 0 && dump - own.seenDump >= expire) state.folded.delete(key);
    });
  }

  /**
   * Adds the bounds this dump printed to the layout (and, for each key, the lower edge of its lowest bucket, so
   * Prometheus never interpolates a quantile from 0), unless the grown layout would pass a series cap: then the
   * layout stays, and those buckets count in the next served bound (exact for every `le` served, only coarser).
   */
  private growFor(state: MapState, entries: readonly MapEntry[]): void {
    const layout = state.layout as BucketLayout;
    // Only bounds the layout lacks: a dump of a stable map adds nothing and allocates nothing here.
    const seen: number[] = [];
    const { index, kind } = layout;
    for (const entry of entries) {
      if (entry.buckets === undefined) continue;
      let lowest = Infinity;
      for (const bucket of entry.buckets) {
        if (bucket.min !== null && bucket.count > 0 && bucket.min < lowest && Number.isFinite(bucket.min))
          lowest = bucket.min;
        const bound = bucketBound(kind, bucket);
        if (bound !== undefined && bound !== Infinity && !index.has(bound)) seen.push(bound);
      }
      if (Number.isFinite(lowest) && !index.has(lowest - 1)) seen.push(lowest - 1);
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
