// Golden tests: real bpftrace 0.17 output (testdata/) through the parser into the store, out through our
// Prometheus renderer, OTel's PrometheusSerializer and OTel's OTLP JSON serializer.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonFormatReader, OutputParser, readProgram } from '@ktrace/parser';
import type { MapSample, ParseEvent, ProgramInfo } from '@ktrace/parser';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { BpftraceMetricProducer, SeriesStore } from './index.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata');
const NOW = 1_700_000_000_000;
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

function read(name: string): string {
  return readFileSync(join(testdata, name), 'utf8');
}

/** The `-e` program of a shared capture's .prog header. */
function captureProgram(name: string): ProgramInfo {
  const match = /# program \(-e argument, verbatim\):\n# {3}(.*)\n/.exec(read(name));
  if (match === null) throw new Error(`${name} has no program line`);
  return readProgram(match[1] as string);
}

function parseJson(output: string, program: ProgramInfo): ParseEvent[] {
  const events: ParseEvent[] = [];
  const reader = new JsonFormatReader({ emit: (event) => events.push(event), program });
  output.split('\n').forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  return events;
}

function storeFrom(events: ParseEvent[], program: ProgramInfo): SeriesStore {
  const store = new SeriesStore({ program, now: () => NOW, onWarning: () => {} });
  for (const event of events) if (event.type === 'map') store.ingest(event);
  return store;
}

function golden(name: string, actual: string): void {
  if (UPDATE) writeFileSync(join(testdata, name), actual);
  expect(actual).toBe(read(name));
}

/** Sample lines (no comments) of an exposition, as a map from series to value. */
function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), line.slice(space + 1));
  }
  return out;
}

async function otelText(store: SeriesStore): Promise<string> {
  const { resourceMetrics } = await new BpftraceMetricProducer({ store, now: () => NOW }).collect();
  return new PrometheusSerializer(undefined, false, undefined, true, true).serialize(resourceMetrics);
}

