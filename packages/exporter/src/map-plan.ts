// How a map is exported, decided once per map and asked by everyone else: whether it is exported at all, its kind,
// shape and metric name (claimed in metric-names.ts), labels, help and unit, the metrics each key prints, whether
// its dumps are totals or deltas, whether a key missing from a dump was deleted, its exit-dump divisor, and the
// base unit its values are printed in (units.ts).

import { AGGREGATION_KINDS } from '@ktrace/parser';
import type { MapEntry, MapInfo, MapKind, MapSample } from '@ktrace/parser';
import { divided } from './map-entries.js';
import { MetricNamePlan, shapeMetrics, shownName } from './metric-names.js';
import type { ExportShape, ShapeMetric } from './metric-names.js';
import { sanitizeLabelNames, sanitizeMetricName } from './names.js';
import type { MapExportOptions, SeriesStoreOptions } from './options.js';
import { unitPlan } from './units.js';
import type { UnitPlan } from './units.js';

/** One metric every key of a map prints (stats: three), in the order both renderers print them. */
export interface PlannedMetric extends ShapeMetric {
  readonly help: string;
  /** OTel unit (UCUM: `s`, `By`, …). */
  readonly unit: string | undefined;
  /** Prometheus's `# UNIT` (`seconds`, `bytes`, …). */
  readonly prometheusUnit: string | undefined;
  /** What the printed values are divided by (units.ts): 1, or the power of ten to the base unit; 1 for counts. */
  readonly divisor: number;
}

export interface MapPlan {
  readonly map: string;
  readonly kind: MapKind;
  readonly shape: ExportShape;
  /** 'delta': each dump holds what happened since the last (the program clear()s the map); else totals. */
  readonly mode: 'cumulative' | 'delta';
  /** The program prints only part of the map (`print(@m, 10)`): a key missing from a dump was not deleted. */
  readonly partial: boolean;
  /** The program's `print(@m, top, div)` divisor, applied to the exit-time dump that bpftrace prints undivided. */
  readonly exitDivisor: number | undefined;
  /** Full metric name with prefix, before Prometheus suffixes (`bpftrace_syscalls`). */
  readonly metric: string;
  /** Label names of the key parts known at the first dump (a wider key adds `key<i>` later). */
  readonly labelNames: readonly string[];
  readonly help: string;
  /** The map's unit as exported (units.ts): a duration in seconds, a size in bytes, or as declared. */
  readonly unit: UnitPlan;
  readonly metrics: readonly PlannedMetric[];
  /** Histograms: what their bucket layout starts from (histogram.ts createLayout). */
  readonly buckets: { kind: 'hist' | 'lhist'; args: readonly number[]; range?: readonly [number, number] } | undefined;
}

/** A cumulative map's values are totals of one bpftrace run: a restart carries them forward. */
export function carriesRestarts(plan: MapPlan): boolean {
  return plan.mode === 'cumulative';
}

/** In a full cumulative dump, a key that is not printed was deleted (its printed total is carried forward). */
export function missingKeyDeleted(plan: MapPlan): boolean {
  return plan.mode === 'cumulative' && !plan.partial;
}

