// Numbers and keys under hostile input (issue 7): clashing metric names, totals that go down, keys that differ
// only in undecodable bytes, big JSON maps, made-up values, histogram layouts and caps, absolute-form requests.

import { connect } from 'node:net';
import { OutputParser, parseOutput } from '@ktrace/parser';
import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { createExporter } from './index.js';
import type { Exporter, ExporterOptions } from './index.js';

const exporters: Exporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
});

function make(options: ExporterOptions = {}): { exporter: Exporter; warnings: string[] } {
  const warnings: string[] = [];
  const exporter = createExporter({ onWarning: (w) => warnings.push(w), ...options });
  exporters.push(exporter);
  return { exporter, warnings };
}

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return undefined;
}

/** Family names of `# TYPE` lines, and every series name with its labels: what Prometheus would store. */
function families(text: string): { types: string[]; series: string[] } {
  const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string);
  const series = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.slice(0, l.lastIndexOf(' ')));
  return { types, series };
}

function sample(name: string, kind: MapSample['kind'], value: number): MapSample {
  if (kind === 'hist')
    return { type: 'map', name, kind, entries: [{ key: [], buckets: [{ min: 4, max: 7, count: value }] }] };
  if (kind === 'stats')
    return { type: 'map', name, kind, entries: [{ key: [], stats: { count: value, total: value * 10, average: 10 } }] };
  return { type: 'map', name, kind, entries: [{ key: [], value }] };
}

function info(name: string, kind: MapSample['kind']): ProgramInfo['maps'][number] {
  return { name, kind, args: [], keyArity: 0, keyNames: [], keyTypes: [], cleared: false, line: 1, column: 1 };
}

describe('metric names that clash after suffixes', () => {
  const cases: Array<{
    title: string;
    maps: Array<[string, MapSample['kind']]>;
    options?: ExporterOptions;
    renamed: string;
    held: string;
  }> = [
    {
      title: '@x beside @x_total',
      maps: [
        ['@x', 'count'],
        ['@x_total', 'count'],
      ],
      renamed: 'bpftrace_x_2_total',
      held: 'bpftrace_x_total',
    },
    {
      title: 'hist @h beside @h_bucket',
      maps: [
        ['@h', 'hist'],
        ['@h_bucket', 'max'],
      ],
      renamed: 'bpftrace_h_bucket_2',
      held: 'bpftrace_h_count',
    },
    {
      title: 'hist @h beside count @h_count',
      maps: [
        ['@h', 'hist'],
        ['@h_count', 'count'],
      ],
      renamed: 'bpftrace_h_count_2_total',
      held: 'bpftrace_h_count',
    },
    {
      title: 'stats @s beside @s_count',
      maps: [
        ['@s', 'stats'],
        ['@s_count', 'count'],
      ],
      renamed: 'bpftrace_s_count_2_total',
      held: 'bpftrace_s_count_total',
    },
    {
      title: 'stats @s beside @s_average',
      maps: [
        ['@s', 'stats'],
        ['@s_average', 'avg'],
      ],
      renamed: 'bpftrace_s_average_2',
      held: 'bpftrace_s_average',
    },
    {
      title: 'a metric: rename onto another map',
      maps: [
        ['@a', 'count'],
        ['@b', 'count'],
      ],
      options: { maps: { '@b': { metric: 'a' } } },
      renamed: 'bpftrace_a_2_total',
      held: 'bpftrace_a_total',
    },
    {
      title: '--prefix ktrace with @up',
      maps: [['@up', 'max']],
      options: { prefix: 'ktrace' },
      renamed: 'ktrace_up_2',
      held: 'ktrace_up',
    },
    {
      title: '--prefix ktrace with @dumps',
      maps: [['@dumps', 'count']],
      options: { prefix: 'ktrace' },
      renamed: 'ktrace_dumps_2_total',
      held: 'ktrace_dumps_total',
    },
    {
      title: "--prefix '' with @up",
      maps: [['@up', 'max']],
      options: { prefix: '' },
      renamed: 'up_2',
      held: 'ktrace_up',
    },
  ];

  for (const { title, maps, options, renamed, held } of cases) {
    it(`${title}: every family once, both maps exported, the later one renamed with a warning naming both`, async () => {
      const program: ProgramInfo = { printsMaps: true, maps: maps.map(([name, kind]) => info(name, kind)) };
      const { exporter, warnings } = make({ ...options, program });
      // the clash is known and reported before any dump: at start
      expect(warnings.filter((w) => w.includes('exported as'))).toHaveLength(1);
      const last = maps[maps.length - 1] as [string, MapSample['kind']];
      expect(warnings.join('\n')).toContain(`map ${last[0]} would be exported as`);
      if (maps.length > 1) expect(warnings.join('\n')).toContain(`map ${(maps[0] as [string, string])[0]} (`);
      // bpftrace prints the later map first: the rule does not depend on it
      for (const [name, kind] of [...maps].reverse()) exporter.handle(sample(name, kind, 3));
      const text = await exporter.prometheusText();
      const { types, series } = families(text);
      expect(new Set(types).size).toBe(types.length);
      expect(new Set(series).size).toBe(series.length);
      expect(value(text, renamed)).toBe(3);
      expect(series.some((s) => s === held || s.startsWith(`${held}{`))).toBe(true);
    });
  }

  it('without the program the rule is the same, in the order the maps first appear', async () => {
    const { exporter, warnings } = make();
    exporter.handle(sample('@x', 'count', 1));
    exporter.handle(sample('@x_total', 'count', 2));
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_x_total')).toBe(1);
    expect(value(text, 'bpftrace_x_2_total')).toBe(2);
    expect(warnings).toEqual([
      "map @x_total would be exported as bpftrace_x_total, whose Prometheus names meet those of map @x (bpftrace_x_total); it is exported as bpftrace_x_2_total instead. Choose its name with maps['@x_total'].metric (or another --prefix)",
    ]);
  });
});

