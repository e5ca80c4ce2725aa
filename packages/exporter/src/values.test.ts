// Values no counter can show as printed: a sum() or stats() total that goes down, negative counts, and made-up
// numbers (1e309, true, null, arrays), each skipped or held, counted and explained once.

import { parseOutput } from '@ktrace/parser';
import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { count, exporterHarness, mapInfo, seriesValue as value } from '../../../test/support/exporter-harness.js';

const { make, takeWarnings } = exporterHarness();

describe('a sum() that goes down', () => {
  it('is taken as a reset (the counter stays monotonic) and says once how to export a sum of negative values', async () => {
    const exporter = make();
    const sum = (v: number): MapSample => ({
      type: 'map',
      name: '@delta',
      kind: 'sum',
      entries: [{ key: ['a'], value: v }],
    });
    exporter.handle(sum(10));
    exporter.handle(sum(7));
    exporter.handle(sum(5));
    expect(value(await exporter.prometheusText(), 'bpftrace_delta_total{key0="a"}')).toBe(10 + 7 + 5);
    const warnings = takeWarnings();
    expect(warnings).toEqual([
      'map @delta is a sum() that went down without a bpftrace restart (10 to 7 for {key0="a"}); ktrace takes the fall as the key deleted and re-created, so its counter adds 7 on top of the 10 printed before. If the program adds negative values, that overstates the sum: export the map as a gauge (kind: value for @delta in the trace spec\'s maps)',
    ]);
  });

  it('after a bpftrace restart is no warning, and neither is a count() that goes down', async () => {
    const exporter = make();
    exporter.handle({ type: 'map', name: '@bytes', kind: 'sum', entries: [{ key: [], value: 100 }] });
    exporter.recordRestart();
    exporter.handle({ type: 'map', name: '@bytes', kind: 'sum', entries: [{ key: [], value: 40 }] });
    exporter.handle(count('@calls', [[[], 9]]));
    exporter.handle(count('@calls', [[[], 2]]));
    expect(value(await exporter.prometheusText(), 'bpftrace_bytes_total')).toBe(140);
    const warnings = takeWarnings();
    expect(warnings).toEqual([]);
  });
});

describe('totals that go down', () => {
  it('a stats() total that falls while its count grows is held, counted and explained; _count stays exact', async () => {
    const exporter = make();
    const stats = (count: number, total: number): MapSample => ({
      type: 'map',
      name: '@ret',
      kind: 'stats',
      entries: [{ key: [], stats: { count, total, average: Math.trunc(total / count) } }],
    });
    const seen: Array<number | undefined> = [];
    for (const [count, total] of [
      [2, 110],
      [4, 220],
      [5, 200],
      [7, 310],
    ] as const) {
      exporter.handle(stats(count, total));
      seen.push(value(await exporter.prometheusText(), 'bpftrace_ret_sum_total'));
    }
    expect(seen).toEqual([110, 220, 220, 310]);
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_ret_count_total')).toBe(7);
    expect(value(text, 'bpftrace_ret_average')).toBe(44);
    expect(value(text, 'ktrace_values_skipped_total{map="@ret",reason="decreased"}')).toBe(1);
    expect(takeWarnings()).toEqual([
      'map @ret is a stats() whose total went down while its count did not (220 to 200): it adds negative values, which no counter can show, so bpftrace_ret_sum_total keeps its highest value until the total passes it (counted in ktrace_values_skipped_total{reason="decreased"}); its _count and _average stay exact. For a sum that goes both ways, keep a separate map and export it as a gauge (kind: value)',
    ]);
  });

  it('a sum() of negative values never makes its counter go down or below zero, and the warning says so', async () => {
    const exporter = make();
    const seen: Array<number | undefined> = [];
    for (const v of [-45, -90, -150]) {
      exporter.handle({ type: 'map', name: '@neg', kind: 'sum', entries: [{ key: ['a'], value: v }] });
      seen.push(value(await exporter.prometheusText(), 'ktrace_values_skipped_total{map="@neg",reason="negative"}'));
    }
    const text = await exporter.prometheusText();
    // no series is made up for a key whose every value was skipped
    expect(text).not.toMatch(/^bpftrace_neg_total/m);
    expect(seen).toEqual([1, 2, 3]);
    expect(takeWarnings()).toEqual([
      'map @neg printed a negative sum (key ["a"], value -45): no counter can show it, so the entry is skipped and its series does not move (ktrace_values_skipped_total{reason="negative"}). If the program adds negative values, export the map as a gauge (kind: value for @neg in the trace spec\'s maps)',
    ]);
  });
});

