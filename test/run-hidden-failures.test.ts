// Failures `ktrace run` must not hide (the built CLI, the real bpftrace): every terminating signal takes the SIGINT
// path, a signal during start-up leaves nothing behind, OTLP trouble is said and bounded, a probe that attaches
// nothing fails, a stopped bpftrace shows in /healthz, a transient EMFILE is retried, and inputs that used to crash
// (a program over 128 KiB, a NUL byte, /dev/zero, EPIPE) get one line.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { CLI, requireBuiltCli, startKtrace, startRun } from './support/ktrace-process.js';
import type { KtraceProcess } from './support/ktrace-process.js';
import { alive, descendants } from './support/proc-tree.js';
import { namedBinary, ping, readsFromStdin, uniqueName, waitAttached } from './support/workload.js';
import { latestValue, startOtlpHttpReceiver } from './support/otlp-receiver.js';
import type { OtlpReceiver } from './support/otlp-receiver.js';

let receivers: OtlpReceiver[] = [];
let dirs: string[] = [];

/** A temporary directory removed after the test. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const receiver of receivers) await receiver.close();
  receivers = [];
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function errorLine(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.startsWith('ktrace: '))
    .join('\n');
}

function lastLog(ktrace: KtraceProcess): Record<string, unknown> | undefined {
  return ktrace.logs().at(-1);
}

const SAMPLES = 'profile:hz:99 { @samples = count(); }';

/** `text` as a RegExp source that matches it literally. */
function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('ktrace run hides no failure', () => {
  it('SIGHUP, SIGQUIT and SIGUSR2 take the SIGINT path: the final dump is exported, bpftrace is not left attached, exit 0', async () => {
    for (const signal of ['SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const) {
      const name = uniqueName('kts');
      const pinger = ping();
      const dd = namedBinary('/bin/dd', name);
      const receiver = await startOtlpHttpReceiver();
      receivers.push(receiver);
      // An interval of an hour: only the exit-time dump can carry the count.
      const program = `tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }\n${pinger.probe}`;
      const ktrace = await startRun(program, { interval: '1h', args: ['--otlp-endpoint', receiver.endpoint] });
      await waitAttached(ktrace, pinger);
      await readsFromStdin(dd, 321);
      const bpftrace = descendants(ktrace.child.pid ?? 0);
      expect(bpftrace, signal).toHaveLength(1);
      expect(await ktrace.stop(signal), signal).toEqual({ code: 0, signal: null });
      expect(
        ktrace
          .logs()
          .some((l) => l['msg'] === `received ${signal}; stopping bpftrace with SIGINT to export its final dump`),
        signal,
      ).toBe(true);
      expect(latestValue(receiver.exports(), 'bpftrace_reads', 'comm', name), signal).toBe(321);
      expect(bpftrace.filter(alive), signal).toEqual([]);
    }
  });

  it('a signal during start-up (while bpftrace checks the program) leaves no bpftrace and no temporary file', async () => {
    const dir = tempDir('ktrace-runner-startup-');
    const privateTmp = mkdtempSync(join(dir, 'tmp-'));
    const marker = join(dir, 'checking');
    // The real bpftrace; its dry run (--emit-elf) announces itself and takes a while, so the signal lands in it.
    const wrapper = join(dir, 'bpftrace-slow-check');
    writeFileSync(
      wrapper,
      ['#!/bin/sh', `case " $* " in *" --emit-elf "*) : > ${marker}; sleep 2;; esac`, 'exec bpftrace "$@"', ''].join(
        '\n',
      ),
      { mode: 0o755 },
    );
    const ktrace = await startRun(SAMPLES, { bpftrace: wrapper, env: { ...process.env, TMPDIR: privateTmp } });
    await ktrace.waitFor(
      () => (readdirSync(dir).includes('checking') ? true : undefined),
      'the program check to begin',
    );
    const checking = descendants(ktrace.child.pid ?? 0, 'sleep');
    expect(await ktrace.stop('SIGHUP')).toEqual({ code: 0, signal: null });
    expect(ktrace.logs().some((l) => l['msg'] === 'received SIGHUP while starting; bpftrace will not be started')).toBe(
      true,
    );
    expect(ktrace.logs().some((l) => l['msg'] === 'bpftrace started')).toBe(false);
    expect(checking.filter(alive)).toEqual([]);
    expect(descendants(ktrace.child.pid ?? 0)).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  it('an unreachable OTLP collector: warned once with the URL and error, counted, said again when it recovers, and the last line says the final dump arrived', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1/metrics`;
    const dir = tempDir('ktrace-runner-otlp-');
    const spec = join(dir, 'trace.yaml');
    writeFileSync(
      spec,
      `program: "profile:hz:99 { @samples = count(); }"\nmetrics:\n  otlpEndpoint: ${url}\n  otlpInterval: 500ms\n`,
    );
    const ktrace = startKtrace(['run', '--spec', spec, '--listen', `127.0.0.1:${await freePort()}`]);
    const failed = await ktrace.waitForLog(new RegExp(`^OTLP export to ${escaped(url)} failed: `));
    expect(String(failed['msg'])).toContain('ECONNREFUSED');
    await ktrace.waitForSample(
      { name: 'ktrace_otlp_export_failures_total' },
      (v) => v >= 2,
      'two failed pushes counted',
    );
    expect(ktrace.logs().filter((l) => String(l['msg']).startsWith('OTLP export to')).length).toBe(1);

    const receiver = await startOtlpHttpReceiver(port);
    receivers.push(receiver);
    await ktrace.waitForLog(`OTLP export to ${url} works again`);
    expect((await ktrace.stop()).code).toBe(0);
    expect(lastLog(ktrace)?.['msg']).toBe(`trace stopped; the final dump reached the OTLP collector at ${url}`);
    expect(receiver.exports().length).toBeGreaterThan(0);
  });

  it('a collector that is gone at stop: the final flush is bounded and the last line says the final dump did not arrive', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1/metrics`;
    const ktrace = await startRun(SAMPLES, { listen: true, args: ['--otlp-endpoint', url] });
    await ktrace.waitForSample({ name: 'bpftrace_samples_total' }, () => true, 'a first dump', 60_000);
    const stopAt = Date.now();
    expect((await ktrace.stop()).code).toBe(0);
    // Bounded: before, an unreachable collector stalled the stop for 18 s; now the flush has 5 s in all.
    expect(Date.now() - stopAt).toBeLessThan(12_000);
    expect(String(lastLog(ktrace)?.['msg'])).toMatch(
      new RegExp(`^trace stopped; the final dump did not reach the OTLP collector at ${escaped(url)}: `),
    );
    expect(lastLog(ktrace)?.['otlp']).toBe('not delivered');
  });

  it('a probe that attaches nothing fails as bpftrace alone does, naming the probe, exit 2', async () => {
    const ktrace = await startRun('uprobe:/bin/bash:no_such_fn { @calls = count(); }');
    const { code } = await ktrace.exited;
    expect(code).toBe(2);
    expect(errorLine(ktrace.output())).toMatch(
      /^ktrace: bpftrace (attached none of the program's probes \(uprobe:\/bin\/bash:no_such_fn\)|could not attach the program's probes)/,
    );
    expect(ktrace.output()).toContain('no_such_fn');
  });

  it('a stopped bpftrace (SIGSTOP) shows in /healthz, in ktrace_up and in a true message; SIGCONT brings it back', async () => {
    const ktrace = await startRun(SAMPLES, { interval: '200ms', listen: true });
    const listen = ktrace.listen as string;
    await ktrace.waitForSample({ name: 'bpftrace_samples_total' }, () => true, 'a first dump', 60_000);
    const [pid] = descendants(ktrace.child.pid ?? 0);
    expect(pid).toBeDefined();
    process.kill(pid ?? 0, 'SIGSTOP');
    try {
      const healthz = await ktrace.waitFor(
        async () => {
          const response = await fetch(`http://${listen}/healthz`);
          return response.status === 503 ? response.text() : undefined;
        },
        '/healthz to say 503',
        30_000,
      );
      expect(healthz).toMatch(
        new RegExp(
          `^stalled: bpftrace \\(pid ${pid}\\) is stopped \\(SIGSTOP or a debugger\\) and has printed no map for \\d+ s`,
        ),
      );
      expect(await ktrace.sample('ktrace_up')).toBe(0);
      const warning = ktrace.logs().find((l) => String(l['msg']).startsWith(`bpftrace (pid ${pid}) is stopped`));
      expect(warning?.['level']).toBe('warn');
      expect(ktrace.logs().some((l) => String(l['msg']).includes('are still empty'))).toBe(false);
    } finally {
      process.kill(pid ?? 0, 'SIGCONT');
    }
    await ktrace.waitFor(
      async () => ((await fetch(`http://${listen}/healthz`)).status === 200 ? true : undefined),
      '/healthz 200 again',
      30_000,
    );
    expect(await ktrace.sample('ktrace_up')).toBe(1);
    expect((await ktrace.stop()).code).toBe(0);
  });

  it('a transient spawn failure (EMFILE) is retried, not reported as "bpftrace not found"', async () => {
    const ktrace = await startRun(SAMPLES, { interval: '200ms', listen: true });
    await ktrace.waitForSample({ name: 'bpftrace_samples_total' }, () => true, 'a first dump', 60_000);
    const pid = ktrace.child.pid ?? 0;
    const [first] = descendants(pid);
    // No new file descriptor for ktrace: the restart cannot create bpftrace's pipes.
    // (only the soft limit: raising a hard limit again may not be allowed here).
    const open = readdirSync(`/proc/${pid}/fd`).length;
    const hard = /^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? '1024';
    expect(spawnSync('prlimit', ['--pid', String(pid), `--nofile=${open}:`]).status).toBe(0);
    try {
      process.kill(first ?? 0, 'SIGKILL');
      await ktrace.waitForLog(/EMFILE[\s\S]*; retrying$/);
    } finally {
      expect(spawnSync('prlimit', ['--pid', String(pid), `--nofile=${hard}:`]).status).toBe(0);
    }
    await ktrace.waitFor(
      () => (descendants(pid).length === 1 && descendants(pid)[0] !== first ? true : undefined),
      'a new bpftrace',
    );
    await ktrace.waitForSample({ name: 'ktrace_up' }, (v) => v === 1, 'ktrace_up 1 after the retry', 60_000);
    expect(ktrace.output()).not.toContain('not found');
    expect((await ktrace.stop()).code).toBe(0);
  });

  it('runs a program over 128 KiB (the argv limit), and refuses a NUL byte and -f /dev/zero in one line, exit 2', async () => {
    const dir = tempDir('ktrace-runner-big-');
    const big = join(dir, 'big.bt');
    // 200 KiB: comments, then one real probe; a single argv string may not exceed 128 KiB.
    writeFileSync(
      big,
      `${'// padding padding padding padding padding padding padding padding\n'.repeat(3100)}profile:hz:99 { @samples = count(); }\n`,
    );
    const ran = startKtrace(['run', '-f', big, '--no-listen', '--duration', '3s']);
    expect((await ran.exited).code).toBe(0);
    expect(ran.logs().some((l) => String(l['msg']).startsWith('trace stopped') && Number(l['samples']) > 0)).toBe(true);

    const nul = join(dir, 'nul.bt');
    writeFileSync(nul, 'profile:hz:99 { @samples = count(); }\n// \0\n');
    const refused = startKtrace(['run', '-f', nul, '--no-listen']);
    expect((await refused.exited).code).toBe(2);
    expect(errorLine(refused.output())).toBe(
      `ktrace: -f ${nul}: the program contains a NUL byte (line 2, column 4); a bpftrace program is text`,
    );

    const zero = startKtrace(['run', '-f', '/dev/zero', '--no-listen']);
    expect((await zero.exited).code).toBe(2);
    expect(errorLine(zero.output())).toBe(
      'ktrace: -f /dev/zero: cannot read /dev/zero (larger than 1 MiB, the most ktrace reads)',
    );
  });

  it('a spec that names a bpftrace binary is refused, exit 2, and the binary never runs', async () => {
    const dir = tempDir('ktrace-runner-evil-');
    const evil = join(dir, 'evil.sh');
    const ran = join(dir, 'ran');
    writeFileSync(evil, `#!/bin/sh\n: > ${ran}\nexec bpftrace "$@"\n`, { mode: 0o755 });
    const spec = join(dir, 'trace.yaml');
    writeFileSync(spec, `program: "profile:hz:99 { @samples = count(); }"\nbpftrace:\n  path: ${evil}\n`);
    const ktrace = startKtrace(['run', '--spec', spec, '--no-listen']);
    expect((await ktrace.exited).code).toBe(2);
    expect(errorLine(ktrace.output())).toContain('spec.bpftrace.path: a spec cannot choose the bpftrace binary');
    expect(readdirSync(dir)).not.toContain('ran');
  });

  it('`ktrace export … | head` ends quietly (EPIPE), with no stack trace', async () => {
    requireBuiltCli();
    const lines = Array.from({ length: 20_000 }, (_, i) => `@calls[${i}]: ${i + 1}`).join('\n');
    const dir = tempDir('ktrace-runner-epipe-');
    const input = join(dir, 'dump.txt');
    writeFileSync(input, `Attaching 1 probe...\n\n${lines}\n\n`);
    // With the program, @calls is exported: an exposition of 20 000 series, far more than head reads.
    const program = join(dir, 'calls.bt');
    writeFileSync(program, 'BEGIN { @calls[1] = count(); }\n');
    const shell = spawn('bash', ['-c', `set -o pipefail; node ${CLI} export --program ${program} ${input} | head -1`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    shell.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));
    expect(stdout.split('\n')).toHaveLength(2);
    expect(stderr).not.toContain('    at ');
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
