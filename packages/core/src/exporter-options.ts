// The one translation from what a trace declares (maps, metrics, limits) to the exporter's options, used by
// `ktrace run` and the SDK (from a spec) and by `ktrace export` (from its flags), so both export alike.
import type { ExporterOptions } from '@ktrace/exporter';
import type { ProgramInfo } from '@ktrace/parser';
import type { MapSpec, TraceSpec } from './trace-spec.js';

export interface ExportDeclaration {
  /** The program that produces the output, when known. */
  program?: ProgramInfo;
  maps?: Record<string, MapSpec>;
  /** The maps to export (default: the exporter's: every aggregation map). */
  include?: string[];
  metrics?: TraceSpec['metrics'];
  limits?: Partial<TraceSpec['limits']>;
}

export function exporterOptionsFor(declared: ExportDeclaration): ExporterOptions {
  const options: ExporterOptions = {};
  if (declared.program !== undefined) options.program = declared.program;
  if (declared.maps !== undefined) options.maps = declared.maps;
  if (declared.include !== undefined) options.include = declared.include;
  const metrics = declared.metrics ?? {};
  if (metrics.prefix !== undefined) options.prefix = metrics.prefix;
  if (metrics.baseUnits !== undefined) options.baseUnits = metrics.baseUnits;
  if (typeof metrics.listen === 'string') options.listen = metrics.listen;
  if (metrics.otlpEndpoint !== undefined) options.otlpEndpoint = metrics.otlpEndpoint;
  if (metrics.otlpIntervalMillis !== undefined) options.otlpIntervalMillis = metrics.otlpIntervalMillis;
  if (metrics.resourceAttributes !== undefined) options.resourceAttributes = metrics.resourceAttributes;
  const limits = declared.limits ?? {};
  if (limits.maxSeries !== undefined) options.maxSeries = limits.maxSeries;
  if (limits.maxSeriesPerMap !== undefined) options.maxSeriesPerMap = limits.maxSeriesPerMap;
  if (limits.maxLabelValueLength !== undefined) options.maxLabelValueLength = limits.maxLabelValueLength;
  if (limits.expireAfterDumps !== undefined) options.expireAfterDumps = limits.expireAfterDumps;
  return options;
}
