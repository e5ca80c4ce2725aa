import { describe, expect, test } from 'vitest';
import { planTraces } from './agent-plan.js';
import type { PodSelectionView } from './agent-selection.js';
import { decodeTraceConfigMap, parseTraceDocument, traceConfigMap } from './trace-document.js';

function doc(name: string, spec: Record<string, unknown> = {}) {
  const configMap = traceConfigMap(
    parseTraceDocument({
      apiVersion: 'ktrace.dev/v1alpha1',
      kind: 'Trace',
      metadata: { name },
      spec: { program: 'profile:hz:99 { @[comm] = count(); }', ...spec },
    }),
    'ktrace',
  );
  return { configMap: configMap.metadata?.name ?? '', decoded: decodeTraceConfigMap(configMap) };
}

/** A node whose pods are known, one of them selected by every trace. */
const podsKnown: PodSelectionView = { selected: () => 1 };

describe('planTraces', () => {
  const linux = { matchLabels: { 'kubernetes.io/os': 'linux' } };
  test('runs what matches the node, skips what does not, reports what is invalid', () => {
    const bad = {
      configMap: 'trace-bad',
      decoded: decodeTraceConfigMap({
        metadata: { name: 'trace-bad', labels: { 'ktrace.dev/trace': 'bad' } },
        data: { 'trace.yaml': 'kind: Nope' },
      }),
    };
    const plans = planTraces(
      [
        doc('all'),
        doc('linux', { nodeSelector: linux }),
        doc('gpu', { nodeSelector: { matchLabels: { pool: 'gpu' } } }),
        bad,
      ],
      {
        name: 'n1',
        labels: { 'kubernetes.io/os': 'linux' },
      },
      podsKnown,
    );
    expect(plans.map((p) => [p.name, p.action])).toEqual([
      ['all', 'run'],
      ['bad', 'invalid'],
      ['gpu', 'skip'],
      ['linux', 'run'],
    ]);
    expect(plans[1]?.action === 'invalid' && plans[1].error).toMatch(/^apiVersion: expected ktrace.dev\/v1alpha1/);
    expect(plans[2]).toMatchObject({ reason: 'nodeSelector does not match node n1' });
  });

  test('while the node labels are unknown, only traces without a nodeSelector run', () => {
    const plans = planTraces(
      [doc('all'), doc('linux', { nodeSelector: linux })],
      {
        name: 'n1',
        labels: undefined,
        unknownBecause: 'forbidden',
      },
      podsKnown,
    );
    expect(plans.map((p) => p.action)).toEqual(['run', 'skip']);
    expect(plans[1]?.action === 'skip' && plans[1].reason).toContain('labels of node n1 are unknown (forbidden)');
  });

  test('a trace that selects pods runs only while a pod of the node is selected, and waits while pods are unknown', () => {
    const node = { name: 'n1', labels: {} };
    const web = doc('web', { podSelector: { matchLabels: { app: 'web' } } });
    const shop = doc('shop', { namespaceSelector: { matchLabels: { team: 'shop' } } });
    const everyPod = doc('pods', { podSelector: {} });
    const count = (matches: Record<string, number>): PodSelectionView => ({
      selected: (trace) => matches[JSON.stringify(trace.podSelector ?? trace.namespaceSelector)] ?? 0,
    });
    const some = count({ '{"matchLabels":{"app":"web"}}': 2, '{}': 5 });
    const plans = planTraces([web, shop, everyPod, doc('all')], node, some);
    expect(plans.map((p) => [p.name, p.action])).toEqual([
      ['all', 'run'],
      ['pods', 'run'],
      ['shop', 'skip'],
      ['web', 'run'],
    ]);
    expect(plans[2]).toMatchObject({ reason: 'no pod of node n1 matches namespaceSelector team=shop' });

    const listing: PodSelectionView = { ...some, unavailable: 'the pods of node n1 are not listed yet' };
    expect(planTraces([web, doc('all')], node, listing).map((p) => [p.name, p.action])).toEqual([
      ['all', 'run'],
      ['web', 'skip'],
    ]);
    expect(planTraces([web], node, listing)[0]).toMatchObject({
      reason: 'podSelector app=web cannot be applied: the pods of node n1 are not listed yet',
    });
    const noNamespaces: PodSelectionView = {
      ...count({ '{"matchLabels":{"team":"shop"}}': 1, '{"matchLabels":{"app":"web"}}': 1 }),
      namespacesUnavailable: 'the namespaces are not listed yet',
    };
    expect(planTraces([web, shop], node, noNamespaces).map((p) => [p.name, p.action])).toEqual([
      ['shop', 'skip'],
      ['web', 'run'],
    ]);
  });
});
