import { spawnSync } from 'node:child_process';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import { readProgram } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import { afterEach, describe, expect, test } from 'vitest';
import { labelSample, mergeExpositions } from './exposition-merge.js';

const exporters: Exporter[] = [];
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
});

function exporterWith(source: string, events: object[]): Exporter {
  const exporter = createExporter({ program: readProgram(source), resourceAttributes: { 'k8s.node.name': 'n1' } });
  exporters.push(exporter);
  for (const event of events) exporter.handle(event as ParseEvent);
  return exporter;
}

describe('mergeExpositions', () => {
  test('two traces exporting the same map: one family, each sample labelled with its trace, valid for promtool', async () => {
    const program = 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); @lat = hist(5); }';
    const a = exporterWith(program, [
      { type: 'attached', probes: 1 },
      { type: 'map', name: '@opens', kind: 'count', entries: [{ key: ['cat'], value: 3 }] },
      { type: 'map', name: '@lat', kind: 'hist', entries: [{ key: [], buckets: [{ min: 4, max: 7, count: 2 }] }] },
    ]);
    const b = exporterWith(program, [
      { type: 'attached', probes: 2 },
      { type: 'map', name: '@opens', kind: 'count', entries: [{ key: ['cat'], value: 5 }] },
    ]);
    const { text, conflicts } = mergeExpositions([
      { labels: { trace: 'a' }, text: await a.prometheusText() },
      { labels: { trace: 'b' }, text: await b.prometheusText() },
    ]);
    expect(conflicts).toEqual([]);
    expect(text.match(/^# TYPE bpftrace_opens_total counter$/gm)).toHaveLength(1);
    expect(text.match(/^# TYPE ktrace_up gauge$/gm)).toHaveLength(1);
    expect(text).toContain('bpftrace_opens_total{trace="a",comm="cat"} 3\n');
    expect(text).toContain('bpftrace_opens_total{trace="b",comm="cat"} 5\n');
    expect(text).toContain('ktrace_attached_probes{trace="b"} 2\n');
    expect(text).toContain('bpftrace_lat_bucket{trace="a",le="7"} 2\n');
    expect(text).toMatch(/^target_info\{trace="a",k8s_node_name="n1",/m);
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(checked.error).toBeUndefined();
    expect(`${checked.stdout}${checked.stderr}`).not.toMatch(/parsing error|error while linting/);
  });

  test('a family two parts give different types is served from the first part only, and named', () => {
    const { text, conflicts } = mergeExpositions([
      { labels: { trace: 'a' }, text: '# TYPE m counter\nm 1\n' },
      { labels: { trace: 'b' }, text: '# TYPE m gauge\nm 2\n# TYPE n gauge\nn 3\n' },
    ]);
    expect(conflicts).toEqual(['m']);
    expect(text).toBe('# TYPE m counter\nm{trace="a"} 1\n# TYPE n gauge\nn{trace="b"} 3\n');
  });
});

describe('labelSample', () => {
  test.each([
    ['m 1', 'm{trace="t"} 1'],
    ['m{} 1', 'm{trace="t"} 1'],
    ['m{a="x"} 1', 'm{trace="t",a="x"} 1'],
    ['m{a="x,}\\"y",trace="own"} 1 1700000000', 'm{trace="t",a="x,}\\"y",exported_trace="own"} 1 1700000000'],
  ])('%s', (line, want) => {
    expect(labelSample(line, { trace: 't' })).toBe(want);
  });
});
