// `ktrace run` as a whole process, as users run it (and as the agent runs each trace): its CPU time per dump of a
// 10k-key map printed every 250ms by the real bpftrace, as a fraction of bpftrace's own CPU time for printing the
// same dumps (the baseline), both from /proc in the same window; median of RUNS windows. No scrapes in the window:
// this is the cost of reading and exporting a dump (core.bench.ts measures a /metrics render). Needs root and the
// built CLI. core.bench.ts measures the same in-process, where tsx's loader thread and the bench's own sample
// reader count too. KTRACE_BENCH_KINDS=hist (or count) runs one kind; KTRACE_BENCH_WINDOW_MS and KTRACE_BENCH_RUNS
// set the windows.
import { readFileSync } from 'node:fs';
import { startKtrace } from '../test/support/ktrace-process.js';
import { descendants } from '../test/support/proc-tree.js';
import { fillProgram } from './support/fill-program.js';

const KEYS = 10_000;
const INTERVAL_MILLIS = 250;
const WINDOW_MILLIS = Number(process.env['KTRACE_BENCH_WINDOW_MS'] ?? 30_000);
const RUNS = Number(process.env['KTRACE_BENCH_RUNS'] ?? 3);
const GOAL = 0.15;
const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat times are in 1/100 s

/** utime + stime of a process (all its threads), in ms. */
function cpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(kind: 'count' | 'hist'): Promise<{ ours: number; theirs: number }> {
  const ktrace = startKtrace(
    [
      'run',
      '-e',
      fillProgram(kind, KEYS),
      '--interval',
      `${INTERVAL_MILLIS}ms`,
      '--no-view',
      '--no-listen',
      '--log-format',
      'json',
      '--max-series-per-map',
      '1000000',
      '--max-series',
      '1000000',
    ],
    { env: { ...process.env, BPFTRACE_MAP_KEYS_MAX: '65536' } },
  );
  try {
    await ktrace.waitForLog('bpftrace attached probes');
    // The map fills in 0.1 s; a few dumps later every dump prints the same 10k keys.
    await sleep(3000);
    const pid = ktrace.child.pid ?? 0;
    const bpftrace = descendants(pid)[0];
    if (bpftrace === undefined) throw new Error(`no bpftrace under ktrace: ${ktrace.tail()}`);
    const ours0 = cpuMillis(pid);
    const theirs0 = cpuMillis(bpftrace);
    await sleep(WINDOW_MILLIS);
    return { ours: cpuMillis(pid) - ours0, theirs: cpuMillis(bpftrace) - theirs0 };
  } finally {
    await ktrace.stop();
  }
}

const dumps = WINDOW_MILLIS / INTERVAL_MILLIS;
console.log(
  `ktrace run, whole process: a ${KEYS.toLocaleString('en')}-key map printed every ${INTERVAL_MILLIS}ms by the real bpftrace; ` +
    `CPU over ${WINDOW_MILLIS / 1000}s windows (about ${dumps} dumps), median of ${RUNS} (goal ≤ ${GOAL}×)`,
);
console.log('map kind | bpftrace CPU per print (baseline) | ktrace CPU per dump | ratio | each window');
let failed = false;
for (const kind of (process.env['KTRACE_BENCH_KINDS'] ?? 'count,hist').split(',') as Array<'count' | 'hist'>) {
  const runs: Array<{ ours: number; theirs: number; ratio: number }> = [];
  for (let i = 0; i < RUNS; i++) {
    const { ours, theirs } = await measure(kind);
    runs.push({ ours, theirs, ratio: ours / theirs });
  }
  runs.sort((a, b) => a.ratio - b.ratio);
  const mid = runs[Math.floor(runs.length / 2)] as { ours: number; theirs: number; ratio: number };
  const ok = mid.ratio <= GOAL;
  if (!ok) failed = true;
  console.log(
    `${kind.padEnd(8)} | ${(mid.theirs / dumps).toFixed(1).padStart(6)} ms | ${(mid.ours / dumps).toFixed(1).padStart(6)} ms | ` +
      `${mid.ratio.toFixed(3)}× ${ok ? 'ok' : 'over the goal'} | ${runs.map((r) => r.ratio.toFixed(3)).join(', ')}`,
  );
}
if (failed) console.log('  over the goal (CPU swings with load: compare runs on an idle machine)');
