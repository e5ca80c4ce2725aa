import { mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKtraceError } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTraceSpec, parseDuration, parseTraceSpec } from './trace-spec.js';

function specError(input: unknown): { code: string; message: string } {
  try {
    parseTraceSpec(input);
  } catch (error) {
    if (isKtraceError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected the spec to be rejected');
}

describe('parseTraceSpec', () => {
  it('resolves an inline program with defaults', () => {
    const spec = parseTraceSpec({ program: 'profile:hz:99 { @s[comm] = count(); }' });
    expect(spec.program).toBe('profile:hz:99 { @s[comm] = count(); }');
    expect(spec.intervalMillis).toBe(1000);
    expect(spec.target).toBe('local');
    expect(spec.bpftrace.flags).toEqual([]);
  });

  it('reads durations, maps, limits, allowed env and flags', () => {
    const spec = parseTraceSpec({
      program: 'x',
      interval: '500ms',
      maps: { '@lat': { kind: 'hist', unit: 'ns', labels: ['comm'] } },
      limits: { maxSeriesPerMap: 10, maxOutputBytesPerSecond: 1000 },
      bpftrace: { env: { BPFTRACE_STRLEN: 128 }, flags: ['-k'] },
      metrics: { listen: '127.0.0.1:0', prefix: 'bt', otlpInterval: '10s' },
    });
    expect(spec.intervalMillis).toBe(500);
    expect(spec.maps).toEqual({ '@lat': { kind: 'hist', unit: 'ns', labels: ['comm'] } });
    expect(spec.limits.maxSeriesPerMap).toBe(10);
    expect(spec.limits.maxOutputBytesPerSecond).toBe(1000);
    expect(spec.bpftrace.env).toEqual({ BPFTRACE_STRLEN: '128' });
    expect(spec.metrics).toEqual({ listen: '127.0.0.1:0', prefix: 'bt', otlpIntervalMillis: 10_000 });
  });

  it('rejects a duration below 1ms and rounds to whole milliseconds (bpftrace runs interval:ms:N with an integer N)', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(2.5)).toBe(3);
    expect(() => parseDuration('0.4ms', '--interval')).toThrow(
      '--interval: expected a duration such as 500ms, 1s, 10m or 1h, got "0.4ms" (shorter than 1ms, the smallest interval bpftrace can run)',
    );
    expect(specError({ program: 'x', interval: 0.2 }).message).toContain(
      'spec.interval: expected a duration such as 500ms, 1s, 10m or 1h, got 0.2',
    );
  });

  it('keeps metrics.listen: false, so a command line does not add its default port', () => {
    expect(parseTraceSpec({ program: 'x', metrics: { listen: false } }).metrics).toEqual({ listen: false });
  });

  it('names the bad field and what is expected', () => {
    expect(specError({ program: 'x', interval: 'soon' })).toEqual({
      code: 'KTRACE_BAD_SPEC',
      message: expect.stringContaining('spec.interval: expected a duration such as 500ms, 1s, 10m or 1h'),
    });
    expect(specError({ program: 'x', maps: { '@a': { kind: 'histogram' } } }).message).toContain(
      'spec.maps["@a"].kind',
    );
    expect(specError({ program: 'x', maps: { lat: {} } }).message).toContain('expected a map name such as @syscalls');
    expect(specError({ program: 'x', metrics: { listen: 'nine' } }).message).toContain(
      'spec.metrics.listen: expected host:port',
    );
    expect(specError({ program: 'x', colour: 'red' }).message).toContain('spec: unknown field "colour"');
    expect(specError({ program: 'x', metrics: { otlpEndpoint: 'localhost:4318' } }).message).toContain(
      'spec.metrics.otlpEndpoint: expected an http(s) URL such as http://127.0.0.1:4318/v1/metrics',
    );
  });

  it('allows only safe bpftrace flags and env', () => {
    expect(specError({ program: 'x', bpftrace: { flags: ['-c', '/bin/sh'] } }).message).toContain(
      'spec.bpftrace.flags[0]',
    );
    expect(specError({ program: 'x', bpftrace: { env: { LD_PRELOAD: '/x.so' } } }).message).toContain(
      'spec.bpftrace.env',
    );
  });

  it('requires exactly one program source, and rejects kubernetes for now', () => {
    expect(specError({}).message).toContain('a program is required');
    expect(specError({ program: 'a', programFile: 'b.bt' }).message).toContain('either program or programFile');
    expect(specError({ program: 'x', target: 'kubernetes' }).message).toContain('kubernetes is not supported yet');
  });
});

