// Whole node processes measured as users run them: wall time from spawn to exit, and the CPU time and peak RSS the
// process reports at exit (usage-on-exit.mjs); stdin from a file, stdout into a file (`output`).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const usageHook = join(dirname(fileURLToPath(import.meta.url)), 'usage-on-exit.mjs');

export interface ProcessRun {
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  stdoutBytes: number;
}

/** Runs `node [--import usage hook] ...args`, stdin from `input`, stdout into `output`; throws with its stderr if it fails. */
export function runNode(args: readonly string[], input: string, output: string): ProcessRun {
  const stdin = openSync(input, 'r');
  const stdout = openSync(output, 'w');
  try {
    const start = performance.now();
    const run = spawnSync(process.execPath, ['--import', usageHook, ...args], {
      stdio: [stdin, stdout, 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const wallMs = performance.now() - start;
    if (run.status !== 0)
      throw new Error(
        `node ${args.join(' ')} exited ${run.status ?? run.signal}: ${String(run.stderr).slice(0, 2000)}`,
      );
    const usage = JSON.parse(String(run.output[3])) as { cpuMs: number; maxRssKiB: number };
    return { wallMs, cpuMs: usage.cpuMs, peakRssMiB: usage.maxRssKiB / 1024, stdoutBytes: statSync(output).size };
  } finally {
    closeSync(stdin);
    closeSync(stdout);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
