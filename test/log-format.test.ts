// One log format across the long-running commands: JSON lines when stderr is not a terminal (what a log collector
// reads), readable `ktrace: …` lines with --log-format text (what a terminal gets by default).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cluster.js';
import { scrape, startKtrace } from './support/ktrace-process.js';
import type { KtraceProcess } from './support/ktrace-process.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dumpFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-log-format-'));
  dirs.push(dir);
  const file = join(dir, 'dump.txt');
  writeFileSync(file, '@x: 3\n');
  return file;
}

function exportServing(extra: string[]): KtraceProcess {
  return startKtrace(['export', '--listen', '127.0.0.1:0', ...extra, dumpFile()]);
}

describe('ktrace export logs', () => {
  it('writes JSON lines when stderr is not a terminal: time, level, msg and fields a collector can query', async () => {
    const ktrace = exportServing([]);
    const serving = await ktrace.waitForLog('serving', 30_000);
    expect(serving).toMatchObject({
      level: 'info',
      metrics: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/),
    });
    expect(Number.isNaN(Date.parse(String(serving['time'])))).toBe(false);
    await ktrace.waitForLog(/^end of input/);
    expect(ktrace.logs().find((l) => l['level'] === 'warn')?.['msg']).toMatch(/^map @x is not exported/);
    // every line of stderr is such a record
    expect(
      ktrace
        .output()
        .trim()
        .split('\n')
        .every((line) => line.startsWith('{"time":')),
    ).toBe(true);
    expect(await scrape(new URL(String(serving['metrics'])).host)).toMatch(/^ktrace_up 0$/m); // input ended
  });

  it('writes readable lines with --log-format text', async () => {
    const ktrace = exportServing(['--log-format', 'text']);
    await ktrace.waitFor(() => (ktrace.output().includes('end of input') ? true : undefined), 'end of input', 30_000);
    const lines = ktrace.output().trim().split('\n');
    expect(lines[0]).toMatch(/^ktrace: serving metrics=http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(lines).toContain('ktrace: end of input; still serving the final state until SIGINT/SIGTERM');
    expect(lines.find((l) => l.startsWith('ktrace: warning: map @x is not exported'))).toBeDefined();
  });
});

describe('--log-format', () => {
  it.each([['parse'], ['export'], ['run', '-e', 'BEGIN { exit(); }'], ['agent', '--node-name', 'n1']])(
    'ktrace %s refuses an unknown format with one line and exit 2',
    async (...command) => {
      const r = await runCli([...command, '--log-format', 'xml'], { HOME: tmpdir() });
      expect([r.code, r.stderr]).toEqual([2, 'ktrace: --log-format must be auto, json or text, not "xml"\n']);
    },
  );

  it('ktrace run --log-format text logs readable lines, bpftrace running for real', async () => {
    const r = await runCli(['run', '--log-format', 'text', '--no-view', '-e', 'BEGIN { @x = count(); exit(); }'], {
      HOME: tmpdir(),
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.every((l) => l.startsWith('ktrace: '))).toBe(true);
    expect(lines.find((l) => l.startsWith('ktrace: ktrace running '))).toMatch(/ maps=\["@x"\]/);
  });
});
