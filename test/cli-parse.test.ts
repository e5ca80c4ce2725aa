// `ktrace parse` as a user runs it: the built CLI as a process, fixtures in, NDJSON out, warnings and exit codes.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtCli } from './support/ktrace-process.js';

const repo = join(import.meta.dirname, '..');
const json017 = join(repo, 'packages', 'parser', 'testdata', 'json', '0.17');
const text017 = join(repo, 'packages', 'parser', 'testdata', 'text', '0.17');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function ktrace(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: repo });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let main: string;
beforeAll(() => {
  main = builtCli();
});

describe('ktrace parse', () => {
  it('turns a JSON capture into NDJSON, one object per event, with kinds and keys from --program', async () => {
    const r = await ktrace(['parse', '--program', join(json017, 'keyed-maps.bt'), join(json017, 'keyed-maps.ndjson')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = records(r.stdout);
    expect(out[0]).toEqual({ type: 'attached', probes: 1 });
    expect(out.find((e) => e['name'] === '@multi')).toEqual({
      type: 'map',
      name: '@multi',
      kind: 'count',
      entries: [
        { key: ['x', 1], value: 1 },
        { key: ['a, b', 7], value: 1 },
        { key: ['y', -2], value: 2 },
      ],
      final: true,
    });
    expect(out.find((e) => e['name'] === '@stk')).toMatchObject({
      kind: 'stats',
      entries: [{ key: ['s2', 2], stats: { count: 1, average: -5, total: -5 } }, { key: ['s1', 1] }],
    });
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(out.length);
  });

  it('reads text output from stdin', async () => {
    const r = await ktrace(
      ['parse', '--program', join(text017, 'scalar-aggs.bt')],
      readFileSync(join(text017, 'scalar-aggs.txt'), 'utf8'),
    );
    expect(r.status).toBe(0);
    const byName = new Map(
      records(r.stdout)
        .filter((e) => e['type'] === 'map')
        .map((e) => [e['name'], e]),
    );
    expect(byName.get('@c')).toEqual({
      type: 'map',
      name: '@c',
      kind: 'count',
      entries: [{ key: [], value: 3 }],
      final: true,
    });
    expect(byName.get('@st')).toMatchObject({
      kind: 'stats',
      entries: [{ key: [], stats: { count: 3, average: 3, total: 11 } }],
    });
  });

  it('keeps what it can read from malformed input, logs a warning naming each bad line, exits 0', async () => {
    const r = await ktrace(['parse', join(json017, 'invalid-json.ndjson')]);
    expect(r.status).toBe(0);
    // stderr is not a terminal: JSON log lines, as run, export and agent write them
    const warnings = records(r.stderr);
    expect(warnings.map((w) => [w['level'], typeof w['time']])).toEqual([
      ['warn', 'string'],
      ['warn', 'string'],
    ]);
    expect(warnings[0]?.['msg']).toMatch(/^line 3: not valid JSON /);
    expect(warnings[0]?.['input']).toMatch(/04:45/);
    expect(warnings[1]?.['msg']).toMatch(/^line 4: not valid JSON /);
    expect(warnings[1]?.['input']).toMatch(/No such file or directory/);
    expect(records(r.stdout).map((e) => e['type'])).toEqual(['attached', 'text', 'map']);
    // --log-format text: the readable lines a terminal gets
    const text = await ktrace(['parse', '--log-format', 'text', join(json017, 'invalid-json.ndjson')]);
    expect(text.stderr).toMatch(/^ktrace: warning: line 3: not valid JSON .* input=".*04:45.*"$/m);
    expect(text.stderr.trim().split('\n')).toHaveLength(2);
    const bad = await ktrace(['parse', '--log-format', 'xml', join(json017, 'invalid-json.ndjson')]);
    expect([bad.status, bad.stderr]).toEqual([2, 'ktrace: --log-format must be auto, json or text, not "xml"\n']);
  });

  it('fails with exit 2 and a clear message for a missing file', async () => {
    const r = await ktrace(['parse', '/nonexistent/out.txt']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'ktrace: cannot read bpftrace output file "/nonexistent/out.txt": no such file. Give a file bpftrace wrote (bpftrace ... > out.txt), or pipe its output to stdin.\n',
    );
  });

  it('fails with exit 2 for a bad program, naming its line and column, and for an unknown format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-parse-'));
    const bt = join(dir, 'bad.bt');
    writeFileSync(bt, 'BEGIN {\n  @x = count(;\n}\n');
    const r = await ktrace(['parse', '--program', bt, join(json017, 'scalar-aggs.ndjson')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `${bt}: program line 2, column 13: '(' is not closed before the '}' at line 3, column 1`,
    );
    const f = await ktrace(['parse', '--format', 'xml', join(json017, 'scalar-aggs.ndjson')]);
    expect(f.status).toBe(2);
    expect(f.stderr).toBe('ktrace: --format must be auto, text or json, not "xml"\n');
  });

  it('streams: a record comes out while stdin is still open', async () => {
    const child = spawn(process.execPath, [main, 'parse', '--format', 'json'], { cwd: repo });
    let stdout = '';
    const first = new Promise<string>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout);
      });
    });
    child.stdin.write('{"type": "map", "data": {"@a": 1}}\n');
    expect(JSON.parse((await first).split('\n')[0] ?? '')).toEqual({
      type: 'map',
      name: '@a',
      kind: 'value',
      entries: [{ key: [], value: 1 }],
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end('{"type": "map", "data": {"@a": 2}}\n');
    expect(await closed).toBe(0);
    expect(records(stdout).map((e) => (e['entries'] as Array<{ value: number }>)[0]?.value)).toEqual([1, 2]);
  });
});

describe('--max-line-bytes (parse, export, run)', () => {
  const long = `{"type": "map", "data": {"@a": ${'1'.repeat(300)}}}\n{"type": "map", "data": {"@a": 5}}\n`;

  it('parse: a longer line is reported with the limit and skipped; the next line is read', async () => {
    const r = await ktrace(['parse', '--max-line-bytes', '200'], long);
    expect(r.status).toBe(0);
    expect(records(r.stderr)[0]?.['msg']).toMatch(
      /^line 1: line longer than 200 characters without a newline: dropped/,
    );
    expect(records(r.stdout)).toEqual([{ type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 5 }] }]);
  });

  it('export: the dropped line is counted in ktrace_output_lines_dropped_total and warned with the option to raise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-exactness-'));
    const program = join(dir, 'a.bt');
    writeFileSync(program, 'interval:s:1 { @a = count(); }\n');
    const r = await ktrace(
      ['export', '--program', program, '--max-line-bytes', '1KiB'],
      long.replace('1'.repeat(300), '1'.repeat(2000)),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ktrace_output_lines_dropped_total 1$/m);
    expect(r.stdout).toMatch(/^bpftrace_a_total 5$/m);
    expect(r.stderr).toContain('line longer than 1024 characters');
    expect(r.stderr).toContain('--max-line-bytes');
  });

  it('parse, export and run refuse a size that is not one, with exit 2', async () => {
    for (const command of [['parse'], ['export'], ['run', '-e', 'interval:s:1 { @a = count(); }']]) {
      const r = await ktrace([...command, '--max-line-bytes', 'lots']);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--max-line-bytes must be a size such as 67108864, 64MiB or 1GiB, not "lots"');
    }
  });
});
