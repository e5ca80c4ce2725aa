// What bpftrace's dumps look like and what the series show: histogram layouts that trim and grow, partial and
// full dumps, keys printed twice, and stored captures of real bpftrace runs (testdata/README.md).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOutput, readProgram } from '@ktrace/parser';
import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { count, exporterHarness, seriesValue as value } from '../../../test/support/exporter-harness.js';

const { make, takeWarnings } = exporterHarness();

/** A stored capture of real bpftrace 0.17 (testdata/README.md): the program read, and its output. */
function capture(programFile: string, outputFile: string): { program: ProgramInfo; output: string } {
  const dir = join(import.meta.dirname, '..', 'testdata');
  return {
    program: readProgram(readFileSync(join(dir, programFile), 'utf8')),
    output: readFileSync(join(dir, outputFile), 'utf8'),
  };
}

describe('dump shapes', () => {
  it('keeps a stable, growing hist() layout although bpftrace trims empty buckets differently each print', async () => {
    const exporter = make();
    const hist = (buckets: Array<[number, number, number]>): MapSample => ({
      type: 'map',
      name: '@lat',
      kind: 'hist',
      entries: [{ key: [], buckets: buckets.map(([min, max, count]) => ({ min, max, count })) }],
    });
    exporter.handle(
      hist([
        [1, 1, 2],
        [2, 3, 1],
      ]),
    );
    exporter.handle(
      hist([
        [1, 1, 2],
        [2, 3, 1],
        [4, 7, 0],
        [8, 15, 0],
        [16, 31, 0],
        [32, 63, 0],
        [64, 127, 5],
      ]),
    );
    const text = await exporter.prometheusText();
    const les = [...text.matchAll(/bpftrace_lat_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => `${m[1]}=${m[2]}`);
    // le="0": the lower edge of the lowest bucket, so a quantile there is interpolated from 1, not from 0
    expect(les).toEqual(['0=0', '1=2', '3=3', '7=3', '15=3', '31=3', '63=3', '127=8', '+Inf=8']);
  });

  it('with partial: a key missing from a print(@m, top) dump is not taken as deleted', async () => {
    const exporter = make({ maps: { '@top': { partial: true } } });
    exporter.handle(
      count('@top', [
        [['a'], 10],
        [['b'], 5],
      ]),
    );
    exporter.handle(count('@top', [[['b'], 20]])); // 'a' fell out of the top list, still 10 in bpftrace
    exporter.handle(
      count('@top', [
        [['a'], 12],
        [['b'], 21],
      ]),
    );
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_top_total{key0="a"}')).toBe(12);
    expect(value(text, 'bpftrace_top_total{key0="b"}')).toBe(21);
  });

  it('without partial: a key missing from a dump was deleted, and its re-created count adds on top', async () => {
    const exporter = make();
    exporter.handle(
      count('@m', [
        [['a'], 10],
        [['b'], 5],
      ]),
    );
    exporter.handle(count('@m', [[['b'], 6]])); // delete(@m["a"])
    exporter.handle(
      count('@m', [
        [['a'], 12],
        [['b'], 7],
      ]),
    ); // re-created, counted 12 since
    expect(value(await exporter.prometheusText(), 'bpftrace_m_total{key0="a"}')).toBe(22);
  });

  it('takes the prints of a map the program clear()s only in END as cumulative (real bpftrace 0.17 run)', async () => {
    // `END { clear(@m); }` keeps @m out of the exit-time dump; it does not make the periodic prints deltas.
    const { program, output } = capture('end-clear.bt', 'end-clear.json');
    const printed = [...output.matchAll(/"@ticks": (\d+)/g)].map((m) => Number(m[1]));
    expect(printed[printed.length - 1]).toBe(0); // the exit-time dump, after END's clear()
    const exporter = make({ program });
    for (const event of parseOutput(output, { program })) exporter.handle(event);
    expect(value(await exporter.prometheusText(), 'bpftrace_ticks_total')).toBe(Math.max(...printed));
  });

  it('places hist(x, k) sub-buckets (bpftrace 0.20+) at their own inclusive upper bounds', async () => {
    // The parser's fixture for bpftrace 0.20's hist(x, k): @k2["x"] = hist(9, 2) and hist(4500, 2).
    const dir = join(import.meta.dirname, '..', '..', 'parser', 'testdata', 'text', '0.20');
    const program = readProgram(readFileSync(join(dir, 'hist-k.bt'), 'utf8'));
    const exporter = make({ program });
    for (const event of parseOutput(readFileSync(join(dir, 'hist-k.txt'), 'utf8'), { program })) exporter.handle(event);
    const text = await exporter.prometheusText();
    // 9 is in [8, 10): le="9"; 4500 is in [4K, 5K): le="5119".
    expect(value(text, 'bpftrace_k2_bucket{key0="x",le="9"}')).toBe(1);
    expect(value(text, 'bpftrace_k2_bucket{key0="x",le="15"}')).toBe(1);
    expect(value(text, 'bpftrace_k2_bucket{key0="x",le="4095"}')).toBe(1);
    expect(value(text, 'bpftrace_k2_bucket{key0="x",le="5119"}')).toBe(2);
    // @k1 = hist(…, 1) of 0, 3, 5, 7, 1500, 1600, 2500
    expect(value(text, 'bpftrace_k1_bucket{le="5"}')).toBe(3);
    expect(value(text, 'bpftrace_k1_bucket{le="1535"}')).toBe(5);
    expect(value(text, 'bpftrace_k1_bucket{le="2047"}')).toBe(6);
    expect(value(text, 'bpftrace_k1_bucket{le="3071"}')).toBe(7);
  });

  it('adds up two keys that bpftrace prints as one (lossy JSON keys), and does not grow them on every dump', async () => {
    // bpftrace 0.24+ deletes spaces from JSON keys: comms "a b" and "ab" both print as "ab".
    const program = readProgram('t:a:b { @c[comm] = count(); @h[comm] = hist(arg0); @s[comm] = stats(arg0); }');
    const exporter = make({ program });
    const dump = (ab: number): string =>
      [
        `{"type":"map","data":{"@c":{"ab":${ab},"ab":3,"x":1}}}`,
        '{"type":"hist","data":{"@h":{"ab":[{"min":4,"max":7,"count":2}],"ab":[{"min":0,"max":0,"count":1},{"min":1,"max":1,"count":1}]}}}',
        '{"type":"stats","data":{"@s":{"ab":{"count":2,"average":5,"total":10},"ab":{"count":1,"average":1,"total":1}}}}',
      ].join('\n');
    for (const event of parseOutput([dump(5), dump(5), dump(5), dump(6)].join('\n'), { program }))
      exporter.handle(event);
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_c_total{comm="ab"}')).toBe(9);
    expect(value(text, 'bpftrace_c_total{comm="x"}')).toBe(1);
    expect(value(text, 'bpftrace_h_count{comm="ab"}')).toBe(4);
    expect(value(text, 'bpftrace_h_bucket{comm="ab",le="1"}')).toBe(2);
    expect(value(text, 'bpftrace_s_count_total{comm="ab"}')).toBe(3);
    expect(value(text, 'bpftrace_s_sum_total{comm="ab"}')).toBe(11);
  });

  it('carries totals forward when a second bpftrace run follows in the same stream (real bpftrace 0.17 runs)', async () => {
    // `(bpftrace -f json runs.bt 4; bpftrace -f json runs.bt 10) | ktrace export`: 4 + 10 ticks counted.
    for (const file of ['runs.json', 'runs.txt']) {
      const { program, output } = capture('runs.bt', file);
      const exporter = make({ program });
      for (const event of parseOutput(output, { program })) exporter.handle(event);
      expect(value(await exporter.prometheusText(), 'bpftrace_c_total'), file).toBe(14);
      const warnings = takeWarnings();
      expect(warnings).toEqual([
        'map @n (value) is not exported: plain-value maps are exported only when listed in include',
      ]);
    }
  });

  it('makes up no bucket for the partial last step of an lhist whose step does not divide its range (real bpftrace 0.17 run)', async () => {
    // lhist(x, 0, 100, 30) of 95, 99, 100, 89, 5: bpftrace 0.17 counts 95 and 99 in its overflow bucket [100, ...).
    const { program, output } = capture('lhist-partial-step.bt', 'lhist-partial-step.json');
    const exporter = make({ program });
    for (const event of parseOutput(output, { program })) exporter.handle(event);
    const text = await exporter.prometheusText();
    const les = [...text.matchAll(/bpftrace_l_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(les).toEqual(['-1=0', '29=1', '59=1', '89=2', '+Inf=5']);
  });

  it('does not count a key twice when it drops out of a print(@m, top) list and the exit-time dump prints it again (real bpftrace 0.17 run)', async () => {
    // "a" counts 10 times, then "b" 20 times; print(@c, 1) every 5 ticks, then bpftrace's exit-time dump of all of @c.
    const { program, output } = capture('print-top.bt', 'print-top.json');
    const exit = /\{"type": "map", "data": \{"@c": \{"a": (\d+), "b": (\d+)\}\}\}/.exec(output);
    const exporter = make({ program });
    for (const event of parseOutput(output, { program })) exporter.handle(event);
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_c_total{key0="a"}')).toBe(Number(exit?.[1]));
    expect(value(text, 'bpftrace_c_total{key0="b"}')).toBe(Number(exit?.[2]));
    const warnings = takeWarnings();
    expect(warnings).toEqual([
      'map @i (value) is not exported: plain-value maps are exported only when listed in include',
    ]);
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
    const exporter = make();
    exporter.handle(hist([['cat', [[4096, 8191, 300]]]]));
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_bytes_bucket{key0="cat",le="4095"}')).toBe(0);
    expect(value(text, 'bpftrace_bytes_bucket{key0="cat",le="8191"}')).toBe(300);
  });

  it('a declared range gives the whole layout from the first dump, so it never grows inside it', async () => {
    const exporter = make({ maps: { '@bytes': { range: [1, 1_000_000] } } });
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
    const exporter = make({ maxSeriesPerMap: 50_000 });
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
