// The series store: every exported map's series, fed by parser MapSamples. It owns the exact semantics
// (cumulative vs cleared maps, restarts carried forward, fixed histogram layouts, caps with an overflow series,
// expiry) and renders its own Prometheus text, cached per map, so a scrape of 100k series stays cheap.

import type { MapEntry, MapInfo, MapKind, MapSample } from '@ktrace/parser';
import { bucketBounds, createLayout, growLayout, remapCounts } from './histogram.js';
import type { BucketLayout } from './histogram.js';
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  labelValue,
  sanitizeLabelNames,
  sanitizeMetricName,
  truncateLabelValue,
} from './names.js';
import type { MapExportOptions, SeriesStoreOptions } from './options.js';

/** How a map is exported. `stats` is two counters (count, sum) and a gauge (average). */
export type ExportShape = 'counter' | 'gauge' | 'histogram' | 'stats';

export const AGGREGATION_KINDS: readonly MapKind[] = ['count', 'sum', 'min', 'max', 'avg', 'stats', 'hist', 'lhist'];

export const DEFAULTS = {
  prefix: 'bpftrace',
  maxSeriesPerMap: 50_000,
  maxSeries: 200_000,
  maxLabelValueLength: 128,
  expireAfterDumps: 10,
} as const;

export const OVERFLOW_LABEL = 'otel_metric_overflow';
export const OVERFLOW_ATTRIBUTE = 'otel.metric.overflow';

/**
 * One exported key. Counters are `carry + raw`: `raw` is the value bpftrace printed last in its current life
 * (cumulative maps), `carry` everything before (previous lives, or the sum of deltas of a cleared map).
 */
export class Series {
  readonly labelValues: string[];
  readonly labelText: string;
  readonly startMs: number;
  seenDump: number;
  /** The dump whose entries last named this key (finds a key printed twice in one dump). */
  mark = 0;
  /** counter value, or stats count. */
  raw0 = 0;
  carry0 = 0;
  /** stats total. */
  raw1 = 0;
  carry1 = 0;
  /** gauge value, or stats average. */
  gauge = 0;
  rawBuckets: Float64Array | undefined;
  carryBuckets: Float64Array | undefined;

  constructor(labelValues: string[], labelText: string, startMs: number, seenDump: number) {
    this.labelValues = labelValues;
    this.labelText = labelText;
    this.startMs = startMs;
    this.seenDump = seenDump;
  }

  /** The exported counter value (counters), or the stats count. */
  get total0(): number {
    return this.carry0 + this.raw0;
  }

  get total1(): number {
    return this.carry1 + this.raw1;
  }

