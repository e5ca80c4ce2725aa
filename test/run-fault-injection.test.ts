// Fault injection with the real bpftrace: a run under load (a process reading as fast as it can) takes seeded,
// bounded faults at random moments — SIGKILL, SIGSTOP/SIGCONT, SIGHUP, SIGTERM of bpftrace. After each, the exported
// counter equals what bpftrace itself printed (the sum over its runs of each run's last dump, its exit-time dump
// included), read from a copy of bpftrace's own stdout; /healthz said 503 while bpftrace was down or stopped, and 200
// once it printed again. Set KTRACE_FAULT_SEED to replay a run.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTrace } from '@ktrace/core';
import type { LogRecord, TraceHandle } from '@ktrace/core';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import { readProgram } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from './support/prng.js';
import { eventually, sampleValue } from './support/ktrace-process.js';
import { descendants } from './support/proc-tree.js';
import { namedBinary, uniqueName } from './support/workload.js';

const FAULTS = 30;
const faultKinds = ['SIGKILL', 'SIGSTOP', 'SIGHUP', 'SIGTERM'] as const;
type Fault = (typeof faultKinds)[number];

/** What bpftrace printed, run by run: the sum of each run's last value of the map (a run starts at attached_probes). */
function printedTotal(log: string, map: string): number {
  let total = 0;
  let current: number | undefined;
  for (const line of log.split('\n')) {
    if (line.startsWith('{"type": "attached_probes"')) {
      total += current ?? 0;
      current = undefined;
      continue;
    }
    if (!line.startsWith('{"type": "map"')) continue;
    try {
      const event = JSON.parse(line) as { data: Record<string, unknown> };
      const value = event.data[map];
      if (typeof value === 'number') current = value;
    } catch {
      // A line cut by SIGKILL: bpftrace never finished printing it, and ktrace cannot have read it either.
    }
  }
  return total + (current ?? 0);
}

