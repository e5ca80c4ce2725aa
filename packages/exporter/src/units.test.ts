// Base units as a Prometheus or OTLP user sees them: durations in seconds and sizes in bytes, named so, with
// values and `le` bounds divided exactly (no float noise), and the per-map opt-out.

import type { MapSample } from '@ktrace/parser';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { HistogramMetricData, SumMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createExporter } from './exporter.js';
import { BpftraceMetricProducer } from './metric-producer.js';
import { SeriesStore } from './series-store.js';
import type { SeriesStoreOptions } from './options.js';

const hist = (name: string, buckets: Array<[number | null, number | null, number]>): MapSample => ({
  type: 'map',
  name,
  kind: 'hist',
  entries: [{ key: ['sshd'], buckets: buckets.map(([min, max, count]) => ({ min, max, count })) }],
});

const sum = (name: string, value: number): MapSample => ({
  type: 'map',
  name,
  kind: 'sum',
  entries: [{ key: [], value }],
});

function text(options: SeriesStoreOptions, ...samples: MapSample[]): string {
  const store = new SeriesStore({ now: () => 0, onWarning: () => {}, ...options });
  for (const sample of samples) store.ingest(sample);
  return store.prometheusText();
}

describe('base units', () => {
  it('exports a hist of nanoseconds named _ns in seconds, each bound the exact decimal', () => {
    const out = text(
      {},
      hist('@syscall_latency_ns', [
        [512, 1023, 3],
        [1024, 2047, 5],
        [1099511627776, 2199023255551, 1],
      ]),
    );
    expect(out).toContain('# UNIT bpftrace_syscall_latency_seconds seconds\n');
    expect(out).toContain('# TYPE bpftrace_syscall_latency_seconds histogram\n');
    expect(out).toContain('bpftrace_syscall_latency_seconds_bucket{key0="sshd",le="0.000001023"} 3\n');
    expect(out).toContain('bpftrace_syscall_latency_seconds_bucket{key0="sshd",le="0.000002047"} 8\n');
    expect(out).toContain('bpftrace_syscall_latency_seconds_bucket{key0="sshd",le="2199.023255551"} 9\n');
    expect(out).toContain('bpftrace_syscall_latency_seconds_count{key0="sshd"} 9\n');
    expect(out).not.toMatch(/^bpftrace_\w*_ns/m);
    // every bound is the shortest decimal: no 0.0000010230000000000001
    for (const [, le] of out.matchAll(/le="([^"]+)"/g)) expect((le as string).length).toBeLessThan(16);
  });

  it('converts microseconds and milliseconds, declared or named, and sums keep _total after the unit', () => {
    const out = text(
      { maps: { '@runq': { unit: 'us' } } },
      hist('@runq', [[1, 1, 2]]),
      sum('@cpu_time_ms', 1500),
      sum('@io_usecs', 7),
    );
    expect(out).toContain('bpftrace_runq_seconds_bucket{key0="sshd",le="0.000001"} 2\n');
    expect(out).toContain('bpftrace_cpu_time_seconds_total 1.5\n');
    expect(out).toContain('# UNIT bpftrace_cpu_time_seconds_total seconds\n');
    expect(out).toContain('bpftrace_io_seconds_total 0.000007\n');
  });

  it('names sizes _bytes with # UNIT bytes, and leaves count() maps and other units alone', () => {
    const out = text(
      { maps: { '@block_io': { unit: 'By' }, '@pkts': { unit: 'packets' } } },
      sum('@block_io', 4096),
      sum('@pkts', 12),
      { type: 'map', name: '@calls_ns', kind: 'count', entries: [{ key: [], value: 3 }] },
    );
    expect(out).toContain('bpftrace_block_io_bytes_total 4096\n');
    expect(out).toContain('# UNIT bpftrace_block_io_bytes_total bytes\n');
    expect(out).toContain('# UNIT bpftrace_pkts_total packets\n');
    expect(out).toContain('bpftrace_pkts_total 12\n');
    expect(out).toContain('bpftrace_calls_ns_total 3\n');
  });

  it('keeps name, unit and values as bpftrace prints them with baseUnits: false', () => {
    const perMap = text({ maps: { '@lat_us': { unit: 'us', baseUnits: false } } }, hist('@lat_us', [[2, 3, 4]]));
    expect(perMap).toContain('bpftrace_lat_us_bucket{key0="sshd",le="3"} 4\n');
    expect(perMap).toContain('# UNIT bpftrace_lat_us us\n');
    const everywhere = text({ baseUnits: false }, sum('@cpu_time_ms', 1500));
    expect(everywhere).toContain('bpftrace_cpu_time_ms_total 1500\n');
  });

  it('pushes seconds to OTLP as doubles with UCUM unit s, bounds divided alike', async () => {
    const store = new SeriesStore({ now: () => 0, onWarning: () => {} });
    store.ingest(hist('@lat_ns', [[512, 1023, 3]]));
    store.ingest(sum('@read_bytes', 10));
    const { resourceMetrics } = await new BpftraceMetricProducer({ store, now: () => 1 }).collect();
    const metrics = resourceMetrics.scopeMetrics[0]?.metrics ?? [];
    const lat = metrics.find((m) => m.descriptor.name === 'bpftrace_lat_seconds') as HistogramMetricData;
    expect(lat.descriptor.unit).toBe('s');
    expect(lat.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(lat.dataPoints[0]?.value.buckets.boundaries).toEqual([5.11e-7, 0.000001023]);
    const bytes = metrics.find((m) => m.descriptor.name === 'bpftrace_read_bytes') as SumMetricData;
    expect(bytes.descriptor.unit).toBe('By');
    expect(bytes.dataPoints[0]?.value).toBe(10);
  });

  it("says seconds in the self-metrics' # UNIT too, as in the maps'", async () => {
    const exporter = createExporter({ onWarning: () => {} });
    exporter.handle(hist('@lat_ns', [[512, 1023, 3]]));
    const out = await exporter.prometheusText();
    expect(out).toContain('# UNIT ktrace_dump_age_seconds seconds\n');
    expect(out).toContain('# UNIT bpftrace_lat_seconds seconds\n');
    expect(out).not.toMatch(/^# UNIT \S+ s$/m);
    await exporter.shutdown();
  });

  it('serves the same text, units and all, through the OTel renderer as through the store', async () => {
    const texts: string[] = [];
    for (const prometheusRenderer of ['store', 'otel'] as const) {
      const exporter = createExporter({ onWarning: () => {}, prometheusRenderer });
      exporter.handle(
        hist('@lat_ns', [
          [512, 1023, 3],
          [1024, 2047, 5],
        ]),
      );
      exporter.handle(sum('@bytes', 4096));
      const served = await exporter.prometheusText();
      texts.push(served.replace(/^ktrace_dump_age_seconds.*$/gm, '').replace(/service_instance_id="[^"]*"/, ''));
      await exporter.shutdown();
    }
    expect(texts[1]).toContain('# UNIT bpftrace_lat_seconds seconds\n');
    expect(texts[1]).toContain('bpftrace_lat_seconds_bucket{key0="sshd",le="0.000001023"} 3\n');
    expect(texts[1]).toBe(texts[0]);
  });
});
