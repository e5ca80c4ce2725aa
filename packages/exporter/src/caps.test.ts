// Series caps and expiry: keys past a cap fold into one overflow series exactly, caps count every Prometheus
// series (histogram buckets too), and keys absent long enough expire; a 1M-key JSON line stays bounded.

import { OutputParser } from '@ktrace/parser';
import type { ProgramInfo } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { count, exporterHarness, mapInfo, seriesValue as value } from '../../../test/support/exporter-harness.js';

const { make, takeWarnings } = exporterHarness();

describe('limits', () => {
  it('folds keys past the per-map cap into one overflow series, exactly, and counts them', async () => {
    const exporter = make({ maxSeriesPerMap: 2 });
    exporter.handle(
      count('@c', [
        [['a'], 1],
        [['b'], 2],
        [['c'], 3],
        [['d'], 4],
      ]),
    );
    exporter.handle(
      count('@c', [
        [['a'], 1],
        [['b'], 2],
        [['c'], 10],
        [['d'], 4],
        [['e'], 5],
      ]),
    );
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_c_total{key0="a"}')).toBe(1);
    expect(value(text, 'bpftrace_c_total{key0="b"}')).toBe(2);
    expect(value(text, 'bpftrace_c_total{otel_metric_overflow="true"}')).toBe(10 + 4 + 5);
    expect(value(text, 'ktrace_series_overflowed_total{map="@c"}')).toBe(3);
    expect(value(text, 'ktrace_series_folded{map="@c"}')).toBe(3);
    expect(value(text, 'ktrace_series{map="@c"}')).toBe(3);
    // Still over the cap with the same keys: nothing new is folded, but the gauge says the map still overflows.
    exporter.handle(
      count('@c', [
        [['a'], 1],
        [['b'], 2],
        [['c'], 11],
        [['d'], 4],
        [['e'], 5],
      ]),
    );
    const later = await exporter.prometheusText();
    expect(value(later, 'ktrace_series_overflowed_total{map="@c"}')).toBe(3);
    expect(value(later, 'ktrace_series_folded{map="@c"}')).toBe(3);
  });

  it('counts exported series as the caps do: every bucket line of a histogram key', async () => {
    const exporter = make();
    exporter.handle(
      count('@c', [
        [['a'], 1],
        [['b'], 2],
      ]),
    );
    exporter.handle({
      type: 'map',
      name: '@h',
      kind: 'hist',
      entries: [
        {
          key: ['x'],
          buckets: [
            { min: 1, max: 1, count: 1 },
            { min: 2, max: 3, count: 2 },
          ],
        },
        { key: ['y'], buckets: [{ min: 4, max: 7, count: 3 }] },
      ],
    });
    const text = await exporter.prometheusText();
    const lines = text.split('\n').filter((l) => /^bpftrace_(c|h)_/.test(l));
    expect(exporter.store.exportedSeries).toBe(lines.length);
    expect(exporter.store.exportedSeries).toBe(
      (value(text, 'ktrace_series{map="@c"}') ?? 0) + (value(text, 'ktrace_series{map="@h"}') ?? 0),
    );
    expect(exporter.store.size).toBe(4); // keys
  });

  it('applies the total cap across maps', async () => {
    const exporter = make({ maxSeries: 3 });
    exporter.handle(
      count('@x', [
        [['a'], 1],
        [['b'], 1],
      ]),
    );
    exporter.handle(
      count('@y', [
        [['a'], 1],
        [['b'], 1],
        [['c'], 1],
      ]),
    );
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_y_total{key0="a"}')).toBe(1);
    expect(value(text, 'bpftrace_y_total{otel_metric_overflow="true"}')).toBe(2);
  });

  it('expires keys absent from expireAfterDumps dumps of their map, and counts them', async () => {
    const exporter = make({ expireAfterDumps: 2 });
    exporter.handle(
      count('@p', [
        [[1], 5],
        [[2], 5],
      ]),
    );
    exporter.handle(count('@p', [[[1], 6]]));
    let text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_p_total{key0="2"}')).toBe(5);
    exporter.handle(count('@p', [[[1], 7]]));
    text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_p_total{key0="2"}')).toBeUndefined();
    expect(value(text, 'bpftrace_p_total{key0="1"}')).toBe(7);
    expect(value(text, 'ktrace_series_expired_total{map="@p"}')).toBe(1);
  });
});

describe('big JSON maps', () => {
  it('a 1M-key map printed as one 22 MB line is exported: 50 000 series and the rest, exactly, in the overflow series', async () => {
    const keys = 1_000_000;
    const parts: string[] = [];
    for (let i = 0; i < keys; i++) parts.push(`"/usr/lib/file-${i}": ${(i % 7) + 1}`);
    const line = `{"type": "map", "data": {"@opens": {${parts.join(', ')}}}}\n`;
    expect(line.length).toBeGreaterThan(22_000_000);
    const program: ProgramInfo = {
      printsMaps: true,
      maps: [{ ...mapInfo('@opens', 'count'), keyArity: 1, keyNames: ['path'], keyTypes: ['string'] }],
    };
    const exporter = make({ program });
    const parser = new OutputParser({ program, onEvent: (e) => exporter.handle(e) });
    for (let at = 0; at < line.length; at += 1 << 16) parser.write(line.slice(at, at + (1 << 16)));
    parser.end();
    const text = await exporter.prometheusText();
    let total = 0;
    let series = 0;
    for (const l of text.split('\n')) {
      if (!l.startsWith('bpftrace_opens_total')) continue;
      series += 1;
      total += Number(l.slice(l.lastIndexOf(' ') + 1));
    }
    let printed = 0;
    for (let i = 0; i < keys; i++) printed += (i % 7) + 1;
    expect(total).toBe(printed);
    expect(series).toBe(50_001);
    expect(value(text, 'ktrace_series_overflowed_total{map="@opens"}')).toBe(keys - 50_000);
    expect(value(text, 'ktrace_output_lines_dropped_total')).toBe(0);
    // folding into the overflow series is counted, not warned
    expect(takeWarnings()).toEqual([]);
  }, 60_000);

  it('a line past the limit is counted in ktrace_output_lines_dropped_total and warned, naming the option', async () => {
    const exporter = make({ program: { printsMaps: true, maps: [mapInfo('@a', 'count')] } });
    const parser = new OutputParser({ maxLineLength: 100, onEvent: (e) => exporter.handle(e) });
    parser.write(`{"type": "map", "data": {"@a": ${'1'.repeat(200)}}}\n{"type": "map", "data": {"@a": 5}}\n`);
    parser.end();
    const text = await exporter.prometheusText();
    expect(value(text, 'ktrace_output_lines_dropped_total')).toBe(1);
    expect(value(text, 'bpftrace_a_total')).toBe(5);
    expect(takeWarnings()).toEqual([
      'line longer than 100 characters without a newline: dropped (is this bpftrace output?) (line 1; counted in ktrace_output_lines_dropped_total). Raise the limit with --max-line-bytes (limits.maxLineBytes in a trace spec)',
    ]);
  });
});
