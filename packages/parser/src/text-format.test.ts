import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsonFormatReader } from './json-format.js';
import { readProgram } from './program.js';
import { TextFormatReader } from './text-format.js';
import type { FormatReader, FormatReaderOptions } from './format-reader.js';
import type { MapSample, ParseEvent, ProgramInfo } from './types.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata', 'text');

/** bpftrace output as the stream hands it over: one line at a time, no `\n`, numbered from 1. */
function toLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function read(
  text: string,
  program?: ProgramInfo,
  Reader: new (o: FormatReaderOptions) => FormatReader = TextFormatReader,
): ParseEvent[] {
  const events: ParseEvent[] = [];
  const reader = new Reader({ emit: (e) => events.push(e), program });
  toLines(text).forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  return events;
}

const maps = (events: ParseEvent[]): MapSample[] => events.filter((e): e is MapSample => e.type === 'map');

interface Fixture {
  id: string;
  base: string;
  text: string;
  program: ProgramInfo | undefined;
}

function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const version of readdirSync(TESTDATA)
    .filter((d) => /^\d+\.\d+$/.test(d))
    .sort()) {
    for (const file of readdirSync(join(TESTDATA, version))
      .filter((f) => f.endsWith('.txt'))
      .sort()) {
      const base = join(TESTDATA, version, file.slice(0, -4));
      const programPath = `${base}.bt`;
      out.push({
        id: `${version}/${file.slice(0, -4)}`,
        base,
        text: readFileSync(`${base}.txt`, 'utf8'),
        program: existsSync(programPath) ? readProgram(readFileSync(programPath, 'utf8')) : undefined,
      });
    }
  }
  return out;
}

const ALL = fixtures();

describe('text fixtures (0.17 captured here; 0.20–0.26 hand-written from bpftrace source)', () => {
  it('has fixtures for every version the task names', () => {
    const versions = new Set(ALL.map((f) => f.id.split('/')[0]));
    for (const v of ['0.17', '0.20', '0.22', '0.23', '0.24', '0.26']) expect(versions).toContain(v);
    for (const f of ALL) {
      expect(existsSync(`${f.base}.expected.json`), `${f.id}.expected.json`).toBe(true);
      expect(existsSync(`${f.base}.meta.json`), `${f.id}.meta.json`).toBe(true);
      expect(f.program, `${f.id}.bt`).toBeDefined();
    }
  });

  it.each(ALL.map((f) => [f.id, f] as const))('%s parses to its reviewed expected events', (_id, f) => {
    const expected: unknown = JSON.parse(readFileSync(`${f.base}.expected.json`, 'utf8'));
    expect(read(f.text, f.program)).toEqual(expected);
  });

  it.each(ALL.map((f) => [f.id, f] as const))(
    '%s: events come out as soon as they are complete, never change after',
    (_id, f) => {
      const all = read(f.text, f.program);
      const lines = toLines(f.text);
      const seen: string[] = [];
      const reader = new TextFormatReader({ emit: (e) => seen.push(JSON.stringify(e)), program: f.program });
      lines.forEach((line, i) => {
        reader.line(line, i + 1);
        // Whatever was emitted so far is exactly the start of the full run: nothing is retracted or reordered.
        expect(seen).toEqual(all.slice(0, seen.length).map((e) => JSON.stringify(e)));
      });
      reader.end();
      expect(seen).toEqual(all.map((e) => JSON.stringify(e)));
    },
  );

  it.each(ALL.map((f) => [f.id, f] as const))(
    '%s: any two-chunk split of the bytes gives the same events',
    (_id, f) => {
      const bytes = Buffer.from(f.text, 'utf8');
      const whole = read(f.text, f.program);
      // Every split point for small fixtures, a spread of them for big ones.
      const step = Math.max(1, Math.floor(bytes.length / 400));
      for (let at = 0; at <= bytes.length; at += step) {
        const events: ParseEvent[] = [];
        const reader = new TextFormatReader({ emit: (e) => events.push(e), program: f.program });
        feedChunks(reader, [bytes.subarray(0, at), bytes.subarray(at)]);
        expect(events, `split at byte ${at}`).toEqual(whole);
      }
    },
  );
});