  /** Per-bucket (non-cumulative) exported counts, length = layout bounds + 1. */
  bucketCounts(length: number): Float64Array {
    const out = new Float64Array(length);
    const raw = this.rawBuckets;
    const carry = this.carryBuckets;
    for (let i = 0; i < length; i++) out[i] = (raw?.[i] ?? 0) + (carry?.[i] ?? 0);
    return out;
  }
}

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
  readonly shadow: Map<string, Series>;
  overflow: Series | undefined;
  dumps: number;
  lastDumpMs: number | undefined;
  overflowedTotal: number;
  expiredTotal: number;
  /** Cached Prometheus text of this map; undefined when something changed since the last render. */
  rendered: string | undefined;
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

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export class SeriesStore {
  readonly prefix: string;
  readonly maxSeriesPerMap: number;
  readonly maxSeries: number;
  readonly maxLabelValueLength: number;
  readonly expireAfterDumps: number;
  private readonly options: SeriesStoreOptions;
  private readonly maps = new Map<string, MapState>();
  private readonly skipped = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly now: () => number;
  private seriesCount = 0;

  constructor(options: SeriesStoreOptions = {}) {
    this.options = options;
    this.prefix = options.prefix ?? DEFAULTS.prefix;
    this.maxSeriesPerMap = options.maxSeriesPerMap ?? DEFAULTS.maxSeriesPerMap;
    this.maxSeries = options.maxSeries ?? DEFAULTS.maxSeries;
    this.maxLabelValueLength = Math.max(16, options.maxLabelValueLength ?? DEFAULTS.maxLabelValueLength);
    this.expireAfterDumps = options.expireAfterDumps ?? DEFAULTS.expireAfterDumps;
    this.now = options.now ?? Date.now;
  }

  /** Exported maps, in the order they first appeared. */
  mapStates(): IterableIterator<MapState> {
    return this.maps.values();
  }

  /** Exported series over all maps (overflow series included). */
  get size(): number {
    return this.seriesCount;
  }

  /** Ingests one printed map. Never throws: what it cannot use is reported through onWarning. */
  ingest(sample: MapSample): void {
    try {
      const state = this.stateFor(sample);
      if (state === undefined) return;
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
      for (const series of state.shadow.values()) carryForward(series);
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

  private stateFor(sample: MapSample): MapState | undefined {
    const existing = this.maps.get(sample.name);
    if (existing !== undefined) return existing;
    if (this.skipped.has(sample.name)) return undefined;
    const config: MapExportOptions = this.options.maps?.[sample.name] ?? {};
    const info = this.options.program?.maps.find((map) => map.name === sample.name);
    const kind: MapKind = config.kind ?? info?.kind ?? sample.kind;
    const included =
      this.options.include !== undefined ? this.options.include.includes(sample.name) : AGGREGATION_KINDS.includes(kind);
    if (!included) {
      this.skipped.add(sample.name);
      this.warn(
        `skip:${sample.name}`,
        this.options.include !== undefined
          ? `map ${sample.name} is not exported: it is not in the include list`
          : info === undefined && config.kind === undefined
            ? `map ${sample.name} is not exported: its aggregation is unknown (bpftrace -f json prints count(), sum() and plain values alike); give the program (--program FILE.bt) to export it as what it is, or list it in include to export it as a gauge`
            : `map ${sample.name} (${kind}) is not exported: plain-value maps are exported only when listed in include`,
      );
      return undefined;
    }
    const shape = shapeOf(kind);
    const baseName = config.metric ?? (sample.name === '@' ? 'map' : sample.name.replace(/^@/, ''));
    const metric = sanitizeMetricName(this.prefix === '' ? baseName : `${this.prefix}_${baseName}`);
    const arity = Math.max(info?.keyArity ?? 0, sample.entries[0]?.key.length ?? 0);
    const labelNames = sanitizeLabelNames(
      Array.from({ length: arity }, (_, i) => config.labels?.[i] ?? info?.keyNames[i] ?? `key${i}`),
    );
    const keyText = info !== undefined && info.keyNames.length > 0 ? `[${info.keyNames.join(', ')}]` : arity > 0 ? `[${labelNames.join(', ')}]` : '';
    const help = config.help ?? `bpftrace map ${sample.name}${keyText}, ${aggregationText(info, kind)}`;
    const layout = shape === 'histogram' ? createLayout(kind === 'lhist' ? 'lhist' : 'hist', info?.kind === kind ? info.args : []) : undefined;
    for (const other of this.maps.values()) {
      if (other.metric === metric) {
        this.skipped.add(sample.name);
        this.warn(`clash:${sample.name}`, `map ${sample.name} is not exported: its metric name ${metric} is already used by ${other.map}; rename it with maps['${sample.name}'].metric`);
        return undefined;
      }
    }
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
      shadow: new Map(),
      overflow: undefined,
      dumps: 0,
      lastDumpMs: undefined,
      overflowedTotal: 0,
      expiredTotal: 0,
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
    let entries = sample.final === true && state.exitDivisor !== undefined ? divided(sample.entries, state.exitDivisor) : sample.entries;
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
      const known = series ?? state.shadow.get(key);
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
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e] as MapEntry;
      const key = keys[e] as string;
      let series = found === undefined ? state.series.get(key) : found[e];
      if (series === undefined) {
        const shadow = state.shadow.get(key);
        if (shadow !== undefined) {
          this.fold(state, shadow, entry, dump, length, nowMs);
          continue;
        }
        if (state.series.size >= this.maxSeriesPerMap || this.seriesCount >= this.maxSeries) {
          const fresh = new Series([], '', nowMs, dump);
          state.shadow.set(key, fresh);
          state.overflowedTotal += 1;
          this.fold(state, fresh, entry, dump, length, nowMs);
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
      this.warn(`arity:${state.map}`, `map ${state.map} printed keys with ${entry.key.length} parts; labels are now ${state.labelNames.join(', ')}`);
    }
    const values = state.labelNames.map((_, i) => {
      const part = entry.key[i];
      return part === undefined ? '' : labelValue(String(part), this.maxLabelValueLength);
    });
    let text = labelText(state.labelNames, values);
    if (state.labelTexts.has(text)) {
      // two keys that print the same labels (lossy UTF-8 repair): keep them apart visibly, never merge silently
      const last = values.length - 1;
      values[last] = truncateLabelValue(`${values[last] ?? ''}${entry.key.join('\u0000')}`, this.maxLabelValueLength);
      text = labelText(state.labelNames, values);
      this.warn(`dup:${state.map}`, `map ${state.map} has keys that print identical labels; the last label of one gets a hash suffix`);
    }
    state.labelTexts.add(text);
    return new Series(values, text, nowMs, dump);
  }

  /** Updates one series from one printed entry. */
  private apply(state: MapState, series: Series, entry: MapEntry, length: number): void {
    switch (state.shape) {
      case 'counter': {
        const value = toNumber(entry.value);
        if (value === undefined) return this.badEntry(state, entry);
        if (state.mode === 'delta') series.carry0 += value;
        else {
          if (value < series.raw0) {
            // Restarts are carried forward before their first dump, so a fall here is within one bpftrace run: a key
            // deleted and re-created between two prints, or a sum() of negative values, which no counter can show.
            if (state.kind === 'sum') this.sumDecreased(state, series, value);
            carryForward(series);
          }
          series.raw0 = value;
        }
        return;
      }
      case 'gauge': {
        const value = toNumber(entry.value);
        if (value === undefined) return this.badEntry(state, entry);
        series.gauge = value;
        return;
      }
      case 'stats': {
        const stats = entry.stats;
        if (stats === undefined) return this.badEntry(state, entry);
        if (state.mode === 'delta') {
          series.carry0 += stats.count;
          series.carry1 += stats.total;
        } else {
          if (stats.count < series.raw0) carryForward(series);
          series.raw0 = stats.count;
          series.raw1 = stats.total;
        }
        series.gauge = stats.average;
        return;
      }
      case 'histogram': {
        const buckets = entry.buckets;
        const layout = state.layout;
        if (buckets === undefined || layout === undefined) return this.badEntry(state, entry);
        const counts = new Float64Array(length);
        const bounds = bucketBounds(layout.kind, buckets);
        for (let i = 0; i < buckets.length; i++) {
          const bound = bounds[i];
          const index = bound === undefined || bound === Infinity ? length - 1 : (layout.index.get(bound) ?? length - 1);
          counts[index] = (counts[index] as number) + (buckets[i] as { count: number }).count;
        }
        if (series.rawBuckets === undefined || series.rawBuckets.length !== length) series.rawBuckets = new Float64Array(length);
        if (series.carryBuckets === undefined || series.carryBuckets.length !== length) series.carryBuckets = new Float64Array(length);
        if (state.mode === 'delta') {
          for (let i = 0; i < length; i++) series.carryBuckets[i] = (series.carryBuckets[i] as number) + (counts[i] as number);
        } else {
          let down = false;
          for (let i = 0; i < length; i++) if ((counts[i] as number) < (series.rawBuckets[i] as number)) down = true;
          if (down) carryForward(series);
          series.rawBuckets = counts;
        }
        return;
      }
    }
  }

  private sumDecreased(state: MapState, series: Series, value: number): void {
    this.warn(
      `decrease:${state.map}`,
      `map ${state.map} is a sum() that went down without a bpftrace restart (${series.raw0} to ${value}${series.labelText === '' ? '' : ` for {${series.labelText}}`}); ` +
        `its counter takes the fall as a reset and keeps counting up, so it overstates a sum of negative values. ` +
        `If the program adds negative values, export the map as a gauge: kind: value for ${state.map} in the trace spec's maps`,
    );
  }

  private badEntry(state: MapState, entry: MapEntry): void {
    this.warn(
      `bad:${state.map}`,
      `map ${state.map}: an entry has no usable ${state.shape} value (key ${JSON.stringify(entry.key)}, value ${JSON.stringify(entry.value ?? entry.stats ?? null)}); such entries are skipped`,
    );
  }

  /** A key past the cap: update its private state, and add what its exported value gained to the overflow series. */
  private fold(state: MapState, shadow: Series, entry: MapEntry, dump: number, length: number, nowMs: number): void {
    if (state.overflow === undefined) {
      state.overflow = new Series([], `${OVERFLOW_LABEL}="true"`, nowMs, dump);
      this.seriesCount += 1;
    }
    const overflow = state.overflow;
    overflow.seenDump = dump;
    const before0 = shadow.total0;
    const before1 = shadow.total1;
    const beforeBuckets = state.shape === 'histogram' ? shadow.bucketCounts(length) : undefined;
    this.apply(state, shadow, entry, length);
    shadow.seenDump = dump;
    overflow.carry0 += shadow.total0 - before0;
    overflow.carry1 += shadow.total1 - before1;
    if (state.shape === 'gauge') overflow.gauge = shadow.gauge;
    if (state.shape === 'stats') overflow.gauge = shadow.gauge;
    if (beforeBuckets !== undefined) {
      const after = shadow.bucketCounts(length);
      overflow.carryBuckets ??= new Float64Array(length);
      for (let i = 0; i < length; i++) {
        overflow.carryBuckets[i] = (overflow.carryBuckets[i] as number) + (after[i] as number) - (beforeBuckets[i] as number);
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
    for (const [key, shadow] of state.shadow) {
      if (shadow.seenDump === dump) continue;
      if (deletedMeansZero) carryForward(shadow);
      if (expire > 0 && dump - shadow.seenDump >= expire) state.shadow.delete(key);
    }
  }

  private growFor(state: MapState, entries: readonly MapEntry[]): void {
    const layout = state.layout as BucketLayout;
    const seen: number[] = [];
    for (const entry of entries) {
      if (entry.buckets === undefined) continue;
      for (const bound of bucketBounds(layout.kind, entry.buckets)) if (bound !== undefined) seen.push(bound);
    }
    const oldLength = layout.bounds.length + 1;
    const remap = growLayout(layout, seen);
    if (remap === undefined) return;
    const length = layout.bounds.length + 1;
    const move = (series: Series): void => {
      if (series.rawBuckets !== undefined && series.rawBuckets.length === oldLength) series.rawBuckets = remapCounts(series.rawBuckets, remap, length);
      if (series.carryBuckets !== undefined && series.carryBuckets.length === oldLength) series.carryBuckets = remapCounts(series.carryBuckets, remap, length);
    };
    for (const series of state.series.values()) move(series);
    for (const series of state.shadow.values()) move(series);
    if (state.overflow !== undefined) move(state.overflow);
  }
}

function keyOf(entry: MapEntry): string {
  return entry.key.length === 0 ? '' : entry.key.length === 1 ? String(entry.key[0]) : entry.key.join('\u0000');
}

/**
 * One entry per key. bpftrace's JSON keys are lossy (0.24+ deletes spaces, ≤0.21 joins parts with a bare `,`), so
 * two bpftrace keys can print as one: both are the same series, so their values add up (counters, stats, buckets)
 * before they are compared with the previous dump. Applied one after the other, the second looked like a restart
 * and the series grew on every dump. Gauges keep the last value.
 */
function entriesByKey(entries: MapEntry[]): { entries: MapEntry[]; keys: string[] } {
  const keys: string[] = [];
  const merged: MapEntry[] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const key = keyOf(entry);
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, merged.length);
      keys.push(key);
      merged.push(entry);
    } else {
      merged[at] = addEntries(merged[at] as MapEntry, entry);
    }
  }
  return { entries: merged, keys };
}

function addEntries(first: MapEntry, entry: MapEntry): MapEntry {
  const sum: MapEntry = { key: first.key };
  const a = toNumber(first.value);
  const b = toNumber(entry.value);
  if (a !== undefined && b !== undefined) sum.value = a + b;
  else if (first.value !== undefined) sum.value = first.value;
  if (first.stats !== undefined && entry.stats !== undefined) {
    const count = first.stats.count + entry.stats.count;
    const total = first.stats.total + entry.stats.total;
    sum.stats = { count, total, average: count === 0 ? 0 : Math.trunc(total / count) };
  } else if (first.stats !== undefined) sum.stats = first.stats;
  if (first.buckets !== undefined || entry.buckets !== undefined) sum.buckets = [...(first.buckets ?? []), ...(entry.buckets ?? [])];
  return sum;
}

/** Entries divided as bpftrace's `print(@m, top, div)` divides them: integer division, toward zero. */
function divided(entries: MapEntry[], divisor: number): MapEntry[] {
  return entries.map((entry) => {
    const value = toNumber(entry.value);
    return value === undefined ? entry : { ...entry, value: Math.trunc(value / divisor) };
  });
}

/** The series' current bpftrace life ended (restart, deletion): what it printed becomes carried total. */
function carryForward(series: Series): void {
  series.carry0 += series.raw0;
  series.raw0 = 0;
  series.carry1 += series.raw1;
  series.raw1 = 0;
  const raw = series.rawBuckets;
  if (raw !== undefined) {
    const carry = (series.carryBuckets ??= new Float64Array(raw.length));
    for (let i = 0; i < raw.length; i++) carry[i] = (carry[i] as number) + (raw[i] as number);
    raw.fill(0);
  }
}

function labelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    out += `${i === 0 ? '' : ','}${names[i] as string}="${escapeLabelValue(values[i] as string)}"`;
  }
  return out;
}

