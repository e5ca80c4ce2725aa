// Many traces in one process, as the cluster agent runs them: each startTrace has its own exporter and its own stop,
// and none touches process-wide state (no signal handler without handleSignals).
import { startTrace } from '@ktrace/core';
import type { TraceHandle } from '@ktrace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sampleValue } from './support/ktrace-process.js';

let traces: TraceHandle[] = [];

afterEach(async () => {
  for (const trace of traces) await trace.stop().catch(() => undefined);
  traces = [];
});

describe('startTrace, many times in one process', () => {
  it('runs three traces side by side, each with its own /metrics; stopping one leaves the others running', async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;
    const before = signals.map((s) => process.listenerCount(s));
    for (const map of ['@first', '@second', '@third']) {
      traces.push(
        await startTrace({
          spec: {
            program: `profile:hz:99 { ${map} = count(); }`,
            interval: '200ms',
            metrics: { listen: '127.0.0.1:0' },
          },
          onLog: () => undefined,
        }),
      );
    }
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
    const urls = traces.map((t) => t.status().metricsUrl);
    expect(new Set(urls).size).toBe(3);
    const value = async (trace: TraceHandle, metric: string): Promise<number | undefined> =>
      sampleValue(await (await fetch(`${trace.status().metricsUrl}/metrics`)).text(), metric);
    for (const [i, metric] of ['bpftrace_first_total', 'bpftrace_second_total', 'bpftrace_third_total'].entries()) {
      const trace = traces[i] as TraceHandle;
      await eventually(
        async () => (((await value(trace, metric)) ?? 0) > 0 ? true : undefined),
        `${metric} on its own /metrics`,
        60_000,
      );
      const others = await (await fetch(`${trace.status().metricsUrl}/metrics`)).text();
      expect(others.match(/^bpftrace_\w+_total/gm)).toEqual([metric]);
    }

    const [first, second, third] = traces as [TraceHandle, TraceHandle, TraceHandle];
    expect((await first.stop()).reason).toBe('stopped');
    expect(first.status().state).toBe('stopped');
    const samples = second.status().samples;
    await eventually(
      () => (second.status().samples > samples + 2 ? true : undefined),
      'the second trace to go on printing',
      30_000,
    );
    expect([second.status().state, third.status().state]).toEqual(['running', 'running']);
    expect((await second.stop()).reason).toBe('stopped');
    expect((await third.stop()).reason).toBe('stopped');
    expect(signals.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