/** The smallest line splitter that honours the FormatReader contract (the real one is the stream's). */
function feedChunks(reader: FormatReader, chunks: Buffer[]): void {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;
  for (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      reader.line(pending.slice(0, nl), ++lineNumber);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) reader.line(pending, ++lineNumber);
  reader.end();
}

describe('text and -f json runs of the same 0.17 program give the same samples', () => {
  // Where text is lossy by nature, the difference is listed here with the reason, and asserted as such.
  const lossy: Record<string, { map: string; why: string }[]> = {
    '0.17/keys': [{ map: '@tv', why: 'a tuple value element "y, z" cannot be told from two elements in text' }],
    // Two separate runs: user-space addresses move (ASLR), so the ustack keys differ by nature.
    '0.17/stacks': [{ map: '@us', why: 'ASLR: the text and json runs load sh at different addresses' }],
  };
  // 0.23 and 0.27 captures: fixtures-text-json.test.ts, with each version's own losses.
  const withJson = ALL.filter((f) => f.id.startsWith('0.17/') && existsSync(`${f.base}.json`));

  it('covers every captured program that has a json run', () => {
    expect(withJson.map((f) => f.id).sort()).toEqual(
      [
        'empty-maps',
        'helper-error',
        'hist',
        'keyed-avg-stats',
        'keys',
        'lhist',
        'print-top-div',
        'scalar-aggs',
        'stacks',
        'values',
      ].map((n) => `0.17/${n}`),
    );
  });

  it.each(withJson.map((f) => [f.id, f] as const))('%s', (id, f) => {
    const text = maps(read(f.text, f.program));
    const json = maps(read(readFileSync(`${f.base}.json`, 'utf8'), f.program, JsonFormatReader));
    const skip = new Set((lossy[id] ?? []).map((l) => l.map));
    const keep = (samples: MapSample[]) => samples.filter((s) => !skip.has(s.name));
    expect(text.length).toBe(json.length);
    expect(keep(text)).toEqual(keep(json));
    for (const name of skip) {
      expect(
        text.find((s) => s.name === name),
        `${name} is lossy in text, so it must differ`,
      ).not.toEqual(json.find((s) => s.name === name));
    }
  });
});