/** The Prometheus counter name OTel's serializer would write for a monotonic sum. */
export function counterName(metric: string): string {
  return metric.endsWith('_total') ? metric : `${metric}_total`;
}

function header(name: string, help: string, unit: string | undefined, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n${unit ? `# UNIT ${name} ${escapeHelp(unit)}\n` : ''}# TYPE ${name} ${type}\n`;
}

function seriesList(state: MapState): Series[] {
  const list = [...state.series.values()];
  if (state.overflow !== undefined) list.push(state.overflow);
  return list;
}

/** Renders one map the way OTel's PrometheusSerializer renders the producer's MetricData (withoutScopeInfo). */
export function renderMap(state: MapState): string {
  const all = seriesList(state);
  switch (state.shape) {
    case 'counter': {
      const name = counterName(state.metric);
      let out = header(name, state.help, state.unit, 'counter');
      for (const s of all) out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(s.total0)}\n`;
      return out;
    }
    case 'gauge': {
      const name = state.metric;
      let out = header(name, state.help, state.unit, 'gauge');
      for (const s of all) out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(s.gauge)}\n`;
      return out;
    }
    case 'stats': {
      const count = counterName(`${state.metric}_count`);
      const sum = counterName(`${state.metric}_sum`);
      const average = `${state.metric}_average`;
      let a = header(count, `${state.help} count`, undefined, 'counter');
      let b = header(sum, `${state.help} sum`, state.unit, 'counter');
      let c = header(average, `${state.help} average`, state.unit, 'gauge');
      for (const s of all) {
        const labels = s.labelText === '' ? '' : `{${s.labelText}}`;
        a += `${count}${labels} ${formatValue(s.total0)}\n`;
        b += `${sum}${labels} ${formatValue(s.total1)}\n`;
        c += `${average}${labels} ${formatValue(s.gauge)}\n`;
      }
      return a + b + c;
    }
    case 'histogram': {
      const layout = state.layout as BucketLayout;
      const length = layout.bounds.length + 1;
      const les = layout.bounds.map((bound) => `le="${formatValue(bound)}"`);
      les.push('le="+Inf"');
      const countName = `${state.metric}_count`;
      const bucketName = `${state.metric}_bucket`;
      let out = header(state.metric, state.help, state.unit, 'histogram');
      for (const s of all) {
        const counts = s.bucketCounts(length);
        let total = 0;
        for (let i = 0; i < length; i++) total += counts[i] as number;
        const labels = s.labelText === '' ? '' : `${s.labelText},`;
        out += `${countName}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(total)}\n`;
        let cumulative = 0;
        for (let i = 0; i < length; i++) {
          cumulative += counts[i] as number;
          out += `${bucketName}{${labels}${les[i] as string}} ${formatValue(cumulative)}\n`;
        }
      }
      return out;
    }
  }
}
