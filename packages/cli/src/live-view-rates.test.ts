import type { MapEntry, MapKind, MapSample } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { MapTracker } from './live-view-rates.js';
import type { MapMode } from './live-view-rates.js';

const sample = (kind: MapKind, entries: MapEntry[]): MapSample => ({ type: 'map', name: '@m', kind, entries });
const counts = (values: Record<string, number>): MapEntry[] =>
  Object.entries(values).map(([k, value]) => ({ key: [k], value }));

function track(mode: MapMode, kind: MapKind, dumps: [number, MapEntry[]][]): MapTracker {
  const tracker = new MapTracker('@m', kind);
  for (const [at, entries] of dumps) tracker.ingest(sample(kind, entries), at, mode);
  return tracker;
}

const byKey = (tracker: MapTracker): Record<string, { total: number; rate: number | undefined }> =>
  Object.fromEntries(tracker.rows().rows.map((r) => [r.key, { total: r.total, rate: r.rate }]));

describe('totals and rates of a map', () => {
  it('a cumulative map: increments between dumps over the time between them; a drop is a restart from zero', () => {
    const t = track('cumulative', 'count', [
      [0, counts({ a: 100 })],
      [2000, counts({ a: 300 })],
      // bpftrace restarted: 20 since.
      [3000, counts({ a: 20 })],
    ]);
    expect(byKey(t)).toEqual({ a: { total: 320, rate: 20 } });
    expect(t.rows()).toMatchObject({ total: 320, rate: 20, dumps: 3, counted: true });
  });

  it('a cleared map: each dump is an increment; a key missing from a dump had none', () => {
    const t = track('delta', 'count', [
      [0, counts({ a: 10, b: 4 })],
      [1000, counts({ a: 10 })],
      [1500, counts({ a: 5, b: 1 })],
    ]);
    expect(byKey(t)).toEqual({ a: { total: 25, rate: 10 }, b: { total: 5, rate: 2 } });
    expect(
      track('delta', 'count', [
        [0, counts({ a: 1, b: 2 })],
        [1000, counts({ a: 1 })],
      ]).rows().rows[1],
    ).toMatchObject({ key: 'b', total: 2, rate: 0 });
  });

  it('histograms count samples and stats their count; min, max, avg and values have no rate', () => {
    const hist = track('cumulative', 'hist', [
      [0, [{ key: [], buckets: [{ min: 0, max: 1, count: 2 }] }]],
      [
        1000,
        [
          {
            key: [],
            buckets: [
              { min: 0, max: 1, count: 5 },
              { min: 2, max: 3, count: 1 },
            ],
          },
        ],
      ],
    ]);
    expect(byKey(hist)).toEqual({ '': { total: 6, rate: 4 } });
    const stats = track('cumulative', 'stats', [
      [0, [{ key: ['x'], stats: { count: 4, average: 10, total: 40 } }]],
      [1000, [{ key: ['x'], stats: { count: 10, average: 7, total: 70 } }]],
    ]);
    expect(stats.rows().rows[0]).toMatchObject({ total: 10, rate: 6, value: 7 });
    const max = track('cumulative', 'max', [
      [0, counts({ x: 5, y: 9 })],
      [1000, counts({ x: 50, y: 9 })],
    ]);
    expect(max.rows()).toMatchObject({ counted: false, rate: undefined });
    expect(max.rows().rows.map((r) => [r.key, r.value, r.rate])).toEqual([
      ['x', 50, undefined],
      ['y', 9, undefined],
    ]);
  });
});
