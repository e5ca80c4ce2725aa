// How `ktrace export`'s cost grows with the size of a map: CPU time per dump and peak RSS at 1k, 10k, 100k and 1M
// keys, count() and hist(), whole processes. The cost of a dump is the difference between D dumps and 1 dump of the
// same map divided by D - 1 (start-up and the final render cancel out), with D large enough that every size parses
// about 3M keys (1k keys: 3001 dumps; 1M: 4); linear growth keeps the cost per key flat, which the last column shows
// against the same kind's 10k-key cost in this run. Writes the chart docs/benchmarks-growth.svg.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { programOf, writeDumps } from './support/json-dumps.js';
import type { DumpKind } from './support/json-dumps.js';
import { svgChart } from './support/svg-chart.js';
import { median, runNode } from './support/whole-process.js';

const SIZES = [1_000, 10_000, 100_000, 1_000_000];
const here = dirname(fileURLToPath(import.meta.url));
const ktrace = join(here, '..', 'packages', 'cli', 'bin', 'ktrace.js');
const chartPath = join(here, '..', 'docs', 'benchmarks-growth.svg');

interface Point {
  kind: DumpKind;
  keys: number;
  dumps: number;
  cpuPerDumpMs: number;
  wallPerDumpMs: number;
  peakRssMiB: number;
  outputMiB: number;
}

function seriesLines(path: string, prefix: string): number {
  const run = spawnSync('grep', ['-c', `^${prefix}`, path], { encoding: 'utf8' });
  return Number(run.stdout.trim());
}

const dir = mkdtempSync(join(tmpdir(), 'ktrace-bench-growth-'));
const points: Point[] = [];
try {
  for (const kind of ['count', 'hist'] as const) {
    const program = join(dir, `${kind}.bt`);
    writeFileSync(program, programOf(kind));
    for (const keys of SIZES) {
      const runs = keys >= 1_000_000 ? 1 : 3;
      const many = 1 + Math.max(3, Math.round(3_000_000 / keys));
      const args = [
        ktrace,
        'export',
        '--program',
        program,
        '--max-series-per-map',
        String(keys * 8),
        '--max-series',
        String(keys * 8),
      ];
      const measured = new Map<number, Array<ReturnType<typeof runNode>>>([
        [1, []],
        [many, []],
      ]);
      for (const dumps of [1, many]) {
        const input = join(dir, `${kind}-${keys}-${dumps}.json`);
        writeDumps(input, kind, keys, dumps);
        const output = join(dir, 'out.prom');
        for (let r = 0; r < runs; r++) {
          measured.get(dumps)?.push(runNode(args, input, output));
          const lines = seriesLines(output, kind === 'count' ? 'bpftrace_m_total{' : 'bpftrace_m_count{');
          if (lines !== keys) throw new Error(`${kind} ${keys}: ${lines} series printed, not ${keys}`);
        }
        rmSync(input);
      }
      const m = (dumps: number, field: 'cpuMs' | 'wallMs' | 'peakRssMiB' | 'stdoutBytes'): number =>
        median((measured.get(dumps) ?? []).map((r) => r[field]));
      points.push({
        kind,
        keys,
        dumps: many,
        cpuPerDumpMs: Math.max(0.01, (m(many, 'cpuMs') - m(1, 'cpuMs')) / (many - 1)),
        wallPerDumpMs: Math.max(0.01, (m(many, 'wallMs') - m(1, 'wallMs')) / (many - 1)),
        peakRssMiB: m(many, 'peakRssMiB'),
        outputMiB: m(many, 'stdoutBytes') / 2 ** 20,
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  'ktrace export, -f json dumps, whole processes: the cost of one more dump of the map, and the peak RSS of D dumps',
);
console.log('map | keys | D | CPU per dump | wall per dump | CPU per key | vs 10k per key | peak RSS | exposition');
for (const p of points) {
  const base = points.find((q) => q.kind === p.kind && q.keys === 10_000) as Point;
  const perKey = (p.cpuPerDumpMs * 1000) / p.keys;
  console.log(
    `${p.kind} | ${p.keys.toLocaleString('en')} | ${p.dumps} | ${p.cpuPerDumpMs.toFixed(1)} ms | ${p.wallPerDumpMs.toFixed(1)} ms | ${perKey.toFixed(2)} µs | ${(perKey / ((base.cpuPerDumpMs * 1000) / base.keys)).toFixed(2)}x | ${p.peakRssMiB.toFixed(0)} MiB | ${p.outputMiB.toFixed(1)} MiB`,
  );
}
const colors: Record<DumpKind, string> = { count: '#1f77b4', hist: '#d62728' };
const line = (field: 'cpuPerDumpMs' | 'peakRssMiB') =>
  (['count', 'hist'] as const).map((kind) => ({
    name: `${kind}()`,
    color: colors[kind],
    points: points.filter((p) => p.kind === kind).map((p) => [p.keys, p[field]] as [number, number]),
  }));
writeFileSync(
  chartPath,
  svgChart(
    [
      { title: 'CPU time per dump (ms)', yLabel: 'ms', series: line('cpuPerDumpMs') },
      { title: 'Peak RSS (MiB)', yLabel: 'MiB', series: line('peakRssMiB') },
    ],
    'keys in the map',
  ),
);
console.log(`chart: ${chartPath}`);
