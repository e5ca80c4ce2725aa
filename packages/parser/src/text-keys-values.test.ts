// How the text reader reads keys, values and kinds: without the program (what text alone can tell), with it
// (arity, types, kinds), structs, tuples, stacks and string keys that hold newlines.
import { describe, expect, it } from 'vitest';
import { JsonFormatReader } from './json-format.js';
import { readProgram } from './program.js';
import { fixture, maps, read } from './text-format.test-support.js';

describe('without the program', () => {
  it('cannot tell count from sum from avg: every integer map is `value`; stats and histograms are recognised', () => {
    const f = fixture('0.17/scalar-aggs');
    const samples = maps(read(f.text));
    expect(samples.map((s) => [s.name, s.kind])).toEqual([
      ['@a', 'value'],
      ['@big', 'value'],
      ['@c', 'value'],
      ['@mn', 'value'],
      ['@mx', 'value'],
      ['@s', 'value'],
      ['@st', 'stats'],
    ]);
    const h = maps(read(fixture('0.17/lhist').text));
    expect(h.map((s) => [s.name, s.kind])).toEqual([
      ['@klh', 'lhist'],
      ['@lh', 'lhist'],
      ['@lk', 'lhist'],
      ['@lm', 'lhist'],
      ['@wide', 'lhist'],
    ]);
    const g = maps(read(fixture('0.17/hist').text));
    expect(g.map((s) => [s.name, s.kind])).toEqual([
      ['@big', 'hist'],
      ['@h', 'hist'],
      ['@kh', 'hist'],
    ]);
  });

  it('splits keys on ", " and turns integer parts into numbers (a string with ", " splits: only the program can tell)', () => {
    const samples = maps(read('@m[comm, x, 1]: 3\n@m[y, -2]: 5\n'));
    expect(samples).toEqual([
      {
        type: 'map',
        name: '@m',
        kind: 'value',
        entries: [
          { key: ['comm', 'x', 1], value: 3 },
          { key: ['y', -2], value: 5 },
        ],
      },
    ]);
  });

  it('reads `@x: ` followed by a non-bucket line as an empty string, and a bucket line as a histogram', () => {
    expect(maps(read('@s: \n@t: 1\n'))).toEqual([
      { type: 'map', name: '@s', kind: 'value', entries: [{ key: [], value: '' }] },
      { type: 'map', name: '@t', kind: 'value', entries: [{ key: [], value: 1 }] },
    ]);
    // At the end of the output too, after the print() of another map or of the same one.
    expect(maps(read('@a: 1\n@s: '))).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }] },
      { type: 'map', name: '@s', kind: 'value', entries: [{ key: [], value: '' }] },
    ]);
    expect(maps(read('@s[1]: 5\n@s[2]: ')).map((s) => s.entries)).toEqual([
      [{ key: [1], value: 5 }],
      [{ key: [2], value: '' }],
    ]);
    expect(maps(read('@h: \n[0]                    1 |@@@@|\n\n'))).toEqual([
      { type: 'map', name: '@h', kind: 'hist', entries: [{ key: [], buckets: [{ min: 0, max: 0, count: 1 }] }] },
    ]);
  });
});

describe('with the program', () => {
  const program = readProgram(
    'BEGIN { @x[comm, pid] = count(); @y[str(arg0), 5, str(arg1)] = sum(1); @h[comm] = lhist(1, 0, 10, 1); }',
  );

  it('splits the int off the right of `comm, pid` even when comm contains ", "', () => {
    const events = read('@x[a, b, 42]: 3\n@x[plain, 7]: 4\n', program);
    expect(events).toEqual([
      {
        type: 'map',
        name: '@x',
        kind: 'count',
        entries: [
          { key: ['a, b', 42], value: 3 },
          { key: ['plain', 7], value: 4 },
        ],
      },
    ]);
  });

  it('gives the extra pieces to the last string position when two strings could take them', () => {
    expect(maps(read('@y[a, b, 5, c, d]: 1\n', program))[0]?.entries[0]?.key).toEqual(['a, b', 5, 'c, d']);
    expect(maps(read('@y[a, 5, b, c]: 1\n', program))[0]?.entries[0]?.key).toEqual(['a', 5, 'b, c']);
  });

  it('takes the kind from the program (step-1 lhist `[5, 6)` stays lhist)', () => {
    const events = read('@h[sh]: \n[5, 6)                 1 |@@@@|\n\n', program);
    expect(events).toEqual([
      { type: 'map', name: '@h', kind: 'lhist', entries: [{ key: ['sh'], buckets: [{ min: 5, max: 5, count: 1 }] }] },
    ]);
  });

  it('reports a value that does not fit the program kind, and keeps the rest of the map', () => {
    const events = read('@x[sh, 1]: 2\n@x[sh, 2]: lots\n@x[sh, 3]: 9\n', program);
    expect(events).toEqual([
      {
        type: 'map',
        name: '@x',
        kind: 'count',
        entries: [
          { key: ['sh', 1], value: 2 },
          { key: ['sh', 3], value: 9 },
        ],
      },
      {
        type: 'problem',
        line: 2,
        text: '@x[sh, 2]: lots',
        reason: expect.stringContaining('@x is a count() map in the program but its value is not an integer'),
      },
    ]);
  });
});

