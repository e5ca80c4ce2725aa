// The loopback Kubernetes API server (support/kube-api-server) against @kubernetes/client-node 1.4: list, server-side
// apply and Status errors, Watch from a resourceVersion and 410, informers through a relist and an outage, a
// node-scoped ListWatch, bookmarks, request counts, pod logs.
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { startKubeApiServer, testPod } from './support/kube-api-server/index.js';
import type { KubeObject } from './support/kube-api-server/index.js';
import { eventually } from './support/ktrace-process.js';

const api = kubeApiServerPerFile({ namespaces: ['team-a'], allowAll: true });

const pod = testPod;

function client(namespace = 'team-a'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfigPath({ namespace }));
  return kc;
}

describe('client-node against the test API server', () => {
  it('lists with selectors, applies server-side, and reads Status errors', async () => {
    const kc = client();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    api.seed(pod('cn-1', { app: 'cn', node: 'a' }));
    api.seed(pod('cn-2', { app: 'cn', node: 'b' }));
    const list = await core.listNamespacedPod({ namespace: 'team-a', labelSelector: 'app=cn,node!=b' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['cn-1']);
    expect(Number(list.metadata?.resourceVersion)).toBe(api.resourceVersion());

    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cn-applied', namespace: 'team-a' },
      data: { x: '1' },
    };
    await objects.patch(cm, undefined, undefined, 'ktrace', undefined, k8s.PatchStrategy.ServerSideApply);
    expect(api.get('configmaps', 'team-a', 'cn-applied')!['data']).toEqual({ x: '1' });
    const conflict = await objects
      .patch(
        { ...cm, data: { x: '2' } },
        undefined,
        undefined,
        'someone-else',
        undefined,
        k8s.PatchStrategy.ServerSideApply,
      )
      .catch((e: unknown) => e as k8s.ApiException<string>);
    expect(conflict).toBeInstanceOf(k8s.ApiException);
    const status = JSON.parse((conflict as k8s.ApiException<string>).body) as {
      code: number;
      reason: string;
      details: { causes: unknown[] };
    };
    expect(status).toMatchObject({
      code: 409,
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "ktrace"', field: '.data.x' }] },
    });

    const created = await core
      .createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'cn-applied' } } })
      .catch((e: unknown) => e as k8s.ApiException<string>);
    expect((created as k8s.ApiException<string>).code).toBe(409);
    expect(JSON.parse((created as k8s.ApiException<string>).body)).toMatchObject({
      reason: 'AlreadyExists',
      message: 'configmaps "cn-applied" already exists',
    });
  });

  it('streams watch events from a resourceVersion, and 410 once that version is compacted away', async () => {
    const kc = client();
    const from = api.resourceVersion();
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w-1', namespace: 'team-a', labels: { w: 'yes' } },
    });
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w-2', namespace: 'team-a', labels: { w: 'no' } },
    });
    const seen: string[] = [];
    const req = await new k8s.Watch(kc).watch(
      '/api/v1/namespaces/team-a/configmaps',
      { resourceVersion: String(from), labelSelector: 'w=yes' },
      (type, obj: KubeObject) => seen.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    // Relabelling w-2 into the selector is an ADDED for this watcher; relabelling w-1 out of it a DELETED.
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w-2', namespace: 'team-a', labels: { w: 'yes' } },
    });
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'w-1', namespace: 'team-a', labels: { w: 'no' } },
    });
    await eventually(
      () => (seen.length >= 3 ? true : undefined),
      'three watch events',
      10_000,
      () => seen.join('\n'),
    );
    expect(seen).toEqual(['ADDED w-1', 'ADDED w-2', 'DELETED w-1']);
    req.abort();

    api.compact();
    const errors: { type: string; code: unknown }[] = [];
    await new k8s.Watch(kc).watch(
      '/api/v1/namespaces/team-a/configmaps',
      { resourceVersion: String(from) },
      (type, obj: { code?: number }) => errors.push({ type, code: obj.code }),
      () => undefined,
    );
    await eventually(() => (errors.length > 0 ? true : undefined), 'an ERROR event', 10_000);
    expect(errors).toEqual([{ type: 'ERROR', code: 410 }]);
  });

  it('keeps an informer with a label selector in sync through a 410 relist and an API server restart', async () => {
    const kc = client();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const selector = 'app.kubernetes.io/name=ktrace';
    const informer = k8s.makeInformer(
      kc,
      '/api/v1/namespaces/team-a/configmaps',
      () => core.listNamespacedConfigMap({ namespace: 'team-a', labelSelector: selector }),
      selector,
    );
    const events: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => events.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
    informer.on('error', (e) => errors.push(e));
    const labels = { 'app.kubernetes.io/name': 'ktrace' };
    const names = (): string[] =>
      informer
        .list('team-a')
        .map((o) => o.metadata!.name!)
        .filter((n) => n.startsWith('inf-'))
        .sort();
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inf-1', namespace: 'team-a', labels } });
    await informer.start();
    expect(names()).toEqual(['inf-1']);
    await eventually(() => (api.openWatches() > 0 ? true : undefined), 'the informer to watch', 10_000);

    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inf-2', namespace: 'team-a', labels } });
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inf-unlabelled', namespace: 'team-a' } });
    await eventually(
      () => (names().join() === 'inf-1,inf-2' ? true : undefined),
      'the informer to see inf-2',
      10_000,
      () => events.join('\n'),
    );

    // The watch ends (as at apiserver's request timeout) and, before the informer re-watches, history is
    // compacted past its resourceVersion: it gets 410, relists, and sees what changed meanwhile.
    api.closeWatches();
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inf-3', namespace: 'team-a', labels } });
    api.delete('configmaps', 'team-a', 'inf-1');
    api.compact();
    await eventually(
      () => (names().join() === 'inf-2,inf-3' ? true : undefined),
      'the informer to relist after 410',
      20_000,
      () => events.join('\n'),
    );
    expect(events).toContain('delete inf-1');
    expect(api.countRequests({ verb: 'list', resource: 'configmaps', namespace: 'team-a' })).toBeGreaterThanOrEqual(2);

    // The API server goes away: the informer reports an error and stops; after the restart, starting it again
    // relists and catches up with a change made during the outage.
    await api.stop();
    await eventually(() => (errors.length > 0 ? true : undefined), 'the informer to report the outage', 20_000);
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inf-4', namespace: 'team-a', labels } });
    await api.restart();
    await informer.start();
    await eventually(
      () => (names().join() === 'inf-2,inf-3,inf-4' ? true : undefined),
      'the informer to catch up after the restart',
      20_000,
      () => events.join('\n'),
    );
    await informer.stop();
  });

  it('serves a node-scoped pod watch (ListWatch with a field selector), with bookmarks, and counts its requests', async () => {
    const kc = client();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const fieldSelector = 'spec.nodeName=node-b';
    const before = Date.now();
    const pods = new k8s.ListWatch<k8s.V1Pod>(
      '/api/v1/pods',
      new k8s.Watch(kc),
      () => core.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    const events: string[] = [];
    pods.on('add', (p) => events.push(`add ${p.metadata?.name}`));
    pods.on('delete', (p) => events.push(`delete ${p.metadata?.name}`));
    api.seed(pod('nb-1', { app: 'nb' }));
    api.setPodStatus('team-a', 'nb-1', { nodeName: 'node-b', phase: 'Running' });
    api.seed(pod('na-1', { app: 'nb' }));
    api.setPodStatus('team-a', 'na-1', { nodeName: 'node-a', phase: 'Running' });
    await pods.start();
    expect(pods.list().map((p) => p.metadata?.name)).toEqual(['nb-1']);

    // A pod bound to node-b later enters this watch as ADDED; one deleted leaves it.
    api.seed(pod('nb-2', { app: 'nb' }));
    api.setPodStatus('team-a', 'nb-2', { nodeName: 'node-b' });
    api.delete('pods', 'team-a', 'nb-1');
    await eventually(
      () => (events.includes('delete nb-1') && events.includes('add nb-2') ? true : undefined),
      'node-b pod events',
      10_000,
      () => events.join('\n'),
    );
    expect(pods.list().map((p) => p.metadata?.name)).toEqual(['nb-2']);
    await pods.stop();

    expect(api.countRequests({ verb: 'list', resource: 'pods', namespace: '', since: before })).toBe(1);
    expect(api.countRequests({ verb: 'watch', resource: 'pods', namespace: '', since: before })).toBe(1);
    expect(api.requestCounts({ since: before, resource: 'pods' })).toMatchObject({ 'list pods': 1, 'watch pods': 1 });

    const bookmarks: string[] = [];
    const bookmarking = await startKubeApiServer({ bookmarkIntervalMs: 100 });
    try {
      const bkc = new k8s.KubeConfig();
      bkc.loadFromFile(bookmarking.kubeconfigPath());
      const req = await new k8s.Watch(bkc).watch(
        '/api/v1/namespaces/default/configmaps',
        { allowWatchBookmarks: true, resourceVersion: String(bookmarking.resourceVersion()) },
        (type, obj: KubeObject) => bookmarks.push(`${type} ${obj.metadata.resourceVersion}`),
        () => undefined,
      );
      await eventually(() => (bookmarks.length >= 2 ? true : undefined), 'two bookmarks', 10_000);
      req.abort();
      expect(bookmarks[0]).toBe(`BOOKMARK ${bookmarking.resourceVersion()}`);
    } finally {
      await bookmarking.close();
    }
  });

  it('authorizes from stored RBAC objects when asked to: a service account gets what its bindings grant, 401 without a token', async () => {
    const sa = 'system:serviceaccount:ktrace:ktrace-agent';
    const rbac = await startKubeApiServer({
      rbac: true,
      namespaces: ['ktrace'],
      tokens: { 'admin-token': 'kubernetes-admin', 'agent-token': sa },
    });
    try {
      const admin = new k8s.KubeConfig();
      admin.loadFromFile(rbac.kubeconfigPath({ token: 'admin-token', fileName: 'admin.yaml' }));
      const rbacApi = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
      await rbacApi.createClusterRole({
        body: {
          metadata: { name: 'ktrace-agent' },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
        },
      });
      await rbacApi.createClusterRoleBinding({
        body: {
          metadata: { name: 'ktrace-agent' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ktrace-agent' },
          subjects: [{ kind: 'ServiceAccount', name: 'ktrace-agent', namespace: 'ktrace' }],
        },
      });
      await rbacApi.createNamespacedRole({
        namespace: 'ktrace',
        body: {
          metadata: { name: 'traces' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
        },
      });
      await rbacApi.createNamespacedRoleBinding({
        namespace: 'ktrace',
        body: {
          metadata: { name: 'traces' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'traces' },
          subjects: [{ kind: 'ServiceAccount', name: 'ktrace-agent', namespace: 'ktrace' }],
        },
      });

      const agent = new k8s.KubeConfig();
      agent.loadFromFile(rbac.kubeconfigPath({ user: sa, namespace: 'ktrace', fileName: 'agent.yaml' }));
      const core = agent.makeApiClient(k8s.CoreV1Api);
      expect((await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-a' })).items).toEqual([]);
      expect((await core.listNamespacedConfigMap({ namespace: 'ktrace' })).items.map((c) => c.metadata?.name)).toEqual([
        'kube-root-ca.crt',
      ]);
      const denied = await core
        .listNamespacedConfigMap({ namespace: 'default' })
        .catch((e: unknown) => e as k8s.ApiException<string>);
      expect((denied as k8s.ApiException<string>).code).toBe(403);
      expect(JSON.parse((denied as k8s.ApiException<string>).body)).toMatchObject({
        reason: 'Forbidden',
        message: `configmaps is forbidden: User "${sa}" cannot list resource "configmaps" in API group "" in the namespace "default"`,
      });
      const write = await core
        .createNamespacedConfigMap({ namespace: 'ktrace', body: { metadata: { name: 'x' } } })
        .catch((e: unknown) => e as k8s.ApiException<string>);
      expect((write as k8s.ApiException<string>).code).toBe(403);

      const review = await agent.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb: 'watch', resource: 'pods' } } },
      });
      expect(review.status?.allowed).toBe(true);

      const nobody = new k8s.KubeConfig();
      nobody.loadFromFile(rbac.kubeconfigPath({ fileName: 'nobody.yaml' }));
      const anon = await nobody
        .makeApiClient(k8s.CoreV1Api)
        .listNamespace()
        .catch((e: unknown) => e as k8s.ApiException<string>);
      expect((anon as k8s.ApiException<string>).code).toBe(401);
    } finally {
      await rbac.close();
    }
  });

  it('serves https with a certificate made at test time that client-node and kubectl trust through the kubeconfig', async () => {
    // Tokens are required, so what authenticates these clients is the admin client certificate in the kubeconfig.
    const secure = await startKubeApiServer({ tls: true, tokens: { 'other-token': 'someone' } });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(secure.kubeconfigPath());
      expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(false);
      const names = (await kc.makeApiClient(k8s.CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name);
      expect(names).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      const r = await secure.kubectl(['get', 'namespaces', '-o', 'name']);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toEqual([
        'namespace/default',
        'namespace/kube-node-lease',
        'namespace/kube-public',
        'namespace/kube-system',
      ]);
      expect(new Set(secure.requests().map((q) => `${q.user} ${q.code}`))).toEqual(new Set(['kubernetes-admin 200']));
    } finally {
      await secure.close();
    }
  });

  it('reads pod logs and follows them', async () => {
    const kc = client();
    api.seed(pod('log-1', { app: 'log' }));
    api.setPodStatus('team-a', 'log-1', { phase: 'Running' });
    api.appendLog('team-a', 'log-1', 'main', 'a\nb\n');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const done = new Promise<void>((resolve) => out.on('end', resolve));
    await new k8s.Log(kc).log('team-a', 'log-1', 'main', out, { follow: true });
    api.appendLog('team-a', 'log-1', 'main', 'c\n');
    await eventually(
      () => (text === 'a\nb\nc\n' ? true : undefined),
      'followed log text',
      10_000,
      () => JSON.stringify(text),
    );
    api.delete('pods', 'team-a', 'log-1');
    await done;
    expect(text).toBe('a\nb\nc\n');
  });
});
