// @ktrace/core: ktrace's CPU time per exported dump of a 10k-key map, as a fraction of bpftrace's own CPU time for
// printing that dump (the baseline, measured in the same run from /proc/PID/stat), and the memory held per series.
// Real bpftrace, real startTrace (parser + exporter in this process); needs root. In-process, the CPU counted
// includes tsx's loader thread and this bench's own sample reader: the whole process users run is
// run-process.bench.ts, which holds the goal.
import { readFileSync } from 'node:fs';
import { startTrace } from '@ktrace/core';
import type { TraceHandle } from '@ktrace/core';
import { fillProgram } from './support/fill-program.js';

const KEYS = 10_000;
const DUMPS = 40;
const INTERVAL = '250ms';
const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat times are in 1/100 s

function bpftraceCpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after "(comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function ourCpuMillis(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

interface Result {
  kind: string;
  dumps: number;
  oursPerDump: number;
  bpftracePerDump: number;
  bytesPerSeries: number;
  series: number;
  renderPerScrape: number;
}

async function measure(kind: 'count' | 'hist'): Promise<Result> {
  const before = heapUsed();
  let handle: TraceHandle | undefined;
  handle = await startTrace({
    spec: {
      program: fillProgram(kind, KEYS),
      interval: INTERVAL,
      include: ['@m'],
      bpftrace: { env: { BPFTRACE_MAP_KEYS_MAX: 65_536 } },
      limits: { maxSeriesPerMap: 1_000_000, maxSeries: 1_000_000 },
    },
    onLog: (r) => {
      if (r.level === 'error') console.error(r.msg);
    },
  });
  const samples = handle.samples();
  // Wait until the map is full: from then on every dump prints the same 10k keys.
  for (;;) {
    const next = await samples.next();
    if (next.done === true) throw new Error(`bpftrace stopped: ${handle.status().error ?? ''}`);
    if (next.value.entries.length >= KEYS) break;
  }
  const pid = handle.status().pid;
  if (pid === undefined) throw new Error('bpftrace is not running');
  const ours0 = ourCpuMillis();
  const theirs0 = bpftraceCpuMillis(pid);
  let dumps = 0;
  while (dumps < DUMPS) {
    const next = await samples.next();
    if (next.done === true) throw new Error('bpftrace stopped');
    if (next.value.entries.length !== KEYS) throw new Error(`dump with ${next.value.entries.length} keys`);
    dumps++;
  }
  const ours = ourCpuMillis() - ours0;
  const theirs = bpftraceCpuMillis(pid) - theirs0;
  const render0 = ourCpuMillis();
  let text = '';
  for (let i = 0; i < 5; i++) text = await handle.exporter.prometheusText();
  const renderPerScrape = (ourCpuMillis() - render0) / 5;
  const series = text.split('\n').filter((l) => l.startsWith('bpftrace_m')).length;
  const held = heapUsed() - before;
  await samples.return?.();
  await handle.stop();
  handle = undefined;
  return {
    kind,
    dumps,
    oursPerDump: ours / dumps,
    bpftracePerDump: theirs / dumps,
    bytesPerSeries: held / KEYS,
    series,
    renderPerScrape,
  };
}

const results: Result[] = [];
for (const kind of ['count', 'hist'] as const) results.push(await measure(kind));

console.log(
  `@ktrace/core: ${KEYS.toLocaleString('en')}-key map printed every ${INTERVAL} by the real bpftrace, ${DUMPS} dumps measured`,
);
console.log(
  'map kind | bpftrace CPU per print (baseline) | ktrace CPU per dump (parse + export) | ratio | ktrace CPU per /metrics render | heap held per map key | exposition lines',
);
for (const r of results) {
  console.log(
    `${r.kind.padEnd(8)} | ${r.bpftracePerDump.toFixed(1).padStart(8)} ms | ${r.oursPerDump.toFixed(1).padStart(8)} ms | ${(r.oursPerDump / r.bpftracePerDump).toFixed(2)}x | ${r.renderPerScrape.toFixed(1)} ms | ${Math.round(r.bytesPerSeries)} B | ${r.series}`,
  );
}