describe('ticks.bt (deterministic, JSON)', () => {
  const program = readProgram(read('ticks.bt'));
  const events = parseJson(read('ticks.json'), program);
  const store = storeFrom(events, program);
  const text = store.prometheusText();
  const series = samples(text);

  it('exports the values the program implies after 30 ticks', () => {
    // @calls[i % 3] = count() over i = 1..30: ten each
    expect(series.get('bpftrace_calls_total{key0="0"}')).toBe('10');
    expect(series.get('bpftrace_calls_total{key0="1"}')).toBe('10');
    expect(series.get('bpftrace_calls_total{key0="2"}')).toBe('10');
    // @bytes["r\"w", i % 2] = sum(i): odd 1+3+…+29 = 225, even 2+4+…+30 = 240; the quote escaped
    expect(series.get('bpftrace_bytes_total{key0="r\\"w",key1="1"}')).toBe('225');
    expect(series.get('bpftrace_bytes_total{key0="r\\"w",key1="0"}')).toBe('240');
    // @win is cleared after each print: 10 + 10 + 10 + the exit dump's 0, accumulated from deltas
    expect(series.get('bpftrace_win_total')).toBe('30');
    expect(series.get('bpftrace_mx')).toBe('30');
    expect(series.get('bpftrace_st_count_total')).toBe('30');
    expect(series.get('bpftrace_st_sum_total')).toBe('465');
    expect(series.get('bpftrace_st_average')).toBe('15');
  });

  it('turns hist() into cumulative buckets with le at each inclusive upper bound, and no _sum', () => {
    // values 1..30: [1] 1, [2,3] 2, [4,7] 4, [8,15] 8, [16,31] 15
    expect(series.get('bpftrace_lat_bucket{le="1"}')).toBe('1');
    expect(series.get('bpftrace_lat_bucket{le="3"}')).toBe('3');
    expect(series.get('bpftrace_lat_bucket{le="7"}')).toBe('7');
    expect(series.get('bpftrace_lat_bucket{le="15"}')).toBe('15');
    expect(series.get('bpftrace_lat_bucket{le="31"}')).toBe('30');
    expect(series.get('bpftrace_lat_bucket{le="+Inf"}')).toBe('30');
    expect(series.get('bpftrace_lat_count')).toBe('30');
    expect(text).not.toContain('bpftrace_lat_sum');
  });

  it('gives lhist() the full layout of its arguments, buckets bpftrace trimmed included', () => {
    // lhist(i, 0, 40, 10): [0,9] 9, [10,19] 10, [20,29] 10, [30,39] 1, nothing under 0 or from 40 on
    expect(series.get('bpftrace_lin_bucket{le="-1"}')).toBe('0');
    expect(series.get('bpftrace_lin_bucket{le="9"}')).toBe('9');
    expect(series.get('bpftrace_lin_bucket{le="19"}')).toBe('19');
    expect(series.get('bpftrace_lin_bucket{le="29"}')).toBe('29');
    expect(series.get('bpftrace_lin_bucket{le="39"}')).toBe('30');
    expect(series.get('bpftrace_lin_bucket{le="+Inf"}')).toBe('30');
  });

  it('names the map and aggregation in # HELP and leaves the plain-value map @i out', () => {
    expect(text).toContain('# HELP bpftrace_calls_total bpftrace map @calls[key0], count()\n');
    expect(text).toContain('# HELP bpftrace_lin bpftrace map @lin, lhist(0, 40, 10)\n');
    expect(text).toContain('# TYPE bpftrace_lat histogram\n');
    expect(text).not.toContain('bpftrace_i');
  });

  it('matches the golden exposition', () => {
    golden('ticks.prom', text);
  });

  it('renders the same series as OTel PrometheusSerializer over the MetricProducer', async () => {
    expect(samples(await otelText(store))).toEqual(series);
  });

  it('matches the golden OTLP JSON request', async () => {
    const { resourceMetrics } = await new BpftraceMetricProducer({ store, now: () => NOW }).collect();
    const bytes = JsonMetricsSerializer.serializeRequest(resourceMetrics);
    expect(bytes).toBeDefined();
    const json = `${JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 1)}\n`;
    golden('ticks.otlp.json', json);
    const request = JSON.parse(json) as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<Record<string, unknown>> }> }>;
    };
    const metrics = request.resourceMetrics[0]?.scopeMetrics[0]?.metrics ?? [];
    const lat = metrics.find((m) => m['name'] === 'bpftrace_lat') as {
      histogram: {
        aggregationTemporality: number;
        dataPoints: Array<{ explicitBounds: number[]; bucketCounts: string[]; count: string; sum?: number }>;
      };
    };
    expect(lat.histogram.aggregationTemporality).toBe(2); // cumulative
    const point = lat.histogram.dataPoints[0];
    expect(point?.explicitBounds).toEqual([0, 1, 3, 7, 15, 31]);
    expect(point?.bucketCounts.map(Number)).toEqual([0, 1, 2, 4, 8, 15, 0]);
    expect(Number(point?.count)).toBe(30);
    expect(point?.sum).toBeUndefined();
  });
});

