// The series caps as flags: `ktrace export --max-series-per-map N --max-series N` keeps a 100k-key map whole
// where the default (50 000 per map) folds it, and a bad count is one line and exit 2 on export, run and agent.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli } from './support/ktrace-process.js';

const cli = requireBuiltCli();
const KEYS = 100_000;

function ktrace(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

// One print() of a count map keyed by pid, as bpftrace -f json writes it.
const entries = Array.from({ length: KEYS }, (_, i) => `"${i + 1}": ${i + 1}`).join(', ');
const dump = `{"type": "map", "data": {"@calls": {${entries}}}}\n`;
// The program that printed it: count() is what makes @calls a counter (JSON alone cannot tell).
const dir = mkdtempSync(join(tmpdir(), 'ktrace-caps-'));
const program = join(dir, 'calls.bt');
writeFileSync(program, 'tracepoint:raw_syscalls:sys_enter { @calls[pid] = count(); }\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function series(text: string): { keys: number; total: number; overflow: boolean } {
  let keys = 0;
  let total = 0;
  let overflow = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('bpftrace_calls_total{')) continue;
    if (line.includes('otel_metric_overflow="true"')) overflow = true;
    else keys++;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { keys, total, overflow };
}

describe('series caps on the command line', () => {
  const exact = (KEYS * (KEYS + 1)) / 2;

  it('the default per-map cap folds a 100k-key map into an overflow series, keeping the total', async () => {
    const run = await ktrace(['export', '--format', 'json', '--program', program], dump);
    expect(run.code, run.stderr).toBe(0);
    const got = series(run.stdout);
    expect(got.overflow).toBe(true);
    expect(got.keys).toBeLessThan(KEYS);
    expect(got.total).toBe(exact);
  });

  it('--max-series-per-map and --max-series raise it: every key is its own series', async () => {
    const run = await ktrace(
      ['export', '--format', 'json', '--program', program, '--max-series-per-map', '200000', '--max-series', '300000'],
      dump,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(series(run.stdout)).toEqual({ keys: KEYS, total: exact, overflow: false });
  });

  it.each([
    ['export', '--max-series-per-map', '0'],
    ['export', '--max-series', '1.5'],
    ['run', '-e', 'BEGIN { exit(); }', '--max-series-per-map', 'many'],
    ['agent', '--node-name', 'n1', '--max-series-per-trace', '-3'],
  ])('ktrace %s … %s %s is refused with one line and exit 2', async (...args) => {
    const [flag, value] = args.slice(-2);
    const run = await ktrace(args);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `ktrace: ${flag ?? ''} must be a whole number of series (1 or more), not "${value ?? ''}"`,
    ]);
  });
});
