// The streaming contract: chunks split anywhere give the same events as the whole output, for every fixture
// of both formats; format detection, line numbers, UTF-8 decoding and over-long lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProgram } from './program.js';
import { OutputParser, parseOutput } from './stream.js';
import type { OutputParserOptions } from './stream.js';
import type { ParseEvent, ProgramInfo } from './types.js';
import { prng } from '../../../test/support/prng.js';

const testdata = join(import.meta.dirname, '..', 'testdata');

interface Fixture {
  name: string;
  bytes: Uint8Array;
  program: ProgramInfo | undefined;
}

function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const [format, ext] of [
    ['json', '.ndjson'],
    ['text', '.txt'],
  ] as const) {
    const dir = join(testdata, format);
    if (!existsSync(dir)) continue;
    for (const version of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const file of readdirSync(join(dir, version.name)).filter((f) => f.endsWith(ext))) {
        const base = join(dir, version.name, file.slice(0, -ext.length));
        out.push({
          name: `${format}/${version.name}/${file}`,
          bytes: readFileSync(`${base}${ext}`),
          program: existsSync(`${base}.bt`) ? readProgram(readFileSync(`${base}.bt`, 'utf8')) : undefined,
        });
      }
    }
  }
  return out;
}

function run(chunks: Array<string | Uint8Array>, options: Omit<OutputParserOptions, 'onEvent'> = {}): ParseEvent[] {
  const events: ParseEvent[] = [];
  const parser = new OutputParser({ ...options, onEvent: (e) => events.push(e) });
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  return events;
}

const all = fixtures();

