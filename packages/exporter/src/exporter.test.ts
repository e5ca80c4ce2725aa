// createExporter as a host sees it: a real HTTP server on loopback (/metrics, /healthz), self-metrics,
// series caps with the overflow series, expiry, hostile names and values, and a taken port.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseOutput, readProgram } from '@ktrace/parser';
import type { MapSample, ProgramInfo } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { createExporter } from './index.js';
import type { Exporter } from './index.js';

const exporters: Exporter[] = [];
/** Warnings of exporters made without their own onWarning: a test that expects one passes onWarning and reads it. */
const unexpected: string[] = [];
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
  expect(unexpected.splice(0)).toEqual([]);
});

function make(options: Parameters<typeof createExporter>[0] = {}): Exporter {
  const exporter = createExporter({ onWarning: (w) => unexpected.push(w), ...options });
  exporters.push(exporter);
  return exporter;
}

/** A stored capture of real bpftrace 0.17 (testdata/README.md): the program read, and its output. */
function capture(programFile: string, outputFile: string): { program: ProgramInfo; output: string } {
  const dir = join(import.meta.dirname, '..', 'testdata');
  return {
    program: readProgram(readFileSync(join(dir, programFile), 'utf8')),
    output: readFileSync(join(dir, outputFile), 'utf8'),
  };
}

function count(name: string, entries: Array<[Array<string | number>, number]>): MapSample {
  return { type: 'map', name, kind: 'count', entries: entries.map(([key, value]) => ({ key, value })) };
}

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('createExporter HTTP server', () => {
  it('serves /metrics and answers /healthz 503 until bpftrace is up, then 200', async () => {
    const exporter = make({ listen: '127.0.0.1:0' });
    const { url } = await exporter.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    exporter.handle({ type: 'attached', probes: 3 });
    exporter.handle(count('@syscalls', [[['bash'], 7]]));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const stable = (t: string): string => t.replace(/^ktrace_dump_age_seconds.*$/gm, '');
    expect(stable(text)).toBe(stable(await exporter.prometheusText()));
    expect(value(text, 'bpftrace_syscalls_total{key0="bash"}')).toBe(7);
    expect(value(text, 'ktrace_up')).toBe(1);
    expect(value(text, 'ktrace_attached_probes')).toBe(3);
    expect(value(text, 'ktrace_series{map="@syscalls"}')).toBe(1);
    expect(value(text, 'ktrace_dumps_total{map="@syscalls"}')).toBe(1);
    expect(text).toContain('target_info{');
    expect(text).not.toContain('otel_scope_name');
    exporter.setUp(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('fails with KTRACE_LISTEN naming the address when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const exporter = make({ listen: `127.0.0.1:${port}` });
      await expect(exporter.start()).rejects.toMatchObject({
        code: 'KTRACE_LISTEN',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      });
    } finally {
      blocker.close();
    }
  });

  it('rejects a --listen that is not HOST:PORT with a clear error', () => {
    expect(() => createExporter({ listen: 'localhost' })).toThrow(/not HOST:PORT/);
  });
});

describe('self-metrics', () => {
  it('counts restarts, lost events, parse problems and runtime errors, from zero', async () => {
    const exporter = make();
    let text = await exporter.prometheusText();
    expect(value(text, 'ktrace_bpftrace_restarts_total')).toBe(0);
    expect(value(text, 'ktrace_up')).toBe(0);
    exporter.recordRestart();
    exporter.handle({ type: 'lost', events: 12 });
    exporter.handle({ type: 'lost', events: 3 });
    exporter.handle({ type: 'problem', line: 4, text: 'garbage', reason: 'not bpftrace output' });
    exporter.handle({ type: 'runtime-error', message: 'helper failed' });
    text = await exporter.prometheusText();
    expect(value(text, 'ktrace_bpftrace_restarts_total')).toBe(1);
    expect(value(text, 'ktrace_lost_events_total')).toBe(15);
    expect(value(text, 'ktrace_parse_problems_total')).toBe(1);
    expect(value(text, 'ktrace_runtime_errors_total')).toBe(1);
  });

  it('reports seconds since each map was last dumped', async () => {
    let now = 1_000_000;
    const exporter = make({ now: () => now });
    exporter.handle(count('@a', [[[], 1]]));
    now += 2_500;
    expect(value(await exporter.prometheusText(), 'ktrace_dump_age_seconds{map="@a"}')).toBe(2.5);
  });
});

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

describe('a sum() that goes down', () => {
  it('is taken as a reset (the counter stays monotonic) and says once how to export a sum of negative values', async () => {
    const warnings: string[] = [];
    const exporter = make({ onWarning: (w) => warnings.push(w) });
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
    expect(warnings.filter((w) => w.includes('went down'))).toEqual([
      'map @delta is a sum() that went down without a bpftrace restart (10 to 7 for {key0="a"}); ktrace takes the fall as the key deleted and re-created, so its counter adds 7 on top of the 10 printed before. If the program adds negative values, that overstates the sum: export the map as a gauge (kind: value for @delta in the trace spec\'s maps)',
    ]);
  });

  it('after a bpftrace restart is no warning, and neither is a count() that goes down', async () => {
    const warnings: string[] = [];
    const exporter = make({ onWarning: (w) => warnings.push(w) });
    exporter.handle({ type: 'map', name: '@bytes', kind: 'sum', entries: [{ key: [], value: 100 }] });
    exporter.recordRestart();
    exporter.handle({ type: 'map', name: '@bytes', kind: 'sum', entries: [{ key: [], value: 40 }] });
    exporter.handle(count('@calls', [[[], 9]]));
    exporter.handle(count('@calls', [[[], 2]]));
    expect(value(await exporter.prometheusText(), 'bpftrace_bytes_total')).toBe(140);
    expect(warnings).toEqual([]);
  });
});

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
    const warnings: string[] = [];
    const skipped = createExporter({ onWarning: (w) => warnings.push(w) });
    exporters.push(skipped);
    const sample: MapSample = { type: 'map', name: '@start', kind: 'value', entries: [{ key: [42], value: 123456 }] };
    skipped.handle(sample);
    expect(await skipped.prometheusText()).not.toContain('bpftrace_start');
    expect(warnings.join('\n')).toContain('@start');
    const listed = make({ include: ['@start'] });
    listed.handle(sample);
    expect(value(await listed.prometheusText(), 'bpftrace_start{key0="42"}')).toBe(123456);
  });
});