describe('totals that go down', () => {
  it('a stats() total that falls while its count grows is held, counted and explained; _count stays exact', async () => {
    const { exporter, warnings } = make();
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
    expect(warnings.join('\n')).toContain(
      'map @ret is a stats() whose total went down while its count did not (220 to 200)',
    );
  });

  it('a sum() of negative values never makes its counter go down or below zero, and the warning says so', async () => {
    const { exporter, warnings } = make();
    const seen: Array<number | undefined> = [];
    for (const v of [-45, -90, -150]) {
      exporter.handle({ type: 'map', name: '@neg', kind: 'sum', entries: [{ key: ['a'], value: v }] });
      seen.push(value(await exporter.prometheusText(), 'ktrace_values_skipped_total{map="@neg",reason="negative"}'));
    }
    const text = await exporter.prometheusText();
    // no series is made up for a key whose every value was skipped
    expect(text).not.toMatch(/^bpftrace_neg_total/m);
    expect(seen).toEqual([1, 2, 3]);
    expect(warnings.join('\n')).toContain(
      'map @neg printed a negative sum (key ["a"], value -45): no counter can show it, so the entry is skipped and its series does not move',
    );
    expect(warnings.join('\n')).not.toContain('keeps counting up');
  });
});

describe('keys that differ only in undecodable bytes or lone surrogates', () => {
  it('stay distinct series with distinct, readable label sets', async () => {
    const { exporter } = make({ include: ['@x'], maps: { '@x': { kind: 'count' } } });
    const keys = ['a\udcff', 'a\udcfe', 'a\ud800', 'a\udc00', 'a\udbff', 'a\\xff', 'a\ufffd'];
    exporter.handle({
      type: 'map',
      name: '@x',
      kind: 'count',
      entries: keys.map((k, i) => ({ key: [k], value: i + 1 })),
    });
    const text = await exporter.prometheusText();
    const { series } = families(text);
    const mine = series.filter((s) => s.startsWith('bpftrace_x_total'));
    expect(mine).toHaveLength(keys.length);
    expect(new Set(mine).size).toBe(keys.length);
    expect(value(text, 'bpftrace_x_total{key0="a\\\\xff"}')).toBe(1);
    expect(value(text, 'bpftrace_x_total{key0="a\\\\xfe"}')).toBe(2);
    expect(value(text, 'bpftrace_x_total{key0="a\\\\ud800"}')).toBe(3);
    expect(value(text, 'bpftrace_x_total{key0="a\ufffd"}')).toBe(7);
    // every value is valid UTF-8: nothing a parser would replace (and so merge)
    expect((text as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(true);
    let sum = 0;
    for (const s of mine) sum += value(text, s) ?? 0;
    expect(sum).toBe(28);
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
      maps: [{ ...info('@opens', 'count'), keyArity: 1, keyNames: ['path'], keyTypes: ['string'] }],
    };
    const { exporter, warnings } = make({ program });
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
    expect(warnings.filter((w) => !w.includes('overflow'))).toEqual([]);
  }, 60_000);

  it('a line past the limit is counted in ktrace_output_lines_dropped_total and warned, naming the option', async () => {
    const { exporter, warnings } = make({ program: { printsMaps: true, maps: [info('@a', 'count')] } });
    const parser = new OutputParser({ maxLineLength: 100, onEvent: (e) => exporter.handle(e) });
    parser.write(`{"type": "map", "data": {"@a": ${'1'.repeat(200)}}}\n{"type": "map", "data": {"@a": 5}}\n`);
    parser.end();
    const text = await exporter.prometheusText();
    expect(value(text, 'ktrace_output_lines_dropped_total')).toBe(1);
    expect(value(text, 'bpftrace_a_total')).toBe(5);
    expect(warnings.join('\n')).toContain('line longer than 100 characters without a newline: dropped');
    expect(warnings.join('\n')).toContain('--max-line-bytes');
  });
});

describe('made-up values', () => {
  it('1e309, true, null, arrays, negative counts and negative or infinite bucket counts are skipped, counted and warned; no number is invented', async () => {
    const program: ProgramInfo = {
      printsMaps: true,
      maps: [
        { ...info('@c', 'count'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] },
        { ...info('@h', 'hist'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] },
      ],
    };
    const { exporter, warnings } = make({ program });
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
    expect(warnings.join('\n')).toContain('not exported as a made-up number');
  });

  it('a known key whose value turns bad keeps its total and is not taken as deleted', async () => {
    const { exporter } = make({
      program: {
        printsMaps: true,
        maps: [{ ...info('@c', 'count'), keyArity: 1, keyNames: ['k'], keyTypes: ['string'] }],
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
  });
});

describe('histogram layouts Prometheus does not have to fix', () => {
  const hist = (entries: Array<[string, Array<[number, number, number]>]>): MapSample => ({
    type: 'map',
    name: '@bytes',
    kind: 'hist',
    entries: entries.map(([key, buckets]) => ({
      key: [key],
      buckets: buckets.map(([min, max, count]) => ({ min, max, count })),
    })),
  });

  it('the lowest bucket gets its lower edge, so 300 reads of 4096 bytes are not interpolated from 0', async () => {
    const { exporter } = make();
    exporter.handle(hist([['cat', [[4096, 8191, 300]]]]));
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_bytes_bucket{key0="cat",le="4095"}')).toBe(0);
    expect(value(text, 'bpftrace_bytes_bucket{key0="cat",le="8191"}')).toBe(300);
  });

  it('a declared range gives the whole layout from the first dump, so it never grows inside it', async () => {
    const { exporter } = make({ maps: { '@bytes': { range: [1, 1_000_000] } } });
    exporter.handle(hist([['cat', [[4096, 8191, 300]]]]));
    const first = [...(await exporter.prometheusText()).matchAll(/le="([^"]+)"/g)].map((m) => m[1]);
    exporter.handle(
      hist([
        [
          'cat',
          [
            [1, 1, 5],
            [4096, 8191, 300],
            [524288, 1048575, 1],
          ],
        ],
      ]),
    );
    const second = [...(await exporter.prometheusText()).matchAll(/le="([^"]+)"/g)].map((m) => m[1]);
    expect(first).toEqual(second);
    expect(first[0]).toBe('0');
    expect(first[first.length - 2]).toBe('1048575');
  });

  it('caps count the bucket series Prometheus stores, not only keys: 100 keys with 200 distinct bounds each stay bounded', async () => {
    const { exporter } = make({ maxSeriesPerMap: 50_000 });
    const entries: Array<[string, Array<[number, number, number]>]> = [];
    for (let k = 0; k < 100; k++) {
      const buckets: Array<[number, number, number]> = [];
      for (let b = 0; b < 200; b++) {
        const low = 1_000 * (k * 200 + b);
        buckets.push([low, low + 9, 1]);
      }
      entries.push([`k${k}`, buckets]);
    }
    const lhist: MapSample = { ...hist(entries), kind: 'lhist' };
    exporter.handle(lhist);
    const text = await exporter.prometheusText();
    const lines = text.split('\n').filter((l) => l.startsWith('bpftrace_bytes_'));
    const perKey = lines.filter((l) => l.startsWith('bpftrace_bytes_count')).length;
    // every exported key but the overflow series fits the cap; the overflow series adds one key's worth
    expect(lines.length).toBeLessThanOrEqual(50_000 + lines.length / perKey);
    expect(value(text, `ktrace_series{map="@bytes"}`)).toBe(lines.length);
    let total = 0;
    for (const l of lines) if (l.startsWith('bpftrace_bytes_count')) total += Number(l.slice(l.lastIndexOf(' ') + 1));
    expect(total).toBe(100 * 200);
  });
});

describe('HTTP', () => {
  it('serves an absolute-form request target (GET http://host/metrics) like /metrics', async () => {
    const { exporter } = make({ listen: '127.0.0.1:0' });
    const { url } = await exporter.start();
    const { port, host } = new URL(url as string);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(`GET http://${host}/metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(reply).toContain('ktrace_up 0');
  });
});

describe('self-metric names', () => {
  it('the table reserves every name the exposition prints besides the maps', async () => {
    const { reservedNames } = await import('./self-metrics.js');
    const { exporter } = make();
    exporter.handle(sample('@c', 'count', 1));
    exporter.handle(sample('@h', 'hist', 1));
    const { types } = families(await exporter.prometheusText());
    const reserved = new Set(reservedNames().map(([name]) => name));
    expect(types.filter((t) => !t.startsWith('bpftrace_') && !reserved.has(t))).toEqual([]);
  });
});
