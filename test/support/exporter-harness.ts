// The exporters a test file makes, shut down after each test, and the warnings they gave. A test takes the
// warnings it expects (takeWarnings); any warning left at the end of a test fails it, so none passes unseen.

import { createExporter } from '@ktrace/exporter';
import type { Exporter, ExporterOptions } from '@ktrace/exporter';
import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { afterEach, expect } from 'vitest';

export interface ExporterHarness {
  /** An exporter whose warnings the harness collects (options.onWarning is the harness's). */
  make: (options?: Omit<ExporterOptions, 'onWarning'>) => Exporter;
  /** The warnings given since the last call, in order; the test asserts them. */
  takeWarnings: () => string[];
  /** Shuts an exporter down now (a test that reads what shutdown did); afterEach then leaves it alone. */
  stop: (exporter: Exporter) => Promise<void>;
}

export function exporterHarness(): ExporterHarness {
  const running: Exporter[] = [];
  const warnings: string[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.shutdown()));
    expect(warnings.splice(0), 'warnings no test asserted').toEqual([]);
  });
  return {
    make: (options = {}) => {
      const exporter = createExporter({ ...options, onWarning: (w) => warnings.push(w) });
      running.push(exporter);
      return exporter;
    },
    takeWarnings: () => warnings.splice(0),
    stop: async (exporter) => {
      const at = running.indexOf(exporter);
      if (at >= 0) running.splice(at, 1);
      await exporter.shutdown();
    },
  };
}

/** The value of one series (`name{labels}` exactly as printed) in a Prometheus exposition, if present. */
export function seriesValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

/** A count() dump: each entry a key and its value. */
export function count(name: string, entries: Array<[Array<string | number>, number]>): MapSample {
  return { type: 'map', name, kind: 'count', entries: entries.map(([key, value]) => ({ key, value })) };
}

/** A one-entry dump of any kind holding `value` (hist: one bucket [4, 7]; stats: count `value`, average 10). */
export function sample(name: string, kind: MapSample['kind'], value: number): MapSample {
  if (kind === 'hist')
    return { type: 'map', name, kind, entries: [{ key: [], buckets: [{ min: 4, max: 7, count: value }] }] };
  if (kind === 'stats')
    return { type: 'map', name, kind, entries: [{ key: [], stats: { count: value, total: value * 10, average: 10 } }] };
  return { type: 'map', name, kind, entries: [{ key: [], value }] };
}

/** What readProgram says of a map without keys. */
export function mapInfo(name: string, kind: MapSample['kind']): ProgramInfo['maps'][number] {
  return { name, kind, args: [], keyArity: 0, keyNames: [], keyTypes: [], cleared: false, line: 1, column: 1 };
}

/** Family names of `# TYPE` lines, and every series name with its labels: what Prometheus would store. */
export function families(text: string): { types: string[]; series: string[] } {
  const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string);
  const series = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.slice(0, l.lastIndexOf(' ')));
  return { types, series };
}