describe('OTLP/HTTP push (http/json)', () => {
  it('pushes the store to a collector at otlpEndpoint (base URL → /v1/metrics) and flushes on shutdown', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    const received: Array<{ path: string; body: string }> = [];
    const collector = createHttpServer((request, response) => {
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
      const exporter = createExporter({
        otlpEndpoint: `http://127.0.0.1:${port}`,
        otlpProtocol: 'http/json',
        otlpIntervalMillis: 60_000,
        onWarning: () => {},
      });
      exporter.handle(count('@pushed', [[['a'], 41]]));
      await exporter.shutdown();
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
    const { createServer: createHttpServer } = await import('node:http');
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
    const collector = createHttpServer((request, response) => {
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
      await exporter.shutdown();
      exporters.splice(exporters.indexOf(exporter), 1);

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
      const warnings: string[] = [];
      const exporter = make({ program, onWarning: (w) => warnings.push(w) });
      for (const event of parseOutput(output, { program })) exporter.handle(event);
      expect(value(await exporter.prometheusText(), 'bpftrace_c_total'), file).toBe(14);
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
    const warnings: string[] = [];
    const exporter = make({ program, onWarning: (w) => warnings.push(w) });
    for (const event of parseOutput(output, { program })) exporter.handle(event);
    const text = await exporter.prometheusText();
    expect(value(text, 'bpftrace_c_total{key0="a"}')).toBe(Number(exit?.[1]));
    expect(value(text, 'bpftrace_c_total{key0="b"}')).toBe(Number(exit?.[2]));
    expect(warnings).toEqual([
      'map @i (value) is not exported: plain-value maps are exported only when listed in include',
    ]);
  });
});
