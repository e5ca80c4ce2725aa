// `ktrace export` as a whole process: 5 -f json dumps of a 100k-key count map in, the final exposition out, against
// two baselines run the same way in the same run, interleaved, median of RUNS: JSON.parse + prom-client (the library
// a Node exporter would use) and plain node (JSON.parse and string building). Wall time, CPU time and peak RSS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { programOf, writeDumps } from './support/json-dumps.js';
import { median, runNode } from './support/whole-process.js';
import type { ProcessRun } from './support/whole-process.js';

const KEYS = 100_000;
const DUMPS = 5;
const RUNS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const ktrace = join(here, '..', 'packages', 'cli', 'bin', 'ktrace.js');

const dir = mkdtempSync(join(tmpdir(), 'ktrace-bench-export-'));
try {
  const input = join(dir, 'dumps.json');
  writeDumps(input, 'count', KEYS, DUMPS);
  const program = join(dir, 'count.bt');
  writeFileSync(program, programOf('count'));
  const cases: Array<{ name: string; args: string[] }> = [
    { name: 'plain node (JSON.parse + strings)', args: [join(here, 'support', 'plain-export.mjs')] },
    { name: 'JSON.parse + prom-client', args: [join(here, 'support', 'prom-client-export.mjs')] },
    {
      name: 'ktrace export',
      args: [
        ktrace,
        'export',
        '--program',
        program,
        '--max-series-per-map',
        String(2 * KEYS),
        '--max-series',
        String(2 * KEYS),
      ],
    },
  ];
  const runs = new Map<string, ProcessRun[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const c of cases) {
      const output = join(dir, `${c.name.split(' ')[0] ?? 'out'}.prom`);
      const run = runNode(c.args, input, output);
      const lines = readFileSync(output, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('bpftrace_m_total{')).length;
      if (lines !== KEYS) throw new Error(`${c.name} printed ${lines} series, not ${KEYS}`);
      runs.get(c.name)?.push(run);
    }
  }
  const stat = (name: string, field: keyof ProcessRun): number => median((runs.get(name) ?? []).map((r) => r[field]));
  console.log(
    `ktrace export: ${DUMPS} -f json dumps of a ${KEYS.toLocaleString('en')}-key count map, whole processes, median of ${RUNS}`,
  );
  console.log('process | wall | CPU | peak RSS | wall vs prom-client | wall vs plain node');
  for (const c of cases) {
    const wall = stat(c.name, 'wallMs');
    console.log(
      `${c.name} | ${wall.toFixed(0)} ms | ${stat(c.name, 'cpuMs').toFixed(0)} ms | ${stat(c.name, 'peakRssMiB').toFixed(0)} MiB | ${(wall / stat(cases[1]?.name ?? '', 'wallMs')).toFixed(2)}x | ${(wall / stat(cases[0]?.name ?? '', 'wallMs')).toFixed(2)}x`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