describe('27-real-syscall-latency-json (real workload, 0.17)', () => {
  const program = captureProgram('27-real-syscall-latency-json.prog');
  const events = parseJson(read('27-real-syscall-latency-json.stdout'), program);
  const store = storeFrom(events, program);
  const series = samples(store.prometheusText());
  const maps = events.filter((event): event is MapSample => event.type === 'map');

  it('exports every count entry under its comm and cpu labels, values unchanged', () => {
    const cm = maps.find((m) => m.name === '@cm');
    expect(cm?.entries.length).toBeGreaterThan(5);
    for (const entry of cm?.entries ?? []) {
      const [comm, cpu] = entry.key;
      expect(series.get(`bpftrace_cm_total{comm="${String(comm)}",cpu="${String(cpu)}"}`)).toBe(String(entry.value));
    }
  });

  // @lat_us is exported in seconds (units.ts): bpftrace's microsecond bounds divided by 10^6
  it('keeps every hist count: _count and +Inf equal the sum of the printed buckets, per comm', () => {
    const lat = maps.find((m) => m.name === '@lat_us');
    for (const entry of lat?.entries ?? []) {
      const total = (entry.buckets ?? []).reduce((sum, bucket) => sum + bucket.count, 0);
      const comm = String(entry.key[0]);
      expect(series.get(`bpftrace_lat_seconds_count{comm="${comm}"}`)).toBe(String(total));
      expect(series.get(`bpftrace_lat_seconds_bucket{comm="${comm}",le="+Inf"}`)).toBe(String(total));
      // each printed bucket's cumulative count sits at its inclusive upper bound
      let cumulative = 0;
      for (const bucket of entry.buckets ?? []) {
        cumulative += bucket.count;
        const le = bucket.max === null ? '+Inf' : String(bucket.max / 1e6);
        expect(series.get(`bpftrace_lat_seconds_bucket{comm="${comm}",le="${le}"}`)).toBe(String(cumulative));
      }
    }
  });

  it('gives every comm the same bucket layout (missing buckets filled)', () => {
    const les = new Map<string, string[]>();
    for (const key of series.keys()) {
      const match = /^bpftrace_lat_seconds_bucket\{comm="(.*)",le="([^"]+)"\}$/.exec(key);
      if (match === null) continue;
      les.set(match[1] as string, [...(les.get(match[1] as string) ?? []), match[2] as string]);
    }
    const layouts = new Set([...les.values()].map((list) => list.join(',')));
    expect(les.size).toBeGreaterThan(3);
    expect(layouts.size).toBe(1);
  });

  it('matches OTel PrometheusSerializer over the producer', async () => {
    expect(samples(await otelText(store))).toEqual(series);
  });
});

describe('06-hist-lhist-json (0.17 edge cases)', () => {
  const program = captureProgram('06-hist-lhist-json.prog');
  const store = storeFrom(parseJson(read('06-hist-lhist-json.stdout'), program), program);
  const series = samples(store.prometheusText());

  it('counts negatives under le="-1" and zero under le="0"', () => {
    expect(series.get('bpftrace_h_bucket{le="-1"}')).toBe('1');
    expect(series.get('bpftrace_h_bucket{le="0"}')).toBe('2');
    expect(series.get('bpftrace_h_bucket{le="1"}')).toBe('4');
    expect(series.get('bpftrace_h_count')).toBe('11');
  });

  it('places the [2G, 4G) bucket that 0.17 prints with wrapped bounds at le=2^32-1', () => {
    expect(series.get('bpftrace_big_bucket{le="2147483647"}')).toBe('1');
    expect(series.get('bpftrace_big_bucket{le="4294967295"}')).toBe('3');
    expect(series.get('bpftrace_big_count')).toBe('3');
  });

  it('puts lhist underflow at le=min-1 and overflow only in +Inf', () => {
    expect(series.get('bpftrace_lh_bucket{le="-1"}')).toBe('1');
    expect(series.get('bpftrace_lh_bucket{le="99"}')).toBe('5'); // -3 | 0 | 15 15 | 55 (100 and 1000 overflow)
    expect(series.get('bpftrace_lh_bucket{le="+Inf"}')).toBe('7');
  });
});

describe('ticks.bt, text and JSON output of the same program, through OutputParser', () => {
  const program = readProgram(read('ticks.bt'));
  const exposition = (output: string): string => {
    const store = new SeriesStore({ program, now: () => NOW, onWarning: () => {} });
    const parser = new OutputParser({ program, onEvent: (event) => event.type === 'map' && store.ingest(event) });
    // chunks cut at arbitrary places, as a pipe delivers them
    for (let i = 0; i < output.length; i += 37) parser.write(output.slice(i, i + 37));
    parser.end();
    return store.prometheusText();
  };

  it('gives the same series from text as from JSON', () => {
    const fromJson = samples(exposition(read('ticks.json')));
    const fromText = samples(exposition(read('ticks.txt')));
    expect(fromJson.size).toBeGreaterThan(20);
    expect(fromText).toEqual(fromJson);
  });
});