describe('loadTraceSpec', () => {
  it('reads YAML and resolves programFile next to the spec', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-spec-'));
    writeFileSync(join(dir, 'p.bt'), 'profile:hz:99 { @s = count(); }\n');
    writeFileSync(join(dir, 'trace.yaml'), 'programFile: p.bt\ninterval: 2s\n');
    const spec = loadTraceSpec(join(dir, 'trace.yaml'));
    expect(spec.program).toBe('profile:hz:99 { @s = count(); }\n');
    expect(spec.programSource).toBe(join(dir, 'p.bt'));
    expect(spec.intervalMillis).toBe(2000);
  });

  it('says which file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-spec-'));
    writeFileSync(join(dir, 'trace.yaml'), 'programFile: missing.bt\n');
    expect(() => loadTraceSpec(join(dir, 'trace.yaml'))).toThrow(
      /trace\.yaml: spec\.programFile: cannot read .*missing\.bt \(ENOENT\)/,
    );
    writeFileSync(join(dir, 'bad.yaml'), 'program: [unclosed\n');
    expect(() => loadTraceSpec(join(dir, 'bad.yaml'))).toThrow(/bad\.yaml is not valid YAML/);
  });

  it('loads every spec in examples/, and every example program has its spec', () => {
    const dir = join(import.meta.dirname, '../../../examples');
    const files = readdirSync(dir);
    const specs = files.filter((f) => f.endsWith('.yaml'));
    expect(specs.length).toBeGreaterThanOrEqual(8);
    for (const name of specs) {
      const spec = loadTraceSpec(join(dir, name));
      expect(spec.program.length, name).toBeGreaterThan(0);
      expect(Object.keys(spec.maps).length, name).toBeGreaterThan(0);
    }
    for (const program of files.filter((f) => f.endsWith('.bt')))
      expect(specs, program).toContain(program.replace(/\.bt$/, '.yaml'));
  });
});

describe('what a spec may make ktrace read and run', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-runner-spec-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bpftrace.path: the binary is chosen by whoever starts ktrace, not by the spec', () => {
    expect(specError({ program: 'x', bpftrace: { path: './evil.sh' } })).toEqual({
      code: 'KTRACE_BAD_SPEC',
      message:
        'spec.bpftrace.path: a spec cannot choose the bpftrace binary (it runs as root); whoever starts ktrace chooses it: ktrace run --bpftrace PATH, or startTrace({ bpftrace: PATH }) in the SDK',
    });
  });

  it('reads only a .bt program as programFile, and never echoes another file (/proc/self/environ, a root-only file)', () => {
    process.env['KTRACE_TEST_SECRET'] = 'do-not-echo-7f3a';
    const environ = specError({ programFile: '/proc/self/environ' });
    expect(environ.code).toBe('KTRACE_BAD_SPEC');
    expect(environ.message).toMatch(
      /^spec\.programFile: \/proc\/self\/environ \(\/proc\/\d+\/environ\) is not a \.bt file; a spec's programFile names a bpftrace program file ending in \.bt$/,
    );
    const dir = tempDir();
    writeFileSync(join(dir, 'secret.txt'), 'root-password-line\n', { mode: 0o600 });
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'looks-like.bt'));
    for (const file of ['secret.txt', 'looks-like.bt']) {
      const error = specError({ programFile: join(dir, file) });
      expect(error.message, file).toContain('is not a .bt file');
      expect(error.message, file).not.toContain('root-password-line');
    }
    symlinkSync('/proc/self/environ', join(dir, 'environ.bt'));
    const viaLink = specError({ programFile: join(dir, 'environ.bt') });
    expect(viaLink.message).toContain('is not a .bt file');
    expect(viaLink.message).not.toContain('do-not-echo-7f3a');
  });

  it('refuses a program with a NUL byte, naming where it is, not what it says', () => {
    expect(specError({ program: 'BEGIN { @a = count(); }\n// x\u0000y' }).message).toBe(
      'spec.program: the program contains a NUL byte (line 2, column 5); a bpftrace program is text',
    );
    const dir = tempDir();
    writeFileSync(join(dir, 'nul.bt'), 'BEGIN { printf("secret\0"); }\n');
    expect(specError({ programFile: join(dir, 'nul.bt') }).message).toBe(
      `spec.programFile ${join(dir, 'nul.bt')}: the program contains a NUL byte (line 1, column 23); a bpftrace program is text`,
    );
  });

  it('bounds what it reads: a spec of 100 MB or /dev/zero is refused after 1 MiB, as is a program over 1 MiB', () => {
    const dir = tempDir();
    const huge = join(dir, 'huge.yaml');
    writeFileSync(huge, '');
    truncateSync(huge, 100 * 1024 * 1024);
    expect(() => loadTraceSpec(huge)).toThrow(
      `trace spec: cannot read ${huge} (larger than 1 MiB, the most ktrace reads)`,
    );
    expect(() => loadTraceSpec('/dev/zero')).toThrow(
      'trace spec: cannot read /dev/zero (larger than 1 MiB, the most ktrace reads)',
    );
    expect(specError({ program: `// ${'x'.repeat(1024 * 1024)}\nBEGIN { }` }).message).toBe(
      'spec.program: the program is larger than 1 MiB, the most ktrace runs',
    );
  });

  it('takes expireAfterDumps: 0 as never (as documented)', () => {
    expect(parseTraceSpec({ program: 'x', limits: { expireAfterDumps: 0 } }).limits.expireAfterDumps).toBe(0);
    expect(specError({ program: 'x', limits: { expireAfterDumps: -1 } }).message).toContain(
      'spec.limits.expireAfterDumps',
    );
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m, h', () => {
    expect([
      parseDuration('250ms'),
      parseDuration('1s'),
      parseDuration('10m'),
      parseDuration('1h'),
      parseDuration('1.5s'),
    ]).toEqual([250, 1000, 600_000, 3_600_000, 1500]);
    expect(() => parseDuration('0s', '--interval')).toThrow('--interval: expected a duration');
  });
});