describe('chunk splitting (property)', () => {
  it('covers the fixtures of both formats', () => {
    expect(all.filter((f) => f.name.startsWith('json/')).length).toBeGreaterThanOrEqual(10);
    expect(all.filter((f) => f.name.startsWith('text/')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(all.map((f) => [f.name, f] as const))(
    '%s: every split in two, as bytes and as text, and random multi-splits',
    (_name, fixture) => {
      const options = fixture.program === undefined ? {} : { program: fixture.program };
      const whole = run([fixture.bytes], options);
      expect(whole.some((e) => e.type === 'map' || e.type === 'text')).toBe(true);
      const expected = JSON.stringify(whole);
      // Compared as JSON text first (fast); a difference is then shown in full by toEqual.
      const same = (events: ParseEvent[], what: string): void => {
        if (JSON.stringify(events) !== expected) expect(events, what).toEqual(whole);
      };
      const bytes = fixture.bytes;
      for (let i = 0; i <= bytes.length; i++) {
        same(run([bytes.subarray(0, i), bytes.subarray(i)], options), `byte split at ${i}`);
      }
      const text = new TextDecoder().decode(bytes);
      for (let i = 0; i <= text.length; i++) {
        same(run([text.slice(0, i), text.slice(i)], options), `text split at ${i}`);
      }
      const random = prng(bytes.length);
      for (let round = 0; round < 30; round++) {
        const chunks: Uint8Array[] = [];
        let at = 0;
        while (at < bytes.length) {
          const size = 1 + Math.floor(random() * (round % 2 === 0 ? 8 : 200));
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        same(run(chunks, options), `random split round ${round}`);
      }
    },
    120_000,
  );
});

/**
 * Lines much longer than one chunk, as a big map prints them: the JSON reader reads them from their pieces a
 * window at a time (JsonScanner.resetPieces). Keys of every kind, one longer than a window, a bucket list to end.
 */
function longJsonLines(): string {
  const keys: string[] = [];
  for (let k = 0; k < 3000; k++) keys.push(String(k * 7919));
  keys.push('-0', '007', '12345678901234567', '12a', '', 'a,b', 'q\\"uote', 'caf\u00e9', `long-${'x'.repeat(40_000)}`);
  const hist = keys.map(
    (k, i) => `"${k}": [{"min": ${2 ** (i % 20)}, "max": ${2 ** ((i % 20) + 1) - 1}, "count": ${i + 1}}]`,
  );
  const counts = keys.map((k, i) => `"${k}": ${i * 3}`);
  return (
    `{"type": "hist", "data": {"@h": {${hist.join(', ')}}}}\n` +
    `{"type": "map", "data": {"@c": {${counts.join(', ')}}}}\r\n` +
    `{"type": "stats", "data": {"@s": {${keys
      .slice(0, 2000)
      .map((k, i) => `"${k}": {"count": ${i}, "average": 1, "total": ${i}}`)
      .join(', ')}}}}\n`
  );
}

describe('long lines in many chunks', () => {
  it.each([
    ['no program', undefined],
    ['a program', readProgram('tracepoint:a:b { @h[arg0] = hist(arg1); @c[arg0] = count(); @s[arg0] = stats(1); }')],
  ] as const)('reads them as the whole line (%s), wherever the chunks are cut', (_what, program) => {
    const bytes = new TextEncoder().encode(longJsonLines());
    const options = program === undefined ? {} : { program };
    const whole = run([bytes], options);
    // with the program, the keys that are not integers are reported once per map (and kept)
    expect(whole.filter((e) => e.type === 'problem').length).toBe(program === undefined ? 0 : 2);
    expect(whole.flatMap((e) => (e.type === 'map' ? [`${e.name}:${e.entries.length}`] : []))).toEqual([
      '@h:3009',
      '@c:3009',
      '@s:2000',
    ]);
    const expected = JSON.stringify(whole);
    const random = prng(bytes.length);
    for (const max of [64, 4096, 65_536, 200_000]) {
      for (let round = 0; round < 4; round++) {
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < bytes.length; ) {
          const size = 1 + Math.floor(random() * max);
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        const events = run(chunks, options);
        if (JSON.stringify(events) !== expected) expect(events, `chunks up to ${max}, round ${round}`).toEqual(whole);
      }
    }
  });
});

describe('OutputParser', () => {
  it('detects JSON from the first non-blank line and text otherwise', () => {
    expect(parseOutput('\n{"type": "map", "data": {"@a": 1}}\n')).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }], final: true },
    ]);
    expect(parseOutput('@a: 1\n').filter((e) => e.type === 'map')).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }] },
    ]);
  });

  it('decodes UTF-8 split inside a character, and keeps each invalid byte as its own lone surrogate without throwing', () => {
    const bytes = new TextEncoder().encode('{"type": "printf", "data": "é€😀"}\n');
    const at = bytes.indexOf(0xe2) + 1;
    expect(run([bytes.subarray(0, at), bytes.subarray(at)])).toEqual([
      { type: 'text', source: 'printf', text: 'é€😀' },
    ]);
    const bad = Uint8Array.from([
      ...new TextEncoder().encode('{"type": "printf", "data": "a'),
      0xff,
      0xc3,
      ...new TextEncoder().encode('b"}\n'),
    ]);
    expect(run([bad])).toEqual([{ type: 'text', source: 'printf', text: 'a\udcff\udcc3b' }]);
  });

  it('keeps keys that differ only in invalid bytes distinct, in text and JSON, wherever the chunks are cut', () => {
    const encode = (s: string): number[] => [...new TextEncoder().encode(s)];
    const text = Uint8Array.from([
      ...encode('@x[a'),
      0xff,
      ...encode(']: 3\n@x[a'),
      0xfe,
      ...encode(']: 4\n@x[a\ufffd]: 5\n@x[a'),
      0xe2,
      0x82,
      ...encode(']: 6\n@x[a€]: 7\n'),
    ]);
    const json = Uint8Array.from([
      ...encode('{"type": "map", "data": {"@x": {"a'),
      0xff,
      ...encode('": 3, "a'),
      0xfe,
      ...encode('": 4, "a\\uffffffff": 5}}}\n'),
    ]);
    for (let cut = 0; cut <= text.length; cut++) {
      const maps = run([text.subarray(0, cut), text.subarray(cut)], { format: 'text' }).filter((e) => e.type === 'map');
      const entries = maps.flatMap((m) => (m.type === 'map' ? m.entries : []));
      // one dump: no key repeats, so the text reader never starts a second dump and no count is lost
      expect(maps).toHaveLength(1);
      expect(entries).toEqual([
        { key: ['a\udcff'], value: 3 },
        { key: ['a\udcfe'], value: 4 },
        { key: ['a\ufffd'], value: 5 },
        { key: ['a\udce2\udc82'], value: 6 },
        { key: ['a€'], value: 7 },
      ]);
    }
    for (let cut = 0; cut <= json.length; cut++) {
      const maps = run([json.subarray(0, cut), json.subarray(cut)]).filter((e) => e.type === 'map');
      expect(maps.flatMap((m) => (m.type === 'map' ? m.entries : []))).toEqual([
        { key: ['a\udcff'], value: 3 },
        { key: ['a\udcfe'], value: 4 },
        { key: ['a\udcff'], value: 5 },
      ]);
    }
  });

  it('counts lines from 1 across chunks and CRLF endings', () => {
    const events = run(['{"type": "map", "data": {"@a": 1}}\r\n', 'garbage\r', '\n{"x": 1}'], { format: 'json' });
    expect(
      events.filter((e) => e.type === 'problem').map((e) => (e.type === 'problem' ? [e.line, e.text] : [])),
    ).toEqual([
      [2, 'garbage'],
      [3, '{"x": 1}'],
    ]);
    expect(events[0]).toMatchObject({ type: 'map', name: '@a' });
  });

  it('reports a line longer than the limit, drops it without waiting for its end, and goes on', () => {
    const events = run(['{"type": "map", ', 'x'.repeat(50), 'y'.repeat(50), '\n{"type": "map", "data": {"@a": 2}}\n'], {
      format: 'json',
      maxLineLength: 64,
    });
    expect(events).toEqual([
      {
        type: 'problem',
        line: 1,
        text: expect.stringMatching(/^\{"type": "map", x+$/),
        reason: expect.stringContaining('longer than 64 characters'),
        cause: 'line-too-long',
      },
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 2 }] },
    ]);
    const single = run([`${'z'.repeat(100)}\n@b: 3\n`], { format: 'text', maxLineLength: 64 });
    expect(single[0]).toMatchObject({ type: 'problem', line: 1 });
    expect(single.filter((e) => e.type === 'map')).toHaveLength(1);
  });

  it('flushes a last line without a newline at end()', () => {
    expect(run(['{"type": "map", "data": {"@a": 1}}'])).toEqual([
      { type: 'map', name: '@a', kind: 'value', entries: [{ key: [], value: 1 }] },
    ]);
  });

  it('ignores writes after end()', () => {
    const events: ParseEvent[] = [];
    const parser = new OutputParser({ onEvent: (e) => events.push(e), format: 'json' });
    parser.end();
    parser.write('{"type": "map", "data": {"@a": 1}}\n');
    expect(events).toEqual([]);
  });
});