/** The entries of a dump as the map exports them: the exit-time dump divided as the program's prints are. */
export function exportedEntries(plan: MapPlan, sample: MapSample): MapEntry[] {
  return sample.final === true && plan.exitDivisor !== undefined
    ? divided(sample.entries, plan.exitDivisor)
    : sample.entries;
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

function aggregationText(info: MapInfo | undefined, kind: MapKind): string {
  if (kind === 'value') return 'value';
  const args = info !== undefined && info.kind === kind && info.args.length > 0 ? info.args.join(', ') : '';
  return `${kind}(${args})`;
}

/** What is decided before a map's first dump: its kind, shape and (claimed) metric name. */
interface Claim {
  readonly kind: MapKind;
  readonly shape: ExportShape;
  readonly metric: string;
  readonly unit: UnitPlan;
}

/** Says once per reason what the metrics path skipped or could not do. */
export type Warn = (reason: string, message: string) => void;

/** The plans of every map of one store. */
export class MapPlans {
  private readonly options: SeriesStoreOptions;
  private readonly prefix: string;
  private readonly warn: Warn;
  private readonly claims = new Map<string, Claim | 'skipped'>();
  private readonly names = new MetricNamePlan();

  constructor(options: SeriesStoreOptions, prefix: string, warn: Warn) {
    this.options = options;
    this.prefix = prefix;
    this.warn = warn;
    // The program's maps claim their names first, in source order: the clash rule does not depend on which map
    // bpftrace happens to print first, and a clash is reported as the exporter starts.
    for (const info of options.program?.maps ?? []) {
      if (this.included(info.name, this.config(info.name).kind ?? info.kind)) this.claim(info.name, info.kind);
    }
  }

  /** The plan of a map as of its first dump, or undefined when the map is not exported (said once, with why). */
  planFor(sample: MapSample): MapPlan | undefined {
    const claim = this.claim(sample.name, sample.kind);
    if (claim === undefined) return undefined;
    const { kind, shape, metric, unit } = claim;
    const config = this.config(sample.name);
    const info = this.info(sample.name);
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
    return {
      map: sample.name,
      kind,
      shape,
      mode: config.reset ?? (info?.cleared === true ? 'delta' : 'cumulative'),
      partial: config.partial ?? info?.partial ?? false,
      exitDivisor: (shape === 'counter' || shape === 'gauge') && info?.kind === kind ? info.printDivisor : undefined,
      metric,
      labelNames,
      help,
      unit,
      metrics: shapeMetrics(shape, metric).map((m) => ({
        ...m,
        help: m.part === undefined ? help : `${help} ${m.part}`,
        ...(m.part === 'count'
          ? { unit: undefined, prometheusUnit: undefined, divisor: 1 }
          : { unit: unit.otel, prometheusUnit: unit.prometheus, divisor: unit.divisor }),
      })),
      buckets:
        shape !== 'histogram'
          ? undefined
          : {
              kind: kind === 'lhist' ? 'lhist' : 'hist',
              args: info?.kind === kind ? info.args : [],
              ...(config.range === undefined ? {} : { range: config.range }),
            },
    };
  }

  private config(name: string): MapExportOptions {
    return this.options.maps?.[name] ?? {};
  }

  private info(name: string): MapInfo | undefined {
    return this.options.program?.maps.find((map) => map.name === name);
  }

  private included(name: string, kind: MapKind): boolean {
    return this.options.include !== undefined ? this.options.include.includes(name) : AGGREGATION_KINDS.includes(kind);
  }

  /** Decides once per map whether it is exported, and claims its metric name (metric-names.ts). */
  private claim(name: string, sampleKind: MapKind): Claim | undefined {
    const known = this.claims.get(name);
    if (known !== undefined) return known === 'skipped' ? undefined : known;
    const config = this.config(name);
    const info = this.info(name);
    const kind: MapKind = config.kind ?? info?.kind ?? sampleKind;
    if (!this.included(name, kind)) {
      this.claims.set(name, 'skipped');
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
    const unit = unitPlan(
      config.metric ?? (name === '@' ? 'map' : name.replace(/^@/, '')),
      kind,
      config.unit,
      config.baseUnits ?? this.options.baseUnits,
    );
    const wanted = sanitizeMetricName(this.prefix === '' ? unit.name : `${this.prefix}_${unit.name}`);
    const { metric, clash } = this.names.claim(name, shape, wanted);
    if (clash !== undefined) {
      const holder = clash.owner === 'ktrace' ? `ktrace's own ${clash.name}` : `map ${clash.owner} (${clash.name})`;
      this.warn(
        `clash:${name}`,
        `map ${name} would be exported as ${shownName(shape, wanted)}, whose Prometheus names meet those of ${holder}; it is exported as ${shownName(shape, metric)} instead. ` +
          `Choose its name with maps['${name}'].metric (or another --prefix)`,
      );
    }
    const claim: Claim = { kind, shape, metric, unit };
    this.claims.set(name, claim);
    return claim;
  }
}
