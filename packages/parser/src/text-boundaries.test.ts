// Where the text reader's events begin and end: one sample per print(), blank lines, bpftrace's own lines and
// helper-warning echoes, and output cut short or malformed (never a throw; what is complete is kept).
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixture, read, toLines, maps } from './text-format.test-support.js';

describe('map boundaries and blank lines', () => {
  it('makes one sample per print(): a repeated key or a break in the sort order starts a new one', () => {
    const f = fixture('0.17/print-top-div');
    const samples = maps(read(f.text, f.program));
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
    const f = fixture('0.17/empty-maps');
    const events = read(f.text, f.program);
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
    const f = fixture('0.17/helper-error');
    const events = read(f.text, f.program);
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
    for (const f of FIXTURES) {
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
