// Table-driven over testdata/json/VERSION/NAME.ndjson: real 0.17 captures and hand-written 0.20-0.26 shapes,
// each parsed with its program and compared to NAME.expected.json (reviewed by hand).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProgram } from './program.js';
import { parseOutput } from './stream.js';
import type { MapSample, ParseEvent, ProgramInfo } from './types.js';

const root = join(import.meta.dirname, '..', 'testdata', 'json');
const fixtures = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(root, d.name))
      .filter((f) => f.endsWith('.ndjson'))
      .map((f) => join(d.name, f.slice(0, -'.ndjson'.length))),
  );

function programOf(name: string): ProgramInfo | undefined {
  const bt = join(root, `${name}.bt`);
  return existsSync(bt) ? readProgram(readFileSync(bt, 'utf8')) : undefined;
}

function json(lines: string[], program?: ProgramInfo): ParseEvent[] {
  return parseOutput(`${lines.join('\n')}\n`, { format: 'json', ...(program === undefined ? {} : { program }) });
}

function maps(events: ParseEvent[]): MapSample[] {
  return events.filter((e): e is MapSample => e.type === 'map');
}

describe('JSON fixtures', () => {
  it('has real 0.17 captures and hand-written newer ones, each with program, meta and expected result', () => {
    expect(fixtures.filter((f) => f.startsWith('0.17')).length).toBeGreaterThanOrEqual(8);
    expect(fixtures.filter((f) => !f.startsWith('0.17')).length).toBeGreaterThanOrEqual(3);
    for (const name of fixtures) {
      expect(existsSync(join(root, `${name}.bt`)), `${name}.bt`).toBe(true);
      expect(existsSync(join(root, `${name}.meta.json`)), `${name}.meta.json`).toBe(true);
      expect(existsSync(join(root, `${name}.expected.json`)), `${name}.expected.json`).toBe(true);
    }
  });

  it.each(fixtures)('%s parses to its expected events', (name) => {
    const program = programOf(name);
    const events = parseOutput(
      readFileSync(join(root, `${name}.ndjson`), 'utf8'),
      program === undefined ? {} : { program },
    );
    const expected: unknown = JSON.parse(readFileSync(join(root, `${name}.expected.json`), 'utf8'));
    expect(events).toEqual(expected);
  });

  it.each(fixtures.filter((f) => f.startsWith('0.17')))('%s records bpftrace v0.17 and the command line', (name) => {
    const meta = JSON.parse(readFileSync(join(root, `${name}.meta.json`), 'utf8')) as {
      bpftrace: string;
      command: string;
    };
    expect(meta.bpftrace).toBe('v0.17.0');
    expect(meta.command).toContain(`-f json 0.17/${name.split('/')[1]}.bt`);
  });
});

