import type { MapEntry, MapKind, MapSample } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { HELP, layoutScreen } from './live-view-layout.js';
import type { ScreenInput } from './live-view-layout.js';
import { MapTracker } from './live-view-rates.js';
import type { MapRows } from './live-view-rates.js';

const sample = (name: string, kind: MapKind, entries: MapEntry[]): MapSample => ({ type: 'map', name, kind, entries });
const counts = (values: Record<string, number>): MapEntry[] =>
  Object.entries(values).map(([k, value]) => ({ key: [k], value }));

/** A map after one dump per element of `dumps`, a second apart. */
function rowsOf(name: string, kind: MapKind, dumps: MapEntry[][]): MapRows {
  const tracker = new MapTracker(name, kind);
  dumps.forEach((entries, i) => tracker.ingest(sample(name, kind, entries), i * 1000, 'cumulative'));
  return tracker.rows();
}

function screen(maps: MapRows[], over: Partial<ScreenInput> = {}): string[] {
  return layoutScreen({
    header: 'ktrace · running',
    maps,
    notes: [],
    columns: 80,
    rows: 24,
    selected: 0,
    scroll: 0,
    ...over,
  }).lines;
}

const row = (lines: string[], key: string): string | undefined => lines.find((l) => l.startsWith(`  ${key} `));
const barCells = (line: string | undefined): number => /([█▏▎▍▌▋▊▉]+)$/.exec(line ?? '')?.[1]?.length ?? 0;

describe('the live view screen', () => {
  it('puts per-second rates beside totals and sorts by rate, highest first', () => {
    // "old" counted a lot before and nothing in the last second; "busy" less in all, but 50 in the last second.
    const map = rowsOf('@syscalls', 'count', [
      counts({ old: 900, busy: 10, idle: 5 }),
      counts({ old: 900, busy: 60, idle: 7 }),
    ]);
    const lines = screen([map]);
    expect(lines[2]).toBe('@syscalls (count) · 3 keys · 52.0/s · total 967 · by rate');
    expect(lines[3]).toMatch(/^ {2}KEY +RATE\/s +TOTAL$/);
    expect(row(lines, 'busy')).toMatch(/^ {2}busy +50\.0 +60 █+$/);
    expect(row(lines, 'idle')).toMatch(/^ {2}idle +2\.00 +7 █/);
    expect(row(lines, 'old')).toMatch(/^ {2}old +0 +900$/);
    const order = ['busy', 'idle', 'old'].map((k) => lines.indexOf(row(lines, k) ?? ''));
    expect(order).toEqual([4, 5, 6]);
  });

  it('sorts by total, and says so, until a second dump gives rates', () => {
    const lines = screen([rowsOf('@opens', 'count', [counts({ a: 3, b: 700 })])]);
    expect(lines[2]).toContain('· by total');
    expect(row(lines, 'b')).toMatch(/^ {2}b +- +700 █+$/);
    expect(lines.indexOf(row(lines, 'b') ?? '')).toBeLessThan(lines.indexOf(row(lines, 'a') ?? ''));
  });

  it('scales bars to the map’s largest value: 3 beside 700 is a sliver, zero has no bar', () => {
    const lines = screen([rowsOf('@opens', 'count', [counts({ a: 0, b: 0, c: 0 }), counts({ a: 3, b: 700, c: 0 })])]);
    const full = barCells(row(lines, 'b'));
    expect(full).toBeGreaterThanOrEqual(40);
    // 3/700 of 50 cells is under two eighths of one cell.
    expect(row(lines, 'a')).toMatch(/ [▏▎]$/);
    expect(barCells(row(lines, 'c'))).toBe(0);
    // 350 is half of 700: half the cells.
    const half = screen([rowsOf('@h', 'count', [counts({ x: 0, y: 0 }), counts({ x: 350, y: 700 })])]);
    expect(barCells(row(half, 'x'))).toBe(Math.ceil(barCells(row(half, 'y')) / 2));
  });

  it('fits 80×24 and marks what is cut: rows below, rows above, long keys', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 40; i++) many[`key${String(i).padStart(2, '0')}`] = 1000 - i;
    many[`/a/very/long/path/${'x'.repeat(80)}/end`] = 1;
    const map = rowsOf('@files', 'count', [counts(many)]);
    const lines = screen([map], { notes: ['warn: bpftrace lost 3 events'] });
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    const shown = lines.filter((l) => /^ {2}key\d\d /.test(l)).length;
    expect(shown).toBeGreaterThan(10);
    expect(lines).toContain(`… ${41 - shown} more rows (↓ PgDn End) · rows 1–${shown} of 41`);
    expect(lines.at(-2)).toBe('warn: bpftrace lost 3 events');
    expect(lines.at(-1)).toBe(HELP);

    const end = screen([map], { scroll: 1000, notes: ['warn: bpftrace lost 3 events'] });
    expect(end).toHaveLength(24);
    const long = end.find((l) => l.startsWith('  /a/very/long'));
    expect(long).toMatch(/…/);
    expect(long?.length).toBeLessThanOrEqual(80);
    // A long key is cut so that the bars keep most of the line.
    expect(barCells(row(lines, 'key00'))).toBeGreaterThanOrEqual(20);
    expect(end).toContain(`↑ ${41 - shown} rows above (↑ PgUp Home) · rows ${41 - shown + 1}–41 of 41`);
  });

  it('keeps within any size the terminal reports, giving up help and tabs before rows', () => {
    const maps = ['@a', '@b'].map((n) => rowsOf(n, 'count', [counts({ k1: 1, k2: 2, k3: 3 })]));
    for (const [columns, rows] of [
      [40, 8],
      [30, 5],
      [120, 50],
    ] as const) {
      const lines = screen(maps, { columns, rows });
      expect(lines.length).toBeLessThanOrEqual(rows);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns);
      expect(lines.some((l) => l.startsWith('  k3 '))).toBe(true);
    }
  });

  it('shows the selected map, marked among the tabs, and histograms drawn as bpftrace does', () => {
    const hist = rowsOf('@lat', 'hist', [
      [
        {
          key: [],
          buckets: [
            { min: 256, max: 511, count: 4 },
            { min: 512, max: 1023, count: 8 },
          ],
        },
      ],
    ]);
    const maps = [rowsOf('@calls', 'count', [counts({ x: 1 })]), hist];
    expect(screen(maps)[1]).toBe('[1 @calls] 2 @lat ');
    const lines = screen(maps, { selected: 1 });
    expect(lines[1]).toBe(' 1 @calls [2 @lat]');
    expect(lines[2]).toContain('@lat (hist) · 1 key');
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}\[512, 1K\) +8 \|█{40}\|$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}\[256, 512\) +4 \|█{20} {20}\|$/));
  });

  it('keeps the selected tab in view when the tabs do not fit, marking the cut ones', () => {
    const maps = Array.from({ length: 12 }, (_, i) => rowsOf(`@map_number_${i}`, 'count', [counts({ k: i })]));
    const lines = screen(maps, { selected: 9 });
    expect(lines[1]).toContain('[10 @map_number_9]');
    expect(lines[1]?.startsWith('… ')).toBe(true);
    expect(lines[1]?.length).toBeLessThanOrEqual(80);
  });

  it('says it is waiting before the first dump', () => {
    expect(screen([])).toContain('waiting for the first map dump…');
  });
});
