// `ktrace export` as a user runs it: real bpftrace piped into the built CLI, and the CLI serving a capture
// on --listen until SIGTERM, on every bpftrace release of support/versions.ts. Needs `nx run @ktrace/cli:build`
// (npm test builds first).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { builtCli, CLI as cli } from './support/ktrace-process.js';
import { freePort } from './support/prometheus.js';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testdata = join(root, 'packages', 'exporter', 'testdata');

function requireTools(): void {
  builtCli();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Runs a shell pipeline (bash, pipefail) to its end. */
async function pipeline(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const shell = spawn('bash', ['-c', `set -o pipefail; ${command}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => shell.on('exit', resolve));
  return { code, stdout, stderr };
}

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'ktrace export of the real bpftrace %s',
  (_name, release) => {
    const BPFTRACE = release.path;
    it('reads real bpftrace -f json from a pipe and prints the final exposition', async () => {
      requireTools();
      // ticks.bt, written so that every release takes it (0.27 types `@i + 1` as int8 and refuses sum(@i)) and no
      // extra tick lands between exit() and the exit dump on a busy machine.
      const dir = mkdtempSync(join(tmpdir(), 'ktrace-ticks-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const program = join(dir, 'ticks.bt');
      writeFileSync(
        program,
        [
          'interval:ms:10 /@i < 30/ {',
          '  @i = @i + 1; $i = (int64)@i;',
          '  @calls[$i % 3] = count(); @bytes["r\\"w", $i % 2] = sum($i); @lat = hist($i); @win = count();',
          '  if ($i % 10 == 0) { print(@calls); print(@bytes); print(@lat); print(@win); clear(@win); }',
          '  if ($i == 30) { exit(); }',
          '}',
        ].join('\n'),
      );
      const { code, stdout, stderr } = await pipeline(
        `${BPFTRACE} -f json ${program} 2>/dev/null | node ${cli} export --program ${program} --bpftrace-version ${release.version}`,
      );
      expect(code, stderr).toBe(0);
      for (const key of ['0', '1', '2']) expect(value(stdout, `bpftrace_calls_total{key0="${key}"}`)).toBe(10);
      expect(value(stdout, 'bpftrace_bytes_total{key0="r\\"w",key1="0"}')).toBe(240);
      expect(value(stdout, 'bpftrace_win_total')).toBe(30);
      expect(value(stdout, 'bpftrace_lat_bucket{le="15"}')).toBe(15);
      expect(value(stdout, 'bpftrace_lat_count')).toBe(30);
      expect(value(stdout, 'ktrace_attached_probes')).toBe(1);
      expect(stdout).toContain('# HELP bpftrace_lat bpftrace map @lat, hist()');
    });
    it('counts a bpftrace restart in the piped input in ktrace_bpftrace_restarts_total, and carries the totals across it', async () => {
      requireTools();
      // BEGIN alone, then exit(): every run prints exactly @n = 3 in its exit-time dump, whatever the machine's load.
      const program = join(mkdtempSync(join(tmpdir(), 'ktrace-restarts-')), 'three.bt');
      writeFileSync(program, 'BEGIN { @n = count(); @n = count(); @n = count(); exit(); }\n');
      // 0.24+ text output says nothing on stdout when bpftrace attaches ("Attaching N probes" went to stderr), so a
      // restart in piped text is invisible there; their JSON still carries attached_probes.
      const formats = ['0.17', '0.23'].includes(release.name) ? ['json', 'text'] : ['json'];
      try {
        for (const format of formats) {
          const run = `${BPFTRACE} ${format === 'json' ? '-f json ' : ''}${program} 2>/dev/null`;
          const { code, stdout, stderr } = await pipeline(
            `{ ${run}; ${run}; } | node ${cli} export --program ${program}`,
          );
          expect(code, stderr).toBe(0);
          expect(value(stdout, 'ktrace_bpftrace_restarts_total'), format).toBe(1);
          expect(value(stdout, 'bpftrace_n_total'), format).toBe(6);
        }
      } finally {
        rmSync(dirname(program), { recursive: true, force: true });
      }
    });
  },
);

// 0.17–0.23 mark the exit-time dump with two blank lines, in JSON too; 0.24+ JSON does not, so nothing in its
// output tells the undivided exit dump from a print(): only the releases that mark it can be divided there.
const markingExitDump = bpftraceReleases().filter((r) => ['0.17', '0.23'].includes(r.name));

describe.each(markingExitDump.map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'ktrace export of the real bpftrace %s exit dump',
  (_name, release) => {
    const BPFTRACE = release.path;
    it('divides the exit-time dump of a map the program prints with print(@m, top, div), as bpftrace divides its periodic prints', async () => {
      requireTools();
      // @ticks and @raw count the same events; only @ticks is printed divided. bpftrace prints both undivided at exit,
      // which the program calls itself (no timer outside: a slow start on a busy machine changes nothing).
      const program =
        'interval:ms:10 { @ticks = count(); @raw = count(); } interval:ms:500 { print(@ticks, 0, 10); print(@raw); } interval:s:2 { exit(); }';
      const { code, stdout, stderr } = await pipeline(
        `${BPFTRACE} -f json -e '${program}' 2>/dev/null | node ${cli} export --program <(echo '${program}')`,
      );
      expect(code, stderr).toBe(0);
      const raw = value(stdout, 'bpftrace_raw_total') ?? 0;
      expect(raw).toBeGreaterThan(100);
      expect(value(stdout, 'bpftrace_ticks_total')).toBe(Math.trunc(raw / 10));
    });
  },
);

describe('ktrace export', () => {
  it('serves --listen after the input ends, until SIGTERM', async () => {
    requireTools();
    const port = await freePort();
    const child = spawn(
      'node',
      [
        cli,
        'export',
        '--program',
        join(testdata, 'ticks.bt'),
        '--listen',
        `127.0.0.1:${port}`,
        join(testdata, 'ticks.txt'),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('end of input')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`export did not reach end of input: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(value(text, 'bpftrace_bytes_total{key0="r\\"w",key1="0"}')).toBe(240);
    expect(value(text, 'bpftrace_st_sum_total')).toBe(465);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('names the address when --listen is taken', async () => {
    requireTools();
    const port = await freePort();
    const first = spawn('node', [cli, 'export', '--listen', `127.0.0.1:${port}`, join(testdata, 'ticks.json')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let firstErr = '';
    first.stderr.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
    const deadline = Date.now() + 20_000;
    while (!firstErr.includes('serving')) {
      if (Date.now() > deadline || first.exitCode !== null) throw new Error(`first export did not start: ${firstErr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const second = spawn('node', [cli, 'export', '--listen', `127.0.0.1:${port}`, join(testdata, 'ticks.json')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
    first.kill('SIGTERM');
    await new Promise((resolve) => first.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
  });
});
