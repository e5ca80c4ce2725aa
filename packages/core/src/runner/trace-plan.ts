// What a trace spec means before anything runs: the program read, instrumented for the maps it exports, each
// map spec checked against the program (no more label names than the key has), and the warnings to give.
import { KtraceError, readProgram } from '@ktrace/parser';
import type { ProgramInfo } from '@ktrace/parser';
import { instrumentProgram } from '../instrument.js';
import type { InstrumentedProgram } from '../instrument.js';
import type { TraceSpec } from '../trace-spec.js';

export interface TracePlan {
  programInfo: ProgramInfo;
  instrumented: InstrumentedProgram;
  /** Exported maps the program prints and clears in the same probe: their prints are deltas. */
  deltaMaps: string[];
  /** Exported maps cleared in a probe that does not print them: totals with resets. */
  clearedApart: string[];
  warnings: string[];
}

export function planTrace(spec: TraceSpec): TracePlan {
  const programInfo = readProgram(spec.program);
  const mapsInSpec = Object.keys(spec.maps);
  const exportMaps = spec.include ?? (mapsInSpec.length > 0 ? mapsInSpec : undefined);
  const instrumented = instrumentProgram({
    source: spec.program,
    program: programInfo,
    intervalMillis: spec.intervalMillis,
    ...(exportMaps === undefined ? {} : { exportMaps }),
  });
  for (const [name, mapSpec] of Object.entries(spec.maps)) {
    const info = programInfo.maps.find((m) => m.name === name);
    const labels = mapSpec.labels;
    if (info === undefined || labels === undefined || labels.length <= info.keyArity) continue;
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `spec.maps["${name}"].labels: ${labels.length} label names (${labels.join(', ')}) for a key of ${
        info.keyArity === 0
          ? 'no positions (the map has no key)'
          : `${info.keyArity} position${info.keyArity === 1 ? '' : 's'} (${info.keyNames.join(', ')})`
      }; give one name per key position`,
    });
  }
  // A map is printed as deltas only when the program prints and clears it in the same probe while running
  // (readProgram's `cleared`). A clear() in END (bpftrace's tools do that) resets nothing ktrace exports; a map
  // cleared in a probe that does not print it (`clearedApart`: print every second, clear every minute, or never
  // printed by the program) holds totals since its last clear, so a value that drops is a reset, not a delta.
  const exported = new Set(instrumented.exported);
  const deltaMaps = programInfo.maps.filter((m) => m.cleared && exported.has(m.name)).map((m) => m.name);
  const clearedApart = programInfo.maps
    .filter((m) => m.clearedApart === true && exported.has(m.name))
    .map((m) => m.name);
  const warnings: string[] = [];
  // bpftrace's print() and clear() are asynchronous: updates that land between them are lost by bpftrace itself.
  if (deltaMaps.length > 0) {
    warnings.push(
      `the program clears ${deltaMaps.join(', ')}: exported as deltas, but updates between its print() and clear() are lost by bpftrace; remove the clear() for exact counters (ktrace prints cumulatively by itself)`,
    );
  }
  if (clearedApart.length > 0) {
    warnings.push(
      `the program clears ${clearedApart.join(', ')} apart from printing it: exported as totals that restart at each clear() (a drop is taken as a reset), but updates between the last print and the clear() are lost by bpftrace; remove the clear() for exact counters`,
    );
  }
  return { programInfo, instrumented, deltaMaps, clearedApart, warnings };
}
