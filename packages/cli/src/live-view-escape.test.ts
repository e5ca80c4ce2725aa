import type { MapSample } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { layoutScreen } from './live-view-layout.js';
import { MapTracker } from './live-view-rates.js';
import { summaryLines } from './live-view-summary.js';
import { renderLiveView, visible } from './live-view.js';

const hostile = ['\x1b]0;pwned\x07', 'a\x1b[8mhidden', 'csi\x9b31m', 'bell\x07\r', 'rtl\u202egnp.exe', 'del\x7f'];

describe('the live view draws no control character', () => {
  it('escapes every control character of keys, string values, map names and notes', () => {
    const sample: MapSample = {
      type: 'map',
      name: '@opens',
      kind: 'count',
      entries: hostile.map((k, i) => ({ key: [k], value: i + 1 })),
    };
    const strings: MapSample = {
      type: 'map',
      name: '@last',
      kind: 'value',
      entries: [{ key: ['x'], value: 'v\x1b[2J' }],
    };
    const lines = renderLiveView({
      header: 'ktrace\x1b[H',
      maps: new Map([
        ['@opens', sample],
        ['@last', strings],
      ]),
      notes: ['warn: file \x1b]52;c;Y2xpcA==\x07 opened'],
      columns: 200,
      // wide enough that no key is cut
      rows: 60,
    });
    const text = lines.join('\n');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('\\x1b]0;pwned\\x07');
    expect(text).toContain('\\x1b]52;c;Y2xpcA==\\x07');
    expect(text).toContain('rtl\\u202egnp.exe');
    expect(text).toContain('v\\x1b[2J');
  });

  it('escapes them on the interactive screen and in the summary after it', () => {
    const tracker = new MapTracker('@opens', 'count');
    const entries = hostile.map((k, i) => ({ key: [k], value: i + 1 }));
    tracker.ingest({ type: 'map', name: '@opens', kind: 'count', entries }, 0, 'cumulative');
    tracker.ingest({ type: 'map', name: '@opens', kind: 'count', entries }, 1000, 'cumulative');
    const maps = [tracker.rows()];
    const screen = layoutScreen({
      header: 'ktrace\x1b[H',
      maps,
      notes: ['warn: file \x1b]52;c;Y2xpcA==\x07 opened'],
      columns: 200,
      rows: 40,
      selected: 0,
      scroll: 0,
    }).lines;
    const summary = summaryLines({ title: 'ktrace run stopped', maps, runMillis: 5000, columns: 200 });
    for (const text of [screen.join('\n'), summary.join('\n')]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(text).toContain('a\\x1b[8mhidden');
      expect(text).toContain('rtl\\u202egnp.exe');
    }
  });

  it('keeps newlines only when asked (multi-line error messages)', () => {
    expect(visible('a\nb\x1b')).toBe('a\\x0ab\\x1b');
    expect(visible('a\nb\x1b', 'newlines')).toBe('a\nb\\x1b');
  });
});