describe('without the program', () => {
  it('cannot tell count from sum from avg: every integer map is `value`; stats and histograms are recognised', () => {
    const f = ALL.find((x) => x.id === '0.17/scalar-aggs');
    const samples = maps(read(f?.text ?? ''));
    expect(samples.map((s) => [s.name, s.kind])).toEqual([
      ['@a', 'value'],
      ['@big', 'value'],
      ['@c', 'value'],
      ['@mn', 'value'],
      ['@mx', 'value'],
      ['@s', 'value'],
      ['@st', 'stats'],
    ]);
    const h = maps(read(ALL.find((x) => x.id === '0.17/lhist')?.text ?? ''));
    expect(h.map((s) => [s.name, s.kind])).toEqual([
      ['@klh', 'lhist'],
      ['@lh', 'lhist'],
      ['@lk', 'lhist'],
      ['@lm', 'lhist'],
      ['@wide', 'lhist'],
    ]);
    const g = maps(read(ALL.find((x) => x.id === '0.17/hist')?.text ?? ''));
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

describe('map boundaries and blank lines', () => {
  it('makes one sample per print(): a repeated key or a break in the sort order starts a new one', () => {
    const f = ALL.find((x) => x.id === '0.17/print-top-div');
    const samples = maps(read(f?.text ?? '', f?.program));
    expect(samples.filter((s) => s.name === '@a').map((s) => s.entries.length)).toEqual([4, 2, 4]);
    expect(samples.filter((s) => s.name === '@h').map((s) => s.entries.map((e) => e.key[0]))).toEqual([
      [2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(samples.filter((s) => s.name === '@n').map((s) => s.final === true)).toEqual([false, false, true]);
  });

  it('does not split a min()/max() map that bpftrace sorted as unsigned (negatives last)', () => {
    const events = read('@mn[a]: 1\n@mn[b]: 7\n@mn[c]: -5\n@mn[d]: -3\n@mn[a]: 1\n');
    expect(maps(events).map((s) => s.entries.map((e) => e.value))).toEqual([[1, 7, -5, -3], [1]]);
    // Signed order (a sum map): negatives first; a drop after both orders broke starts a new print().
    const sums = read('@s[a]: -5\n@s[b]: 2\n@s[c]: 9\n@s[d]: -1\n');
    expect(maps(sums).map((s) => s.entries.map((e) => e.value))).toEqual([[-5, 2, 9], [-1]]);
  });

  it('turns no blank line into an event, and marks only the maps after the exit "\\n\\n" final', () => {
    const f = ALL.find((x) => x.id === '0.17/empty-maps');
    const events = read(f?.text ?? '', f?.program);
    expect(events).toEqual([
      { type: 'attached', probes: 1 },
      { type: 'map', name: '@ec', kind: 'count', entries: [{ key: [], value: 0 }], final: true },
      { type: 'map', name: '@marker', kind: 'value', entries: [{ key: [], value: 1 }], final: true },
    ]);
  });

  it('reads attached, lost and printf lines in order between maps', () => {
    const events = read('Attaching 2 probes...\nhello\nLost 15 events\n@c: 1\nLost 1 events\nAttached 3 probes\n');
    expect(events.map((e) => e.type)).toEqual(['attached', 'text', 'lost', 'map', 'lost', 'attached']);
    expect(events[2]).toEqual({ type: 'lost', events: 15 });
    expect(events[5]).toEqual({ type: 'attached', probes: 3 });
  });
});

describe('helper errors (-k/-kk, ≤0.23 prints them on stdout)', () => {
  it('become runtime-error events with line and column; the echoed source line and marker are not text', () => {
    const f = ALL.find((x) => x.id === '0.17/helper-error');
    const events = read(f?.text ?? '', f?.program);
    expect(events.filter((e) => e.type !== 'map')).toEqual([
      { type: 'attached', probes: 1 },
      { type: 'text', source: 'printf', text: 'before' },
      { type: 'runtime-error', message: 'Failed to probe_read_user_str: Bad address (-14)', line: 6, column: 19 },
      { type: 'text', source: 'printf', text: '|' },
    ]);
  });

  it('gives back a held line as text when no marker follows it', () => {
    const events = read(
      'x.bt:3:5-9: WARNING: Failed to map_update_elem: No space left on device (-28)\nnot an echo\nnext\n',
    );
    expect(events).toEqual([
      {
        type: 'runtime-error',
        message: 'Failed to map_update_elem: No space left on device (-28)',
        line: 3,
        column: 5,
      },
      { type: 'text', source: 'printf', text: 'not an echo' },
      { type: 'text', source: 'printf', text: 'next' },
    ]);
    expect(read('a: WARNING: b\n')).toEqual([{ type: 'text', source: 'printf', text: 'a: WARNING: b' }]);
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
    const f = ALL.find((x) => x.id === '0.17/stacks-profile');
    const samples = maps(read(f?.text ?? '', f?.program));
    const ks = samples.find((s) => s.name === '@ks');
    expect(ks?.entries.map((e) => e.key)).toEqual([
      ['pvm_irq_enable+25\n__raw_callee_save_pvm_irq_enable+17\ndo_syscall_64+69'],
      ['damon_pa_batch_lock+39\ndamon_pa_check_accesses+414\nkdamond_fn+1715'],
      [''],
    ]);
    expect(samples.find((s) => s.name === '@us')?.entries[0]?.key).toEqual(['0x558c1a32aab4', 'sha1sum']);
  });

  it('splits the 0.17 separator-less ksym/kstack values into their entries', () => {
    const f = ALL.find((x) => x.id === '0.17/stacks-profile');
    const samples = maps(read(f?.text ?? '', f?.program));
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

describe('truncated and malformed input never throws, keeps what is complete, and names the line', () => {
  it('end() inside a hist block keeps the buckets read and reports the block', () => {
    const events = read('@a: 1\n@h[x]: \n[0]                    1 |@@@@|\n[1]                    2 |@@@@|\n');
    expect(events).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }] },
      {
        type: 'map',
        name: '@h',
        kind: 'hist',
        entries: [
          {
            key: ['x'],
            buckets: [
              { min: 0, max: 0, count: 1 },
              { min: 1, max: 1, count: 2 },
            ],
          },
        ],
      },
      {
        type: 'problem',
        line: 2,
        text: '@h[x]: ',
        reason: expect.stringContaining('the output ended inside the histogram block of @h that starts on line 2'),
      },
    ]);
  });

  it('end() inside a multi-line key reports the key and emits what came before', () => {
    const events = read('@c: 4\n@ks[\n    f1+1\n    f2+2\n');
    expect(events).toEqual([
      { type: 'map', name: '@c', kind: 'value', entries: [{ key: [], value: 4 }] },
      {
        type: 'problem',
        line: 2,
        text: '@ks[\n    f1+1\n    f2+2',
        reason: expect.stringContaining('the output ended inside the multi-line key of @ks that starts on line 2'),
      },
    ]);
  });

  it('a hist block cut by another line keeps its buckets, reports it, and reads the line', () => {
    const events = read('@h: \n[0]                    1 |@@@@|\nhello\n');
    expect(events).toEqual([
      { type: 'map', name: '@h', kind: 'hist', entries: [{ key: [], buckets: [{ min: 0, max: 0, count: 1 }] }] },
      {
        type: 'problem',
        line: 1,
        text: '@h: ',
        reason: expect.stringContaining('was cut by line 3, which is not a bucket line'),
      },
      { type: 'text', source: 'printf', text: 'hello' },
    ]);
  });

  it('every prefix of every fixture parses without throwing, and cut blocks become problems', () => {
    const bucket = /^[[(].*\|.*\|\s*$/;
    const histHeader = /^@\w*(\[.*\])?: ?$/;
    const frame = /^\s+\S/;
    const keyOpen = /^@\w*\[(?!.*\]: ).*$/;
    let cutInside = 0;
    for (const f of ALL) {
      const lines = toLines(f.text);
      for (let n = 0; n <= lines.length; n++) {
        const events = read(lines.slice(0, n).join('\n'), f.program);
        for (const e of events)
          expect(['map', 'text', 'attached', 'lost', 'problem', 'runtime-error']).toContain(e.type);
        // Cut between two lines of one hist block, or inside a multi-line (stack) key: the reader must say so.
        // joined without a final newline, a trailing empty line is no line at all: the cut is before it
        const m = n > 0 && lines[n - 1] === '' ? n - 1 : n;
        const last = lines[m - 1] ?? '';
        const next = lines[m] ?? '';
        /** The line that opened the run of `body` lines ending at the cut. */
        const opener = (body: RegExp): string => {
          let i = m - 1;
          while (i >= 0 && body.test(lines[i] ?? '')) i--;
          return lines[i] ?? '';
        };
        // (a hist block ends at its blank line: a cut just before that line cannot know the block is complete)
        const inHist =
          (bucket.test(last) || histHeader.test(last)) &&
          (bucket.test(next) || next === '') &&
          histHeader.test(opener(bucket));
        const inKey = (frame.test(next) || /^(\]|, )/.test(next)) && keyOpen.test(opener(frame));
        const said = events.some((e) => e.type === 'problem' && e.reason.startsWith('the output ended inside'));
        if (inHist || inKey) cutInside += 1;
        expect(said, `${f.id}: cut after line ${n} (${JSON.stringify(last)} | ${JSON.stringify(next)})`).toBe(
          inHist || inKey,
        );
      }
    }
    expect(cutInside).toBeGreaterThan(20);
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
