// OTLP/HTTP push to a real collector on loopback: the store pushed and flushed on shutdown, and delta temporality
// (each point what changed since the last push, summing to the totals).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MapSample } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { count, exporterHarness } from '../../../test/support/exporter-harness.js';

const { make, stop } = exporterHarness();

describe('OTLP/HTTP push (http/json)', () => {
  it('pushes the store to a collector at otlpEndpoint (base URL → /v1/metrics) and flushes on shutdown', async () => {
    const received: Array<{ path: string; body: string }> = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ path: request.url ?? '', body });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      const exporter = make({
        otlpEndpoint: `http://127.0.0.1:${port}`,
        otlpProtocol: 'http/json',
        otlpIntervalMillis: 60_000,
      });
      exporter.handle(count('@pushed', [[['a'], 41]]));
      await stop(exporter);
      const request = received.find((r) => r.path === '/v1/metrics');
      expect(request, JSON.stringify(received.map((r) => r.path))).toBeDefined();
      const metrics = (
        JSON.parse(request?.body ?? '{}') as {
          resourceMetrics: Array<{
            scopeMetrics: Array<{
              metrics: Array<{ name: string; sum?: { dataPoints: Array<{ asInt?: number | string }> } }>;
            }>;
          }>;
        }
      ).resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
      const pushed = metrics.find((m) => m.name === 'bpftrace_pushed');
      expect(Number(pushed?.sum?.dataPoints[0]?.asInt)).toBe(41);
      expect(metrics.some((m) => m.name === 'ktrace_up')).toBe(true);
    } finally {
      collector.close();
    }
  });
});

describe('OTLP delta temporality (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta)', () => {
  it('pushes what changed since the previous push, each point starting where the last ended, summing to the totals', async () => {
    interface Point {
      startTimeUnixNano: string;
      timeUnixNano: string;
      asInt?: number | string;
      bucketCounts?: Array<number | string>;
      explicitBounds?: number[];
      count?: number | string;
    }
    interface Metric {
      name: string;
      sum?: { aggregationTemporality: number; dataPoints: Point[] };
      histogram?: { aggregationTemporality: number; dataPoints: Point[] };
    }
    const pushes: Metric[][] = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const parsed = JSON.parse(body) as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Metric[] }> }> };
        pushes.push(parsed.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((sc) => sc.metrics)));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const saved = process.env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'];
    process.env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'] = 'delta';
    const hist = (buckets: Array<[number, number, number]>): MapSample => ({
      type: 'map',
      name: '@lat',
      kind: 'hist',
      entries: [{ key: [], buckets: buckets.map(([min, max, c]) => ({ min, max, count: c })) }],
    });
    try {
      const exporter = make({
        otlpEndpoint: `http://127.0.0.1:${port}`,
        otlpProtocol: 'http/json',
        otlpIntervalMillis: 100,
      });
      const pushed = async (n: number): Promise<void> => {
        for (let i = 0; i < 200 && pushes.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      };
      exporter.handle(count('@calls', [[['a'], 41]]));
      exporter.handle(
        hist([
          [1, 1, 2],
          [2, 3, 1],
        ]),
      );
      await pushed(1);
      const first = pushes.length;
      exporter.handle(count('@calls', [[['a'], 50]]));
      // The layout grows (a new top bucket) between two pushes: deltas still line up bucket by bucket.
      exporter.handle(
        hist([
          [1, 1, 2],
          [2, 3, 4],
          [4, 7, 0],
          [8, 15, 3],
        ]),
      );
      await pushed(first + 2);
      await stop(exporter);

      const calls = pushes.flatMap((p) => p.filter((m) => m.name === 'bpftrace_calls'));
      expect(calls.every((m) => m.sum?.aggregationTemporality === 1)).toBe(true); // AGGREGATION_TEMPORALITY_DELTA
      const points = calls.flatMap((m) => m.sum?.dataPoints ?? []);
      expect(points.reduce((total, p) => total + Number(p.asInt), 0)).toBe(50);
      expect(points.map((p) => Number(p.asInt)).filter((v) => v !== 0)).toEqual([41, 9]);
      for (let i = 1; i < points.length; i++) expect(points[i]?.startTimeUnixNano).toBe(points[i - 1]?.timeUnixNano);

      const lat = pushes.flatMap((p) => p.filter((m) => m.name === 'bpftrace_lat'));
      expect(lat.every((m) => m.histogram?.aggregationTemporality === 1)).toBe(true);
      // Delta counts per upper bound, added up over every push, equal the last cumulative dump.
      const byBound = new Map<number, number>();
      for (const point of lat.flatMap((m) => m.histogram?.dataPoints ?? [])) {
        (point.bucketCounts ?? []).forEach((c, i) => {
          const bound = point.explicitBounds?.[i] ?? Infinity;
          byBound.set(bound, (byBound.get(bound) ?? 0) + Number(c));
        });
      }
      expect(Object.fromEntries(byBound)).toEqual({ 0: 0, 1: 2, 3: 4, 7: 0, 15: 3, Infinity: 0 });
    } finally {
      if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'];
      else process.env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'] = saved;
      collector.close();
    }
  });
});
