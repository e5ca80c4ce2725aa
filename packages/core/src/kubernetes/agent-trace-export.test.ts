// How a cluster trace is exported on a node: a trace that selects pods gets `cgroup` in the key of each exported map
// (never of its helper maps), and --max-series-per-trace caps the series, the rest folding into the overflow series.
import { readProgram } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { parseTraceSpec } from '../trace-spec.js';
import { createTraceExporter, prepareTrace } from './agent-trace-export.js';

const latency = [
  'tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }',
  'tracepoint:syscalls:sys_exit_read /@start[tid]/ { @us[comm] = hist((nsecs - @start[tid]) / 1000); @calls = count(); delete(@start[tid]); }',
].join('\n');

describe('prepareTrace', () => {
  it('keys the exported maps of a trace that selects pods by cgroup, and leaves helper maps alone', () => {
    const spec = parseTraceSpec({ program: latency, include: ['@us', '@calls'] });
    const plain = prepareTrace(spec, { selecting: false });
    expect(plain.spec.program).toBe(latency);
    const selecting = prepareTrace(spec, { selecting: true });
    const keys = Object.fromEntries(readProgram(selecting.spec.program).maps.map((m) => [m.name, m.keyNames]));
    expect(keys).toEqual({ '@start': ['tid'], '@us': ['comm', 'cgroup'], '@calls': ['cgroup'] });
    // another export shape: the exporter is not carried across a selector being added
    expect(selecting.signature).not.toBe(plain.signature);
    // not even when every map is keyed by cgroup already: the exporter filters or it does not
    const keyed = parseTraceSpec({ program: 'tracepoint:syscalls:sys_enter_read { @reads[cgroup] = count(); }' });
    const keyedSelecting = prepareTrace(keyed, { selecting: true });
    expect(keyedSelecting.spec.program).toBe(keyed.program);
    expect(keyedSelecting.signature).not.toBe(prepareTrace(keyed, { selecting: false }).signature);
  });

  it('caps the series of a trace by the agent’s limit, keeping a smaller limit of its own', () => {
    const capped = prepareTrace(parseTraceSpec({ program: latency }), { selecting: false, maxSeries: 100 });
    expect(capped.spec.limits).toMatchObject({ maxSeries: 100, maxSeriesPerMap: 100 });
    const own = prepareTrace(parseTraceSpec({ program: latency, limits: { maxSeries: 10 } }), {
      selecting: false,
      maxSeries: 100,
    });
    expect(own.spec.limits).toMatchObject({ maxSeries: 10, maxSeriesPerMap: 100 });
  });

  it('exports keys up to the cap, and those past it in one overflow series with their exact total', async () => {
    const program = 'tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }';
    const prepared = prepareTrace(parseTraceSpec({ program }), { selecting: false, maxSeries: 3 });
    const exporter = createTraceExporter({
      name: 'reads',
      prepared,
      resourceAttributes: { 'k8s.node.name': 'n1' },
      onWarning: () => undefined,
    });
    try {
      exporter.handle({
        type: 'map',
        name: '@reads',
        kind: 'count',
        entries: ['a', 'b', 'c', 'd', 'e'].map((comm, i) => ({ key: [comm], value: i + 1 })),
      });
      const lines = (await exporter.prometheusText()).split('\n').filter((l) => l.startsWith('bpftrace_reads_total'));
      // the first 3 keys, then one overflow series holding d + e
      expect(lines).toEqual([
        'bpftrace_reads_total{comm="a"} 1',
        'bpftrace_reads_total{comm="b"} 2',
        'bpftrace_reads_total{comm="c"} 3',
        'bpftrace_reads_total{otel_metric_overflow="true"} 9',
      ]);
    } finally {
      await exporter.shutdown();
    }
  });
});
