// Start-up of the built `ktrace` as whole processes: --version, --help and `parse` of empty input (and a few more
// commands' --help), each as a ratio to `node -e 0` measured in the same run, interleaved, median of RUNS each.
// Needs the built CLI (npm run bench builds it).
import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env['KTRACE_BENCH_RUNS'] ?? 11);
const GOAL = 1.5;
const ktrace = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'cli', 'bin', 'ktrace.js');

interface Case {
  name: string;
  args: string[];
  /** Held to the goal (issue 13); the others are reported. */
  goal: boolean;
}

const baseline: Case = { name: 'node -e 0', args: ['-e', '0'], goal: false };
const cases: Case[] = [
  { name: 'ktrace --version', args: [ktrace, '--version'], goal: true },
  { name: 'ktrace parse </dev/null', args: [ktrace, 'parse'], goal: true },
  { name: 'ktrace --help', args: [ktrace, '--help'], goal: false },
  { name: 'ktrace run --help', args: [ktrace, 'run', '--help'], goal: false },
  { name: 'ktrace export </dev/null', args: [ktrace, 'export'], goal: false },
  { name: 'ktrace export --help', args: [ktrace, 'export', '--help'], goal: false },
  { name: 'ktrace apply --help', args: [ktrace, 'apply', '--help'], goal: false },
];

function timeOnce(c: Case): number {
  const stdin = openSync('/dev/null', 'r');
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, c.args, { stdio: [stdin, 'ignore', 'pipe'] });
  const millis = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${c.name} exited ${run.status}: ${run.stderr.toString()}`);
  return millis;
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

const all = [baseline, ...cases];
const times = new Map<Case, number[]>(all.map((c) => [c, []]));
for (const c of all) timeOnce(c); // warm the file cache
for (let i = 0; i < RUNS; i++) for (const c of all) times.get(c)?.push(timeOnce(c));

const base = median(times.get(baseline) ?? []);
console.log(`start-up, whole processes, median of ${RUNS} interleaved runs each (goal ≤ ${GOAL}× node -e 0)`);
console.log(`  ${baseline.name.padEnd(28)} ${base.toFixed(1).padStart(7)} ms   baseline`);
let missed = 0;
for (const c of cases) {
  const m = median(times.get(c) ?? []);
  const ratio = m / base;
  const verdict = c.goal ? (ratio <= GOAL ? 'ok' : 'over the goal') : 'reported';
  if (c.goal && ratio > GOAL) missed++;
  console.log(`  ${c.name.padEnd(28)} ${m.toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}×   ${verdict}`);
}
if (missed > 0) console.log(`  ${missed} over the goal (timings swing with load: compare runs on an idle machine)`);
