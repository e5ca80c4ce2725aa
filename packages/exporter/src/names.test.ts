// Metric and label names under hostile input: the anonymous map, reserved label names, options, escaping and
// truncation, names that clash after Prometheus suffixes, and keys that differ only in undecodable bytes.

import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import {
  count,
  exporterHarness,
  families,
  mapInfo,
  sample,
  seriesValue as value,
} from '../../../test/support/exporter-harness.js';
import type { ExporterOptions } from './index.js';
import { labelText, labelValuesOf } from './prometheus-text.js';

const { make, takeWarnings } = exporterHarness();

describe('names and hostile values', () => {
  const program: ProgramInfo = {
    printsMaps: false,
    maps: [
      {
        name: '@',
        kind: 'count',
        args: [],
        keyArity: 0,
        keyNames: [],
        keyTypes: [],
        cleared: false,
        line: 1,
        column: 1,
      },
      {
        name: '@odd',
        kind: 'count',
        args: [],
        keyArity: 3,
        keyNames: ['le', '__name__', 'fd'],
        keyTypes: ['int', 'int', 'int'],
        cleared: false,
        line: 1,
        column: 1,
      },
    ],
  };

  it('names the anonymous map "map" and renames reserved label names', async () => {
    const exporter = make({ program });
    exporter.handle(count('@', [[[], 4]]));
    exporter.handle(count('@odd', [[[1, 2, 3], 9]]));
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_map_total')).toBe(4);
    expect(value(text, 'bpftrace_odd_total{key_le="1",key_name_="2",fd="3"}')).toBe(9);
  });

  it('honours prefix, metric, labels, unit and help options', async () => {
    const exporter = make({
      program,
      prefix: 'bt',
      maps: { '@odd': { metric: 'files', labels: ['a', 'b', 'c'], unit: 'ops', help: 'my help' } },
    });
    exporter.handle(count('@odd', [[[1, 2, 3], 9]]));
    const text = await exporter.prometheusText();
    expect(value(text, 'bt_files_total{a="1",b="2",c="3"}')).toBe(9);
    expect(text).toContain('# HELP bt_files_total my help\n# UNIT bt_files_total ops\n');
  });

  it('escapes quotes, backslashes and newlines, writes undecodable bytes and lone surrogates visibly, truncates long keys visibly and distinctly', async () => {
    const exporter = make({ maxLabelValueLength: 32 });
    const long1 = `${'x'.repeat(40)}-one`;
    const long2 = `${'x'.repeat(40)}-two`;
    exporter.handle(
      count('@h', [
        [['a"b'], 1],
        [['back\\slash'], 2],
        [['two\nlines'], 3],
        [['bad\ud800utf'], 4],
        [[long1], 5],
        [[long2], 6],
      ]),
    );
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_h_total{key0="a\\"b"}')).toBe(1);
    expect(value(text, 'bpftrace_h_total{key0="back\\\\slash"}')).toBe(2);
    expect(value(text, 'bpftrace_h_total{key0="two\\nlines"}')).toBe(3);
    expect(value(text, 'bpftrace_h_total{key0="bad\\\\ud800utf"}')).toBe(4);
    const truncated = [...text.matchAll(/bpftrace_h_total\{key0="(x+…[0-9a-f]{8})"\} (\d)/g)];
    expect(truncated.map((m) => m[2])).toEqual(['5', '6']);
    expect(truncated[0]?.[1]).not.toBe(truncated[1]?.[1]);
    expect(truncated[0]?.[1]?.length).toBe(32);
  });

  it('exports plain-value maps only when listed, and says why it skipped one', async () => {
    const skipped = make();
    const start: MapSample = { type: 'map', name: '@start', kind: 'value', entries: [{ key: [42], value: 123456 }] };
    skipped.handle(start);
    expect(await skipped.prometheusText()).not.toContain('bpftrace_start');
    expect(takeWarnings()).toEqual([
      'map @start is not exported: its aggregation is unknown (bpftrace -f json prints count(), sum() and plain values alike); give the program (--program FILE.bt) to export it as what it is, or list it in include to export it as a gauge',
    ]);
    const listed = make({ include: ['@start'] });
    listed.handle(start);
    expect(value(await listed.prometheusText(), 'bpftrace_start{key0="42"}')).toBe(123456);
  });
});

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
      const program: ProgramInfo = { printsMaps: true, maps: maps.map(([name, kind]) => mapInfo(name, kind)) };
      const exporter = make({ ...options, program });
      // the clash is known and reported before any dump: at start
      const warnings = takeWarnings();
      expect(warnings).toHaveLength(1);
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
    const exporter = make();
    exporter.handle(sample('@x', 'count', 1));
    exporter.handle(sample('@x_total', 'count', 2));
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_x_total')).toBe(1);
    expect(value(text, 'bpftrace_x_2_total')).toBe(2);
    const warnings = takeWarnings();
    expect(warnings).toEqual([
      "map @x_total would be exported as bpftrace_x_total, whose Prometheus names meet those of map @x (bpftrace_x_total); it is exported as bpftrace_x_2_total instead. Choose its name with maps['@x_total'].metric (or another --prefix)",
    ]);
  });
});

describe('keys that differ only in undecodable bytes or lone surrogates', () => {
  it('stay distinct series with distinct, readable label sets', async () => {
    const exporter = make({ include: ['@x'], maps: { '@x': { kind: 'count' } } });
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
    // 'a\udcff' prints as the text a\xff, as the key 'a\xff' does: one of them is suffixed, and that is said once
    expect(takeWarnings()).toEqual([
      'map @x has keys that print identical labels; the last label of one gets a hash suffix',
    ]);
  });
});

describe('label text read back as values (the OTel attributes)', () => {
  it('gives back every value labelText wrote, whatever it holds', () => {
    const values = ['plain', 'a"quote', 'back\\slash', 'new\nline', '="fake",x="y', '', '\\"', 'ünï…', '\\n'];
    const names = values.map((_, i) => `l${i}`);
    expect(labelValuesOf(labelText(names, values))).toEqual(values);
    expect(labelValuesOf('')).toEqual([]);
  });
});