describe('JSON reader', () => {
  it('repairs the 0.17 [2G, 4G) bucket wherever it is, and takes kinds from the program', () => {
    const program = readProgram('BEGIN { @h = hist(1); @c[comm] = sum(1); }');
    const events = json(
      [
        '{"type": "hist", "data": {"@h": [{"max": -1, "count": 1}, {"min": -2147483648, "max": 0, "count": 2}]}}',
        '{"type": "map", "data": {"@c": {"a": 3}}}',
      ],
      program,
    );
    expect(maps(events).map((m) => [m.kind, m.entries])).toEqual([
      [
        'hist',
        [
          {
            key: [],
            buckets: [
              { min: null, max: -1, count: 1 },
              { min: 2147483648, max: 4294967295, count: 2 },
            ],
          },
        ],
      ],
      ['sum', [{ key: ['a'], value: 3 }]],
    ]);
  });

  it('without a program: map kind value, keys split on "," with integers as numbers, stats vs avg by shape', () => {
    const events = json([
      '{"type": "map", "data": {"@m": {"x,1": 1, "7": 2}}}',
      '{"type": "stats", "data": {"@a": {"k": 5}}}',
      '{"type": "stats", "data": {"@s": {"count": 2, "average": 3, "total": 6}}}',
      '{"type": "hist", "data": {"@l": [{"min": 0, "max": 9, "count": 1}, {"min": 10, "count": 1}]}}',
    ]);
    expect(maps(events).map((m) => [m.name, m.kind, m.entries])).toEqual([
      [
        '@m',
        'value',
        [
          { key: ['x', 1], value: 1 },
          { key: [7], value: 2 },
        ],
      ],
      ['@a', 'avg', [{ key: ['k'], value: 5 }]],
      ['@s', 'stats', [{ key: [], stats: { count: 2, average: 3, total: 6 } }]],
      [
        '@l',
        'lhist',
        [
          {
            key: [],
            buckets: [
              { min: 0, max: 9, count: 1 },
              { min: 10, max: null, count: 1 },
            ],
          },
        ],
      ],
    ]);
  });

  it('without a program: tells hist from lhist by the same bucket rules as the text reader', () => {
    const kinds = json([
      // lhist(x, 0, 100, 10) with two closed buckets: one width, not doubling (the old JSON rule wanted three).
      '{"type": "hist", "data": {"@l2": [{"min": 0, "max": 9, "count": 1}, {"min": 10, "max": 19, "count": 4}]}}',
      // hist(): widths that double.
      '{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}, {"min": 8, "max": 15, "count": 2}]}}',
      // lhist underflow below a non-zero min.
      '{"type": "hist", "data": {"@u": [{"max": 9, "count": 1}, {"min": 10, "max": 19, "count": 1}]}}',
    ]);
    expect(maps(kinds).map((m) => [m.name, m.kind])).toEqual([
      ['@l2', 'lhist'],
      ['@h', 'hist'],
      ['@u', 'lhist'],
    ]);
  });

  it('keeps entries bpftrace printed under the same key (0.17 "a,b" collisions) and in their printed order', () => {
    const events = json(
      ['{"type": "map", "data": {"@m": {"2": 1, "a,b": 1, "a,b": 2, "-1": 3}}}'],
      readProgram('BEGIN { @m[$x] = count(); }'),
    );
    expect(maps(events)[0]?.entries).toEqual([
      { key: [2], value: 1 },
      { key: ['a,b'], value: 1 },
      { key: ['a,b'], value: 2 },
      { key: [-1], value: 3 },
    ]);
  });

  it('gives extra commas to the last string key when two could hold them, and says so once per map', () => {
    const program = readProgram('BEGIN { @m[comm, str(arg0)] = count(); }');
    const line = '{"type": "map", "data": {"@m": {"a,b,c": 1}}}';
    const events = json([line, line], program);
    expect(maps(events).map((m) => m.entries[0]?.key)).toEqual([
      ['a', 'b,c'],
      ['a', 'b,c'],
    ]);
    const problems = events.filter((e) => e.type === 'problem');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 1, reason: expect.stringContaining('map @m: key "a,b,c" has a ","') });
  });

  it('reports a key that does not fit the program, and keeps the entry', () => {
    const events = json(['{"type": "map", "data": {"@m": {"abc": 1}}}'], readProgram('BEGIN { @m[pid] = count(); }'));
    expect(maps(events)[0]?.entries).toEqual([{ key: ['abc'], value: 1 }]);
    expect(events.find((e) => e.type === 'problem')).toMatchObject({
      reason: expect.stringContaining('does not fit the program'),
    });
  });

  it('reads big integers given as strings (0.24+) and sign-extended \\uffffffXX bytes (0.17)', () => {
    const events = json([
      '{"type": "map", "data": {"@u": "18446744073709551615", "@s": "123"}}',
      '{"type": "printf", "data": "na\\uffffffc3\\uffffffafve \\u00e9\\n"}',
    ]);
    expect(maps(events).map((m) => m.entries[0]?.value)).toEqual([2 ** 64, '123']);
    expect(events[2]).toEqual({ type: 'text', source: 'printf', text: 'naïve é\n' });
  });

  it('marks samples after the blank lines of 0.17-0.23 as final, and reports every unreadable line by number', () => {
    const events = parseOutput(
      '{"type": "map", "data": {"@a": 1}}\nnot json\n{"type": "map"\n\n\n{"type": "map", "data": {"@a": 2}}\n',
    );
    expect(events).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }] },
      { type: 'problem', line: 2, text: 'not json', reason: expect.stringContaining('not valid JSON') },
      { type: 'problem', line: 3, text: '{"type": "map"', reason: expect.stringContaining('not valid JSON') },
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 2 }], final: true },
    ]);
  });

  it('folds stack keys like the text reader: frames trimmed, one per line', () => {
    const events = json(
      ['{"type": "map", "data": {"@us": {"\\n    0x1\\n    f+2\\n,node": 1, ",kdamond.0": 4}}}'],
      readProgram('profile:hz:99 { @us[ustack(2), comm] = count(); }'),
    );
    expect(maps(events)[0]?.entries).toEqual([
      { key: ['0x1\nf+2', 'node'], value: 1 },
      { key: ['', 'kdamond.0'], value: 4 },
    ]);
  });

  it('reads members in any order, and reports buckets without a count instead of guessing', () => {
    const events = json([
      '{"data": {"@a": {"k": 1}}, "type": "map"}',
      '{"type": "hist", "data": {"@h": [{"min": 1, "max": 1}, {"min": 2, "max": 3, "count": 4}]}}',
    ]);
    expect(events).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: ['k'], value: 1 }] },
      {
        type: 'problem',
        line: 2,
        text: expect.stringContaining('"@h"'),
        reason: 'map @h: 1 value(s) are not what a "hist" map holds; those entries are skipped',
      },
      { type: 'map', name: '@h', kind: 'hist', entries: [] },
    ]);
  });

  it.each([
    ['no program', undefined],
    ['an int key', 'tracepoint:a:b { @h[pid] = hist(1); }'],
    ['a key of unknown type', 'tracepoint:a:b { @h[@n] = hist(1); }'],
    ['a string key', 'tracepoint:a:b { @h[comm] = hist(1); }'],
  ] as const)('reads keys on the fast path as the general path does (%s)', (_what, source) => {
    const program = source === undefined ? undefined : readProgram(source);
    const keys = ['4010', '-0', '-12', '007', '123456789012345', '12345678901234567', '12a', '', '1,2', '+3', '٣'];
    const entries = keys.map((k, i) => `"${k}": [{"min": 1, "max": 1, "count": ${i + 1}}]`);
    const fast = maps(json([`{"type": "hist", "data": {"@h": {${entries.join(', ')}}}}`], program));
    // a bucket without a count sends the whole line down the general path, which skips just that entry
    const general = maps(
      json([`{"type": "hist", "data": {"@h": {${entries.join(', ')}, "bad": [{"min": 1}]}}}`], program),
    );
    expect(fast[0]?.entries.map((e) => e.key)).toEqual(general[0]?.entries.map((e) => e.key));
    expect(fast[0]?.entries.length).toBe(keys.length);
    if (source === undefined) expect(fast[0]?.entries[1]?.key).toEqual([-0]);
  });
});
