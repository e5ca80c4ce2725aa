import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadKubeConfig } from './kube-client.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, server: string, context: string, namespace?: string, current = context): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${context}, cluster: {server: "${server}"}}, {name: shared, cluster: {server: "${server}/shared"}}]`,
      `users: [{name: ${context}, user: {token: t}}]`,
      `contexts: [{name: ${context}, context: {cluster: ${context}, user: ${context}${namespace === undefined ? '' : `, namespace: ${namespace}`}}}, {name: shared, context: {cluster: shared, user: ${context}}}]`,
      current === '' ? '' : `current-context: ${current}`,
    ].join('\n'),
  );
  return path;
}

describe('loadKubeConfig, as kubectl reads kubeconfigs', () => {
  const a = file('a.yaml', 'http://127.0.0.1:1001', 'a', 'team-a', '');
  const b = file('b.yaml', 'http://127.0.0.1:1002', 'b', 'team-b');
  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ HOME: dir, ...extra });

  test('KUBECONFIG merges its files: the first to set current-context wins, and the first definition of a name', () => {
    const loaded = loadKubeConfig({ env: env({ KUBECONFIG: `${join(dir, 'missing.yaml')}:${a}:${b}` }) });
    expect(loaded.kubeConfig.currentContext).toBe('b');
    expect(loaded.server).toBe('http://127.0.0.1:1002');
    expect(loaded.namespace).toBe('team-b');
    const shared = loadKubeConfig({ env: env({ KUBECONFIG: `${a}:${b}` }), context: 'shared' });
    expect(shared.server).toBe('http://127.0.0.1:1001/shared');
  });

  test('--context, then the namespace: --namespace over POD_NAMESPACE over the context', () => {
    expect(loadKubeConfig({ env: env({ KUBECONFIG: `${a}:${b}` }), context: 'a' }).namespace).toBe('team-a');
    expect(loadKubeConfig({ env: env({ KUBECONFIG: b, POD_NAMESPACE: 'pod-ns' }) }).namespace).toBe('pod-ns');
    expect(loadKubeConfig({ env: env({ KUBECONFIG: b, POD_NAMESPACE: 'pod-ns' }), namespace: 'flag' }).namespace).toBe(
      'flag',
    );
    expect(loadKubeConfig({ env: env({}), kubeconfig: b, context: 'shared' }).namespace).toBe('default');
    expect(() => loadKubeConfig({ env: env({}), kubeconfig: b, context: 'nope' })).toThrow(
      '--context nope: no such context in',
    );
  });

  test('--kubeconfig ignores KUBECONFIG; nothing to load is KTRACE_KUBECONFIG', () => {
    expect(loadKubeConfig({ env: env({ KUBECONFIG: a }), kubeconfig: b }).server).toBe('http://127.0.0.1:1002');
    expect(() => loadKubeConfig({ env: env({ KUBECONFIG: join(dir, 'missing.yaml') }) })).toThrow(
      /^no kubeconfig: none of the KUBECONFIG files exists/,
    );
    expect(() => loadKubeConfig({ env: env({ KUBECONFIG: a }) })).toThrow(
      /no current context; pick one with --context NAME/,
    );
  });
});
