import { describe, expect, test } from 'vitest';
import { planTraces } from './agent-plan.js';
import { decodeTraceConfigMap, parseTraceDocument, traceConfigMap } from './trace-document.js';

function doc(name: string, spec: Record<string, unknown> = {}) {
  const configMap = traceConfigMap(
    parseTraceDocument({ apiVersion: 'ktrace.dev/v1alpha1', kind: 'Trace', metadata: { name }, spec: { program: 'profile:hz:99 { @[comm] = count(); }', ...spec } }),
    'ktrace',
  );
  return { configMap: configMap.metadata?.name ?? '', decoded: decodeTraceConfigMap(configMap) };
}

describe('planTraces', () => {
  const linux = { matchLabels: { 'kubernetes.io/os': 'linux' } };
  test('runs what matches the node, skips what does not, reports what is invalid', () => {
    const bad = { configMap: 'trace-bad', decoded: decodeTraceConfigMap({ metadata: { name: 'trace-bad', labels: { 'ktrace.dev/trace': 'bad' } }, data: { 'trace.yaml': 'kind: Nope' } }) };
    const plans = planTraces([doc('all'), doc('linux', { nodeSelector: linux }), doc('gpu', { nodeSelector: { matchLabels: { pool: 'gpu' } } }), bad], {
      name: 'n1',
      labels: { 'kubernetes.io/os': 'linux' },
    });
    expect(plans.map((p) => [p.name, p.action])).toEqual([
      ['all', 'run'],
      ['bad', 'invalid'],
      ['gpu', 'skip'],
      ['linux', 'run'],
    ]);
    expect(plans[1]).toMatchObject({ error: expect.stringMatching(/^apiVersion: expected ktrace.dev\/v1alpha1/) });
    expect(plans[2]).toMatchObject({ reason: 'nodeSelector does not match node n1' });
  });

  test('while the node labels are unknown, only traces without a nodeSelector run', () => {
    const plans = planTraces([doc('all'), doc('linux', { nodeSelector: linux })], { name: 'n1', labels: undefined, unknownBecause: 'forbidden' });
    expect(plans.map((p) => p.action)).toEqual(['run', 'skip']);
    expect(plans[1]).toMatchObject({ reason: expect.stringContaining('labels of node n1 are unknown (forbidden)') });
  });
});