describe('made-up values', () => {
  it('1e309, true, null, arrays, negative counts and negative or infinite bucket counts are skipped, counted and warned; no number is invented', async () => {
    const program: ProgramInfo = {
      printsMaps: true,
      maps: [
        { ...mapInfo('@c', 'count'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] },
        { ...mapInfo('@h', 'hist'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] },
      ],
    };
    const exporter = make({ program });
    const output = [
      '{"type": "map", "data": {"@c": {"inf": 1e309, "yes": true, "nil": null, "list": [1, 2], "neg": -5, "ok": 4}}}',
      '{"type": "hist", "data": {"@h": {"neg": [{"min": 0, "max": 1, "count": -3}], "inf": [{"min": 2, "max": 3, "count": 1e309}], "ok": [{"min": 2, "max": 3, "count": 2}]}}}',
      '',
    ].join('\n');
    for (const event of parseOutput(output, { program })) exporter.handle(event);
    const text = await exporter.prometheusText();
    const mine = text.split('\n').filter((l) => l.startsWith('bpftrace_'));
    expect(mine.filter((l) => l.startsWith('bpftrace_c_total'))).toEqual(['bpftrace_c_total{k="ok"} 4']);
    expect(mine.filter((l) => l.startsWith('bpftrace_h_count'))).toEqual(['bpftrace_h_count{k="ok"} 2']);
    expect(text).not.toContain('Inf"} +Inf');
    expect(text).not.toMatch(/ -\d/);
    expect(value(text, 'ktrace_values_skipped_total{map="@c",reason="not_a_number"}')).toBe(4);
    expect(value(text, 'ktrace_values_skipped_total{map="@c",reason="negative"}')).toBe(1);
    expect(value(text, 'ktrace_values_skipped_total{map="@h",reason="not_a_number"}')).toBe(1);
    expect(value(text, 'ktrace_values_skipped_total{map="@h",reason="negative"}')).toBe(1);
    expect(takeWarnings()).toEqual([
      'map @c: an entry has no usable counter value (key ["inf"], value null): it is skipped, not exported as a made-up number (ktrace_values_skipped_total{reason="not_a_number"})',
      'map @c printed a negative count (key ["neg"], value -5): no counter can show it, so the entry is skipped and its series does not move (ktrace_values_skipped_total{reason="negative"})',
      'map @h printed a negative count (key ["neg"], value [{"min":0,"max":1,"count":-3}]): no counter can show it, so the entry is skipped and its series does not move (ktrace_values_skipped_total{reason="negative"})',
      'map @h: an entry has no usable histogram value (key ["inf"], value [{"min":2,"max":3,"count":null}]): it is skipped, not exported as a made-up number (ktrace_values_skipped_total{reason="not_a_number"})',
    ]);
  });

  it('a known key whose value turns bad keeps its total and is not taken as deleted', async () => {
    const exporter = make({
      program: {
        printsMaps: true,
        maps: [{ ...mapInfo('@c', 'count'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] }],
      },
    });
    const dump = (v: unknown): MapSample => ({
      type: 'map',
      name: '@c',
      kind: 'count',
      entries: [{ key: ['a'], value: v as number }],
    });
    exporter.handle(dump(5));
    exporter.handle(dump(null));
    exporter.handle(dump(6));
    expect(value(await exporter.prometheusText(), 'bpftrace_c_total{k="a"}')).toBe(6);
    expect(takeWarnings()).toEqual([
      'map @c: an entry has no usable counter value (key ["a"], value null): it is skipped, not exported as a made-up number (ktrace_values_skipped_total{reason="not_a_number"})',
    ]);
  });
});
