// Base units: a map whose values are durations or sizes — its unit declared (maps['@m'].unit) or read from the last
// word of its name (`_ns`, `_us`, `_ms`, `_bytes`) — is exported in seconds or bytes, as Prometheus and
// OpenTelemetry name them: `_seconds` or `_bytes` ends its name, and its values and `le` bounds are divided by a
// power of ten when they are printed (the series keep bpftrace's integers, so no rounding accumulates).

import type { MapKind } from '@ktrace/parser';

/** How a map's unit is exported. */
export interface UnitPlan {
  /** The metric name without prefix, its unit word replaced by the base unit's (`syscall_latency_seconds`). */
  readonly name: string;
  /** The OTel unit (UCUM: `s`, `By`), or the declared unit as given when it is not a duration or a size. */
  readonly otel: string | undefined;
  /** Prometheus's `# UNIT` (`seconds`, `bytes`), or the declared unit as given. */
  readonly prometheus: string | undefined;
  /** Values and bounds are printed divided by this (1e9 for nanoseconds); 1 leaves them as bpftrace printed them. */
  readonly divisor: number;
}

interface BaseUnit {
  readonly otel: 's' | 'By';
  readonly prometheus: 'seconds' | 'bytes';
  readonly divisor: number;
}

const SECONDS = { otel: 's', prometheus: 'seconds' } as const;
const BYTES: BaseUnit = { otel: 'By', prometheus: 'bytes', divisor: 1 };

/** Units by the words that name them, declared or at the end of a map's name. */
const UNITS: ReadonlyMap<string, BaseUnit> = new Map<string, BaseUnit>([
  ...['ns', 'nsec', 'nsecs', 'nanosecond', 'nanoseconds'].map((w) => [w, { ...SECONDS, divisor: 1e9 }] as const),
  ...['us', 'µs', 'usec', 'usecs', 'microsecond', 'microseconds'].map(
    (w) => [w, { ...SECONDS, divisor: 1e6 }] as const,
  ),
  ...['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'].map((w) => [w, { ...SECONDS, divisor: 1e3 }] as const),
  ...['s', 'sec', 'secs', 'second', 'seconds'].map((w) => [w, { ...SECONDS, divisor: 1 }] as const),
  ...['by', 'b', 'byte', 'bytes'].map((w) => [w, BYTES] as const),
]);

/** Single letters are units when declared, but in a name `_s` or `_b` is more often a plural or a tag. */
const NOT_IN_NAMES = new Set(['s', 'b']);

/** count() counts events whatever its name says; every other kind holds the values the program aggregated. */
function holdsValues(kind: MapKind): boolean {
  return kind !== 'count';
}

/**
 * The unit plan of a map named `name` (without prefix) of this kind. `declared`: its configured unit;
 * `baseUnits: false` keeps the name, the declared unit and the values as they are.
 */
export function unitPlan(name: string, kind: MapKind, declared: string | undefined, baseUnits = true): UnitPlan {
  const asIs: UnitPlan = { name, otel: declared, prometheus: declared, divisor: 1 };
  if (!baseUnits || !holdsValues(kind)) return asIs;
  const total = name.endsWith('_total') ? '_total' : '';
  const stem = total === '' ? name : name.slice(0, -total.length);
  const cut = stem.lastIndexOf('_');
  const word = cut > 0 ? stem.slice(cut + 1).toLowerCase() : undefined;
  const named = word === undefined || NOT_IN_NAMES.has(word) ? undefined : UNITS.get(word);
  const unit = declared === undefined ? named : UNITS.get(declared.toLowerCase());
  if (unit === undefined) return asIs;
  const bare = named === undefined ? stem : stem.slice(0, cut);
  return {
    name: `${bare}_${unit.prometheus}${total}`,
    otel: unit.otel,
    prometheus: unit.prometheus,
    divisor: unit.divisor,
  };
}

/**
 * A value or bound in the base unit: the integer bpftrace printed divided by a power of ten. Division is correctly
 * rounded, so the result is the double nearest the exact quotient, and JavaScript prints it as the shortest decimal
 * that reads back as that double — the exact decimal itself for values of up to 15 significant digits
 * (1023 ns → 0.000001023), never float noise such as 1.0230000000000001e-6.
 */
export function inBaseUnit(value: number, divisor: number): number {
  return divisor === 1 ? value : value / divisor;
}

/**
 * OTel's serializer prints an instrument's UCUM unit in `# UNIT` (`s`, `By`); Prometheus names the base units
 * `seconds` and `bytes`, as the bpftrace maps' `# UNIT` lines do, so ktrace's self-metrics say the same.
 */
export function prometheusUnitLines(text: string): string {
  return text.replace(
    /^(# UNIT \S+) (s|By)$/gm,
    (_line, head: string, ucum: string) => `${head} ${ucum === 's' ? 'seconds' : 'bytes'}`,
  );
}
