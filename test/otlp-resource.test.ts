// What a collector and Prometheus see of where metrics come from, with the built CLI and the real bpftrace: the
// OTLP resource (service.name, service.version, service.instance.id, OTEL_RESOURCE_ATTRIBUTES) is /metrics'
// target_info, which is the same with OTLP on or off; bpftrace's maps and ktrace's self-metrics come under
// instrumentation scopes of their own.
import { ktraceVersion } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpHttpReceiver } from './support/otlp-receiver.js';
import type { OtlpReceiver } from './support/otlp-receiver.js';
import { requireBuiltCli, startRun } from './support/ktrace-process.js';

let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const RESOURCE_ATTRIBUTES = 'service.instance.id=ktrace-test-1,deployment.environment.name=test';

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  return { ...base, ...extra };
}

/** The target_info line of an exposition, and its labels. */
function targetInfo(text: string): { line: string; labels: Record<string, string> } {
  const line = /^target_info\{.*\} 1$/m.exec(text)?.[0] ?? '';
  const labels = Object.fromEntries([...line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
  return { line, labels };
}

/** `ktrace run` of a ticking program until /metrics has a tick (and, with `otlp`, a push arrived); then SIGTERM. */
async function run(otlp: OtlpReceiver | undefined): Promise<string> {
  requireBuiltCli();
  const ktrace = await startRun('interval:ms:100 { @ticks = count(); }', {
    interval: '500ms',
    listen: true,
    args: otlp === undefined ? [] : ['--otlp-endpoint', otlp.endpoint],
    env: env({ OTEL_RESOURCE_ATTRIBUTES: RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL: '500' }),
  });
  await ktrace.waitForSample({ name: 'bpftrace_ticks_total' }, (v) => v > 0, 'a first dump', 60_000);
  if (otlp !== undefined) {
    await ktrace.waitFor(
      () => (otlp.exports().some((e) => e.metrics.some((m) => m.name === 'bpftrace_ticks')) ? true : undefined),
      'a push with the ticks',
      30_000,
    );
  }
  const text = await ktrace.metrics();
  expect((await ktrace.stop()).code).toBe(0);
  return text;
}

describe('OTLP resource and scopes (ktrace run, real bpftrace)', () => {
  it('the pushed resource is target_info, which is the same without OTLP; maps and self-metrics have their own scopes', async () => {
    receiver = await startOtlpHttpReceiver();
    const withOtlp = targetInfo(await run(receiver));
    const exports = receiver.exports();
    expect(receiver.rejected()).toEqual([]);

    const resource = exports.at(-1)?.resource ?? {};
    expect(resource).toMatchObject({
      'service.name': 'ktrace',
      'service.version': ktraceVersion,
      'service.instance.id': 'ktrace-test-1',
      'deployment.environment.name': 'test',
    });
    // Prometheus' names for the same attributes: dots become underscores.
    expect(withOtlp.labels).toEqual(
      Object.fromEntries(Object.entries(resource).map(([k, v]) => [k.replace(/\./g, '_'), String(v)])),
    );

    const scopes = new Map<string, Set<string>>();
    for (const m of exports.flatMap((e) => e.metrics)) {
      const prefix = m.name.split('_')[0] ?? '';
      scopes.set(prefix, (scopes.get(prefix) ?? new Set()).add(`${m.scope.name}@${m.scope.version}`));
    }
    expect(Object.fromEntries([...scopes].map(([k, v]) => [k, [...v]]))).toEqual({
      bpftrace: [`ktrace.bpftrace@${ktraceVersion}`],
      ktrace: [`ktrace@${ktraceVersion}`],
    });

    const withoutOtlp = targetInfo(await run(undefined));
    expect(withoutOtlp.line).not.toBe('');
    expect(withoutOtlp.line).toBe(withOtlp.line);
  });
});
