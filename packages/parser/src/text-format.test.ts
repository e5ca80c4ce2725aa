// The text reader over every fixture of testdata/text: each parses to its reviewed events, events come out as soon
// as they are complete, any chunking gives the same events, and 0.17's text and JSON runs of one program agree.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JsonFormatReader } from './json-format.js';
import { TextFormatReader } from './text-format.js';
import { FIXTURES, feedChunks, maps, read, toLines } from './text-format.test-support.js';
import type { MapSample, ParseEvent } from './types.js';

describe('text fixtures (0.17 captured here; 0.20–0.26 hand-written from bpftrace source)', () => {
  it('has fixtures for every version the task names', () => {
    const versions = new Set(FIXTURES.map((f) => f.id.split('/')[0]));
    for (const v of ['0.17', '0.20', '0.22', '0.23', '0.24', '0.26']) expect(versions).toContain(v);
    for (const f of FIXTURES) {
      expect(existsSync(`${f.base}.expected.json`), `${f.id}.expected.json`).toBe(true);
      expect(existsSync(`${f.base}.meta.json`), `${f.id}.meta.json`).toBe(true);
      expect(f.program, `${f.id}.bt`).toBeDefined();
    }
  });

  it.each(FIXTURES.map((f) => [f.id, f] as const))('%s parses to its reviewed expected events', (_id, f) => {
    const expected: unknown = JSON.parse(readFileSync(`${f.base}.expected.json`, 'utf8'));
    expect(read(f.text, f.program)).toEqual(expected);
  });

  it.each(FIXTURES.map((f) => [f.id, f] as const))(
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

  it.each(FIXTURES.map((f) => [f.id, f] as const))(
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

describe('text and -f json runs of the same 0.17 program give the same samples', () => {
  // Where text is lossy by nature, the difference is listed here with the reason, and asserted as such.
  const lossy: Record<string, { map: string; why: string }[]> = {
    '0.17/keys': [{ map: '@tv', why: 'a tuple value element "y, z" cannot be told from two elements in text' }],
    // Two separate runs: user-space addresses move (ASLR), so the ustack keys differ by nature.
    '0.17/stacks': [{ map: '@us', why: 'ASLR: the text and json runs load sh at different addresses' }],
  };
  // 0.23 and 0.27 captures: fixtures-text-json.test.ts, with each version's own losses.
  const withJson = FIXTURES.filter((f) => f.id.startsWith('0.17/') && existsSync(`${f.base}.json`));

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
