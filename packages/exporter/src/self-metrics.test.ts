// ktrace's self-metrics as /metrics shows them: events counted from zero, the age of each map's dump, and the
// table reserving every name the exposition prints besides the maps.

import { describe, expect, it } from 'vitest';
import {
  count,
  exporterHarness,
  families,
  sample,
  seriesValue as value,
} from '../../../test/support/exporter-harness.js';

const { make } = exporterHarness();

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

describe('self-metric names', () => {
  it('the table reserves every name the exposition prints besides the maps', async () => {
    const { reservedNames } = await import('./self-metrics.js');
    const exporter = make();
    exporter.handle(sample('@c', 'count', 1));
    exporter.handle(sample('@h', 'hist', 1));
    const { types } = families(await exporter.prometheusText());
    const reserved = new Set(reservedNames().map(([name]) => name));
    expect(types.filter((t) => !t.startsWith('bpftrace_') && !reserved.has(t))).toEqual([]);
  });
});
