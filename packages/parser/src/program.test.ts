// readProgram over testdata/program/*.bt (expected results written by hand), and the errors a bad program gets.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KtraceError } from './errors.js';
import { readProgram } from './program.js';

const dir = join(import.meta.dirname, '..', 'testdata', 'program');
const programs = readdirSync(dir)
  .filter((f) => f.endsWith('.bt'))
  .map((f) => f.slice(0, -3));

function errorOf(source: string): KtraceError {
  try {
    readProgram(source);
  } catch (error) {
    if (error instanceof KtraceError) return error;
    throw error;
  }
  throw new Error('readProgram accepted a bad program');
}

describe('readProgram fixtures', () => {
  it.each(programs)('%s.bt', (name) => {
    const expected: unknown = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), 'utf8'));
    expect(readProgram(readFileSync(join(dir, `${name}.bt`), 'utf8'))).toEqual(expected);
  });
});

describe('readProgram', () => {
  it('reads the maps of a one-liner', () => {
    expect(
      readProgram(
        'tracepoint:syscalls:sys_enter_* { @c[probe, comm] = count(); @h = lhist(args.fd, 0, 100, 10); }',
      ).maps.map((m) => [m.name, m.kind, m.args, m.keyNames]),
    ).toEqual([
      ['@c', 'count', [], ['probe', 'comm']],
      ['@h', 'lhist', [0, 100, 10], []],
    ]);
  });

  it('ignores maps inside strings and comments', () => {
    expect(
      readProgram('BEGIN { printf("@x = count()"); /* @y = hist(1) */ // @z = sum(1)\n @real = sum(2); }').maps.map(
        (m) => m.name,
      ),
    ).toEqual(['@real']);
  });

  it.each([
    ['BEGIN { @x = count(); ', 1, 7, "'{' is never closed"],
    [
      'BEGIN { @x[pid = count(); }',
      1,
      11,
      "'[' is not closed before the '}' at line 1, column 27: add the matching ']'",
    ],
    ['BEGIN {\n  @x = count(); }\n}', 3, 1, "unexpected '}' with nothing open"],
    ['BEGIN {\n  printf("oops);\n}', 2, 10, 'unterminated string'],
    ['BEGIN { @x = count(); }\n/* never closed', 2, 1, 'unterminated /* comment'],
  ])('rejects %j naming line %i, column %i', (source, line, column, what) => {
    const error = errorOf(source);
    expect(error.code).toBe('KTRACE_BAD_PROGRAM');
    expect(error.line).toBe(line);
    expect(error.column).toBe(column);
    expect(error.message).toContain(`program line ${line}, column ${column}: `);
    expect(error.message).toContain(what);
  });

  it('rejects one map given two aggregations, naming both places', () => {
    const error = errorOf('tracepoint:a:b { @m[pid] = count(); }\ntracepoint:a:c { @m[pid] = hist(1); }');
    expect(error.code).toBe('KTRACE_BAD_PROGRAM');
    expect([error.line, error.column]).toEqual([2, 18]);
    expect(error.message).toBe(
      'program line 2, column 18: map @m is assigned count() at line 1, column 18 and hist() here: a map holds one kind of value; use two maps',
    );
  });

  it('takes clear()/zero() as making a map a delta map only outside BEGIN and END', () => {
    const cleared = (source: string): Record<string, boolean> =>
      Object.fromEntries(readProgram(source).maps.map((m) => [m.name, m.cleared]));
    // `END { clear(@m); }` only keeps @m out of the exit-time dump: every print before it is cumulative.
    expect(cleared('interval:ms:100 { @ticks = count(); }\nEND { clear(@ticks); }')).toEqual({ '@ticks': false });
    expect(cleared('BEGIN { zero(@a); } t:a:b { @a = count(); @b = sum(1); } END { print(@b); clear(@b); }')).toEqual({
      '@a': false,
      '@b': false,
    });
    expect(cleared('t:a:b { @a = count(); } interval:s:1 { print(@a); clear(@a); } END { clear(@a); }')).toEqual({
      '@a': true,
    });
    expect(cleared('t:a:b /comm == "END"/ { @a = count(); print(@a); zero(@a); }')).toEqual({ '@a': true });
  });

  it('takes a clear() in a probe that does not print the map as resets of cumulative values, not deltas', () => {
    const modes = (source: string): Record<string, [boolean, boolean | undefined]> =>
      Object.fromEntries(readProgram(source).maps.map((m) => [m.name, [m.cleared, m.clearedApart]]));
    // print every second, clear every minute: each print is the total since the last clear, not a delta.
    expect(modes('t:a:b { @a = count(); } interval:s:1 { print(@a); } interval:s:60 { clear(@a); }')).toEqual({
      '@a': [false, true],
    });
    // cleared and never printed by the program (ktrace prints it): the same.
    expect(modes('t:a:b { @a = count(); } interval:s:5 { zero(@a); }')).toEqual({ '@a': [false, true] });
    // cleared in the probe that prints it, and also in another one: values drop at the other clear.
    expect(modes('t:a:b { @a = count(); } interval:s:1 { print(@a); clear(@a); } interval:s:7 { clear(@a); }')).toEqual(
      { '@a': [false, true] },
    );
    expect(modes('t:a:b { @a = count(); } interval:s:1 { print(@a); clear(@a); }')).toEqual({
      '@a': [true, undefined],
    });
  });

  it('marks a map printed with a top limit as partial, and only such a map', () => {
    const partial = (source: string): Record<string, boolean | undefined> =>
      Object.fromEntries(readProgram(source).maps.map((m) => [m.name, m.partial]));
    expect(
      partial(
        't:a:b { @a = count(); @b = count(); @c = count(); @d = count(); print(@a, 1); print(@b); print(@c, 0, 10); print(@d, $n); }',
      ),
    ).toEqual({
      '@a': true,
      '@b': undefined,
      '@c': undefined,
      '@d': true,
    });
  });

  it('records the div of print(@m, top, div) in a running probe, which the exit-time dump does not apply', () => {
    const divisors = (source: string): Record<string, number | undefined> =>
      Object.fromEntries(readProgram(source).maps.map((m) => [m.name, m.printDivisor]));
    expect(
      divisors(
        't:a:b { @a = count(); @b = sum(1); @c = count(); @d = count(); @e = count(); } interval:s:1 { print(@a, 0, 1000); print(@b, 5, 1); print(@c, 0, $d); print(@d); } END { print(@e, 0, 10); }',
      ),
    ).toEqual({ '@a': 1000, '@b': undefined, '@c': undefined, '@d': undefined, '@e': undefined });
  });

  it('rejects an aggregation mixed with a plain assignment', () => {
    expect(errorOf('BEGIN { @m = sum(1); @m = 5; }').message).toContain(
      'map @m is assigned sum() at line 1, column 9 and a plain assignment here',
    );
  });
});
