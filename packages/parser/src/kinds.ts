// The aggregation kinds bpftrace maps can hold: the one list every package reads (program reading, the
// exporter's default include rule, trace-spec validation, instrumentation).
import type { MapKind } from './types.js';

/** Every map kind, aggregations first, then `value` (a map assigned plain values). */
export const MAP_KINDS = [
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'stats',
  'hist',
  'lhist',
  'value',
] as const satisfies readonly MapKind[];

/** The aggregation kinds: exported by default, and what `@m = kind(...)` assigns in a program. */
export const AGGREGATION_KINDS: readonly MapKind[] = MAP_KINDS.filter((kind) => kind !== 'value');

/** True for the aggregations (every kind but `value`). */
export function isAggregation(kind: string): kind is Exclude<MapKind, 'value'> {
  return kind !== 'value' && (MAP_KINDS as readonly string[]).includes(kind);
}