describe('keys and values text alone can still read', () => {
  it('keeps a struct or tuple key part whole (0.22+ prints `{ .m = 2, .n = 3 }`)', () => {
    const events = read('@s[{ .m = 2, .n = 3 }, 7]: 1\n@s[(1, -2), x]: 2\n');
    expect(maps(events)[0]?.entries.map((e) => e.key)).toEqual([
      ['{ .m = 2, .n = 3 }', 7],
      ['(1, -2)', 'x'],
    ]);
  });

  it('reads tuples of two or more elements as arrays, and `(sd-pam)` as the string it is', () => {
    const events = read('@t[1]: (1, -2, three)\n@t[2]: (0, )\n@u[3]: (sd-pam)\n');
    expect(maps(events).map((s) => s.entries.map((e) => e.value))).toEqual([
      [
        [1, -2, 'three'],
        [0, ''],
      ],
      ['(sd-pam)'],
    ]);
  });

  it('does not read a 0.24+ tseries() graph as a histogram: one problem, then its lines as text', () => {
    // tests/runtime/outputs/tseries.txt at v0.26.0 (first lines).
    const graph = [
      '@a:',
      '             8                                                  10',
      'hh:mm:ss.ms  |___________________________________________________|',
      '%H:00:00.500 |                         *                         | 9',
    ];
    const events = read(`@c: 1\n${graph.join('\n')}\n`);
    expect(events[0]).toEqual({ type: 'map', name: '@c', kind: 'value', entries: [{ key: [], value: 1 }] });
    expect(events[1]).toEqual({
      type: 'problem',
      line: 2,
      text: '@a:',
      reason: expect.stringContaining('not tseries() graphs'),
    });
    expect(events.slice(2)).toEqual(graph.slice(1).map((text) => ({ type: 'text', source: 'printf', text })));
  });
});

describe('stacks', () => {
  it('folds a stack key to its frames joined by "\\n", without indentation; @ks[] is an empty key', () => {
    const f = fixture('0.17/stacks-profile');
    const samples = maps(read(f.text, f.program));
    const ks = samples.find((s) => s.name === '@ks');
    expect(ks?.entries.map((e) => e.key)).toEqual([
      ['pvm_irq_enable+25\n__raw_callee_save_pvm_irq_enable+17\ndo_syscall_64+69'],
      ['damon_pa_batch_lock+39\ndamon_pa_check_accesses+414\nkdamond_fn+1715'],
      [''],
    ]);
    expect(samples.find((s) => s.name === '@us')?.entries[0]?.key).toEqual(['0x558c1a32aab4', 'sha1sum']);
  });

  it('splits the 0.17 separator-less ksym/kstack values into their entries', () => {
    const f = fixture('0.17/stacks-profile');
    const samples = maps(read(f.text, f.program));
    expect(samples.find((s) => s.name === '@lastsym')?.entries).toEqual([
      { key: [0], value: '0x558c1a32a7bd' },
      { key: [1], value: 'damon_pa_batch_lock' },
    ]);
    expect(samples.find((s) => s.name === '@laststack')?.entries).toEqual([
      { key: [0], value: '' },
      { key: [1], value: 'damon_pa_batch_lock+39\ndamon_pa_check_accesses+414' },
    ]);
  });

  it('keeps a stack whole when a frame contains ", " (C++ symbols)', () => {
    const events = read('@k[\n        foo(int, char)+5\n        bar+1\n, sh]: 2\n');
    expect(maps(events)[0]?.entries[0]?.key).toEqual(['foo(int, char)+5\nbar+1', 'sh']);
  });
});

describe('string keys with a newline (a comm or str() can hold one)', () => {
  // Real bpftrace 0.17 output of BEGIN { @m["nl\nq", "[1]"] = count(); @m["nl\nq", "[1]"] = count(); @m["a]: b", "c, d"] = count(); exit(); }
  // and its -f json twin, which reads {"nl\nq", "[1]"}: 2.
  const program = readProgram(
    'BEGIN { @m["nl\\nq", "[1]"] = count(); @m["nl\\nq", "[1]"] = count(); @m["a]: b", "c, d"] = count(); exit(); }',
  );
  const text = 'Attaching 1 probe...\n\n\n@m[a]: b, c, d]: 1\n@m[nl\nq, [1]]: 2\n';
  const json =
    '{"type": "attached_probes", "data": {"probes": 1}}\n\n\n{"type": "map", "data": {"@m": {"a]: b,c, d": 1, "nl\\nq,[1]": 2}}}\n';

  it('reads the entry as the JSON output does, and loses no count', () => {
    const fromText = maps(read(text, program));
    expect(fromText).toEqual(maps(read(json, program, JsonFormatReader)));
    expect(fromText[0]?.entries).toContainEqual({ key: ['nl\nq', '[1]'], value: 2 });
  });

  it('leaves printf lines that only start like such a key as text', () => {
    const events = read('@m[ is not a key\nplain text\n@m[a]: b, c, d]: 1\n', program);
    expect(events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text)).toEqual([
      '@m[ is not a key',
      'plain text',
    ]);
    expect(maps(events)[0]?.entries).toEqual([{ key: ['a]: b', 'c, d'], value: 1 }]);
    expect(read('@m[ unclosed\nat the end\n', program).map((e) => (e as { text: string }).text)).toEqual([
      '@m[ unclosed',
      'at the end',
    ]);
  });
});
