// A real Prometheus scrapes the exporter's /metrics while real bpftrace output (packages/exporter/testdata/ticks.json,
// captured from ticks.bt) is fed in dump by dump, across a bpftrace restart. Its HTTP API must then give the
// increase() and histogram_quantile() the fixture implies, and hostile label values back exactly. On every
// Prometheus release of support/versions.ts (2.42 and 3.5: 3.0 made range selectors left-open and writes `le` as floats).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import { JsonFormatReader, readProgram } from '@ktrace/parser';
import type { HistogramBucket, MapSample } from '@ktrace/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';
import { prometheusReleases } from './support/versions.js';
import type { PrometheusRelease } from './support/versions.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'exporter', 'testdata');
const program = readProgram(readFileSync(join(testdata, 'ticks.bt'), 'utf8'));

/** The fixture's map samples, grouped into dumps (a dump ends when a map repeats). */
function dumps(): MapSample[][] {
  const samples: MapSample[] = [];
  const reader = new JsonFormatReader({ emit: (e) => e.type === 'map' && samples.push(e), program });
  readFileSync(join(testdata, 'ticks.json'), 'utf8')
    .split('\n')
    .forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  const out: MapSample[][] = [];
  let current: MapSample[] = [];
  for (const sample of samples) {
    if (current.some((s) => s.name === sample.name)) {
      out.push(current);
      current = [];
    }
    current.push(sample);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Prometheus's bucketQuantile (promql/quantile.go, 2.42) over cumulative {le, count} pairs, +Inf last. */
function promQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  const rank = q * total;
  let b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return buckets[b - 1]?.le ?? NaN;
  if (b === 0 && (buckets[0]?.le ?? 0) <= 0) return buckets[0]?.le ?? NaN;
  b = Math.max(b, 0);
  const start = b === 0 ? 0 : (buckets[b - 1]?.le as number);
  const end = buckets[b]?.le as number;
  const below = b === 0 ? 0 : (buckets[b - 1]?.count as number);
  return start + (end - start) * ((rank - below) / ((buckets[b]?.count as number) - below));
}

/** Cumulative buckets with le at each inclusive upper bound, from printed bpftrace buckets (layout 1, 3, 7, …). */
function cumulative(printed: HistogramBucket[], times: number): Array<{ le: number; count: number }> {
  const out: Array<{ le: number; count: number }> = [];
  let sum = 0;
  for (const bucket of printed) {
    sum += bucket.count * times;
    out.push({ le: bucket.max ?? Infinity, count: sum });
  }
  out.push({ le: Infinity, count: sum });
  return out;
}

/**
 * A window that ends on `last` and holds every sample from `first` on, on both 2.x (left-closed ranges) and 3.x
 * (left-open): 1 ms longer than first→last. Prometheus then extrapolates over that 1 ms, as `extrapolated` computes.
 */
function windowFrom(first: number, last: number): { range: string; extrapolated: (increase: number) => number } {
  const millis = Math.round((last - first) * 1000);
  return { range: `${millis + 1}ms`, extrapolated: (increase) => increase * ((millis + 1) / 1000 / (millis / 1000)) };
}

describe.each(prometheusReleases().map((r) => [r.name, r] as [string, PrometheusRelease]))(
  'exporter scraped by a real Prometheus %s',
  (_name, release) => {
    let exporter: Exporter;
    let prometheus: RunningPrometheus;
    const all = dumps();
    const hostile = [
      'quote"d',
      'back\\slash',
      'new\nline',
      'bad\ud800utf',
      'tab\there',
      'héllo ☃',
      `${'k'.repeat(200)}-long`,
    ];

    const valueOf = async (expr: string): Promise<number | undefined> => (await prometheus.query(expr))[0]?.value;
    const feed = async (dump: MapSample[], expectCalls0: number): Promise<void> => {
      for (const sample of dump) exporter.handle(sample);
      await prometheus.waitFor('bpftrace_calls_total{key0="0"}', (rows) => rows[0]?.value === expectCalls0);
    };

    beforeAll(async () => {
      exporter = createExporter({ listen: '127.0.0.1:0', program, maxLabelValueLength: 64, onWarning: () => {} });
      const { url } = await exporter.start();
      prometheus = await startPrometheus({
        targets: [new URL(url as string).host],
        scrapeInterval: '1s',
        binary: release.prometheus,
      });
    });

    afterAll(async () => {
      await prometheus?.stop();
      await exporter?.shutdown();
    });

    it('gives the exact increase() across a bpftrace restart, with no counter reset', async () => {
      expect(all.length).toBe(4); // three print()s and the exit-time dump
      exporter.handle({ type: 'attached', probes: 1 });
      // first life: @calls[0] printed 3, 6, 10, 10
      await feed(all[0] as MapSample[], 3);
      await feed(all[1] as MapSample[], 6);
      await feed(all[2] as MapSample[], 10);
      await feed(all[3] as MapSample[], 10);
      // bpftrace restarts and prints the same run again from zero: 3, 6, 10 → exported 13, 16, 20
      exporter.recordRestart();
      await feed(all[0] as MapSample[], 13);
      await feed(all[1] as MapSample[], 16);
      await feed(all[2] as MapSample[], 20);

      const [series] = await prometheus.samples('bpftrace_calls_total{key0="0"}[10m]');
      const values = series?.values ?? [];
      const [firstTime, firstValue] = values[0] as [number, number];
      const [lastTime] = values[values.length - 1] as [number, number];
      expect(firstValue).toBe(3);
      const { range, extrapolated } = windowFrom(firstTime, lastTime);
      expect(await valueOf2(`increase(bpftrace_calls_total{key0="0"}[${range}])`, lastTime)).toBeCloseTo(
        extrapolated(20 - 3),
        9,
      );
      expect(await valueOf2(`increase(bpftrace_win_total[${range}])`, lastTime)).toBeCloseTo(extrapolated(60 - 10), 9);
      expect(await valueOf2(`resets(bpftrace_calls_total{key0="0"}[${range}])`, lastTime)).toBe(0);
      // 3.x stores le="31" as "31.0": a regex matches both spellings.
      expect(await valueOf2(`resets(bpftrace_lat_bucket{le=~"31(\\\\.0)?"}[${range}])`, lastTime)).toBe(0);
      expect(await valueOf('ktrace_bpftrace_restarts_total')).toBe(1);
    });

    it('gives the histogram_quantile() the fixture buckets imply', async () => {
      const lat = (all[3] as MapSample[]).find((s) => s.name === '@lat');
      const printed = lat?.entries[0]?.buckets ?? [];
      // two lives of the same run: every bucket twice
      const buckets = cumulative(printed, 2);
      for (const q of [0.5, 0.9, 0.99]) {
        const expected = promQuantile(q, buckets);
        expect(await valueOf(`histogram_quantile(${q}, bpftrace_lat_bucket)`), `q=${q}`).toBeCloseTo(expected, 9);
      }
      // and over an exact window: the second life's buckets only (the first life's final dump is the window start)
      const [series] = await prometheus.samples('bpftrace_lat_count[10m]');
      const values = series?.values ?? [];
      const atRestart = values.findIndex(([, v]) => v > 30);
      const [startTime] = values[atRestart - 1] as [number, number];
      const [endTime] = values[values.length - 1] as [number, number];
      // Every bucket is extrapolated by the same factor over the extra 1 ms, so the quantile is unchanged.
      const { range } = windowFrom(startTime, endTime);
      const secondLife = cumulative(printed, 1);
      expect(await valueOf2(`histogram_quantile(0.5, increase(bpftrace_lat_bucket[${range}]))`, endTime)).toBeCloseTo(
        promQuantile(0.5, secondLife),
        9,
      );
    });

    it('serves hostile label values that Prometheus parses and gives back exactly', async () => {
      exporter.handle({
        type: 'map',
        name: '@hostile',
        kind: 'count',
        entries: hostile.map((key, i) => ({ key: [key], value: i + 1 })),
      });
      const rows = await prometheus.waitFor('bpftrace_hostile_total', (r) => r.length === hostile.length);
      const byValue = new Map(rows.map((row) => [row.value, row.metric['key0']]));
      expect(byValue.get(1)).toBe('quote"d');
      expect(byValue.get(2)).toBe('back\\slash');
      expect(byValue.get(3)).toBe('new\nline');
      expect(byValue.get(4)).toBe('bad\\ud800utf');
      expect(byValue.get(5)).toBe('tab\there');
      expect(byValue.get(6)).toBe('héllo ☃');
      expect(byValue.get(7)).toMatch(/^k{55}…[0-9a-f]{8}$/);
      expect(await valueOf('up{job="ktrace"}')).toBe(1);
    });

    it('interpolates a quantile inside the lowest bucket from its real lower edge (300 reads of 4096 bytes: not 4095.5)', async () => {
      exporter.handle({
        type: 'map',
        name: '@read_bytes',
        kind: 'hist',
        entries: [{ key: [], buckets: [{ min: 4096, max: 8191, count: 300 }] }],
      });
      const rows = await prometheus.waitFor(
        'histogram_quantile(0.5, bpftrace_read_bytes_bucket)',
        (r) => r.length === 1,
      );
      // between le=4095 (0) and le=8191 (300): 4095 + 4096 / 2
      expect(rows[0]?.value).toBe(6143);
    });

    async function valueOf2(expr: string, time: number): Promise<number | undefined> {
      return (await prometheus.query(expr, time))[0]?.value;
    }
  },
);