let trace: TraceHandle | undefined;
let exporter: Exporter | undefined;
let load: ChildProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  load?.kill('SIGKILL');
  load = undefined;
  await trace?.stop().catch(() => undefined);
  trace = undefined;
  await exporter?.shutdown();
  exporter = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('fault injection (real bpftrace, seeded)', () => {
  it(`after each of ${FAULTS} faults under load, the exported count equals what bpftrace printed, and /healthz told the truth`, async () => {
    if (!existsSync('/usr/bin/bpftrace')) throw new Error('this test runs the real bpftrace: apt-get install bpftrace');
    const seed = Number(process.env['KTRACE_FAULT_SEED'] ?? 20_261_202);
    const random = prng(seed);
    dir = mkdtempSync(join(tmpdir(), 'ktrace-runner-faults-'));
    const log = join(dir, 'bpftrace-stdout.log');
    // The real bpftrace, its stdout copied to a log; `exec` keeps bpftrace's pid the one ktrace started.
    const wrapper = join(dir, 'bpftrace-tee');
    writeFileSync(wrapper, `#!/bin/bash\nexec /usr/bin/bpftrace "$@" > >(exec tee -a ${log})\n`, { mode: 0o755 });
    writeFileSync(log, '');

    const name = uniqueName('ktl');
    const reader = namedBinary('/bin/dd', name);
    const program = `tracepoint:syscalls:sys_enter_read /comm == "${name}"/ { @reads = count(); }`;
    exporter = createExporter({ program: readProgram(program), listen: '127.0.0.1:0', onWarning: () => undefined });
    const { url } = await exporter.start();
    const logs: LogRecord[] = [];
    trace = await startTrace({
      spec: { program, interval: '200ms' },
      bpftrace: wrapper,
      exporter,
      restartDelayMillis: 100,
      maxRestartDelayMillis: 400,
      maxFailedStarts: 50,
      onLog: (record) => logs.push(record),
    });
    const current = trace;
    const debug = (): string =>
      `seed ${seed}\n${logs
        .slice(-15)
        .map((l) => JSON.stringify(l))
        .join('\n')}`;

    // /healthz sampled all along, with what it said and when.
    const health: Array<{ at: number; status: number; body: string }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const response = await fetch(`${url}/healthz`);
          health.push({ at: Date.now(), status: response.status, body: await response.text() });
        } catch {
          // the server is busy: the next sample tells
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const healthSince = (t: number): typeof health => health.filter((h) => h.at >= t);

    const exported = async (): Promise<number> =>
      sampleValue(await exporter!.prometheusText(), 'bpftrace_reads_total') ?? 0;
    const bpftracePid = (): number | undefined =>
      current.status().state === 'running' ? current.status().pid : undefined;
    /** bpftrace runs, has printed since `t`, exports what it printed, and /healthz says 200. */
    const settled = async (t: number, what: string): Promise<void> => {
      await eventually(
        async () => {
          const status = current.status();
          if (status.state !== 'running' || status.stalled !== undefined || (status.lastDumpAt ?? 0) <= t)
            return undefined;
          const printed = printedTotal(readFileSync(log, 'utf8'), '@reads');
          if ((await exported()) !== printed) return undefined;
          const last = health.at(-1);
          return last !== undefined && last.at > (status.lastDumpAt ?? 0) && last.status === 200 ? true : undefined;
        },
        what,
        60_000,
        debug,
      );
    };

    await settled(0, 'the first dump');
    const counts: Record<Fault, number> = { SIGKILL: 0, SIGSTOP: 0, SIGHUP: 0, SIGTERM: 0 };
    for (let i = 0; i < FAULTS; i++) {
      const fault = faultKinds[Math.floor(random() * faultKinds.length)] ?? 'SIGKILL';
      counts[fault]++;
      // Load: a reader as fast as it can go, for the whole fault.
      load = spawn(reader, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=1000000000', 'status=none'], {
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 900)));
      const pid = bpftracePid();
      expect(pid, `fault ${i} (${fault}): a running bpftrace\n${debug()}`).toBeDefined();
      const at = Date.now();
      if (fault === 'SIGSTOP') {
        process.kill(pid ?? 0, 'SIGSTOP');
        const stalled = await eventually(
          () => healthSince(at).find((h) => h.status === 503),
          `fault ${i}: /healthz 503 while bpftrace is stopped`,
          30_000,
          debug,
        );
        expect(stalled.body, `fault ${i}`).toContain(`stalled: bpftrace (pid ${pid}) is stopped`);
        process.kill(pid ?? 0, 'SIGCONT');
      } else {
        process.kill(pid ?? 0, fault);
        await eventually(
          () => (current.status().pid !== pid && current.status().state === 'running' ? true : undefined),
          `fault ${i} (${fault}): a new bpftrace`,
          60_000,
          debug,
        );
        // Between the death and the new run's attach, /healthz said so.
        expect(
          healthSince(at).some((h) => h.status === 503 && h.body.startsWith('bpftrace is not running')),
          `fault ${i} (${fault}): /healthz 503 while down\n${debug()}`,
        ).toBe(true);
      }
      load.kill('SIGKILL');
      await new Promise((r) => load?.once('close', r));
      load = undefined;
      await settled(Date.now(), `fault ${i} (${fault}): the exported count to equal what bpftrace printed`);
    }

    // The last stop: SIGINT, the exit-time dump exported, nothing of bpftrace left.
    const last = descendants(process.pid);
    await current.stop();
    trace = undefined;
    expect(await exported()).toBe(printedTotal(readFileSync(log, 'utf8'), '@reads'));
    expect(await exported()).toBeGreaterThan(0);
    expect(descendants(process.pid).filter((p) => last.includes(p))).toEqual([]);
    const restarts = sampleValue(await exporter.prometheusText(), 'ktrace_bpftrace_restarts_total');
    expect(restarts).toBe(counts.SIGKILL + counts.SIGHUP + counts.SIGTERM);
    sampling = false;
    await sampler;
    // Every kind of fault happened (the seed is fixed; a change of the draw must keep this true).
    expect(
      Object.values(counts).every((n) => n > 0),
      JSON.stringify(counts),
    ).toBe(true);
  });
});
