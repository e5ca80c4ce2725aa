// The loopback Kubernetes API server's HTTP semantics that clients rely on but kubectl and client-node tests do not
// reach: Status shapes and codes, patch types, optimistic concurrency, dry run, generateName, deletion propagation,
// several apply conflicts at once, watch timeouts and initial events.
import { describe, expect, it } from 'vitest';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import type { KubeObject } from './support/kube-api-server/index.js';

const api = kubeApiServerPerFile({ namespaces: ['sem'] });

interface Reply {
  code: number;
  body: Record<string, unknown>;
  headers: Headers;
  text: string;
}

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (watch streams are read as text)
  }
  return { code: res.status, body: parsed, headers: res.headers, text };
}

const CM = '/api/v1/namespaces/sem/configmaps';

describe('loopback API server semantics', () => {
  it('answers unknown paths, wrong methods and missing objects with Status objects', async () => {
    const none = await call('GET', '/api/v1/namespaces/sem/widgets');
    expect(none.code).toBe(404);
    expect(none.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    });
    expect(none.headers.get('content-type')).toBe('application/json');
    expect((await call('POST', `${CM}/x`, {})).code).toBe(405);
    const missing = await call('GET', '/apis/batch/v1/namespaces/sem/jobs/nope');
    expect(missing.body).toMatchObject({
      reason: 'NotFound',
      message: 'jobs.batch "nope" not found',
      details: { name: 'nope', group: 'batch', kind: 'jobs' },
    });
    const noNs = await call('POST', '/api/v1/namespaces/ghost/configmaps', { metadata: { name: 'a' } });
    expect(noNs.body).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
  });

  it('creates with generateName, refuses stale updates, and honours dryRun', async () => {
    const made = await call('POST', CM, { metadata: { generateName: 'gen-' }, data: { a: '1' } });
    expect(made.code).toBe(201);
    const meta = made.body['metadata'] as KubeObject['metadata'];
    expect(meta.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(meta.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.generation).toBeUndefined();

    const stale = {
      ...made.body,
      metadata: { ...meta, resourceVersion: String(Number(meta.resourceVersion) - 1) },
      data: { a: '2' },
    };
    const conflict = await call('PUT', `${CM}/${meta.name}`, stale);
    expect(conflict.code).toBe(409);
    expect(conflict.body['message']).toBe(
      `Operation cannot be fulfilled on configmaps "${meta.name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
    const fresh = await call('PUT', `${CM}/${meta.name}`, { ...made.body, data: { a: '2' } });
    expect(fresh.code).toBe(200);
    expect(Number((fresh.body['metadata'] as KubeObject['metadata']).resourceVersion)).toBeGreaterThan(
      Number(meta.resourceVersion),
    );

    const before = api.resourceVersion();
    const dry = await call('POST', `${CM}?dryRun=All`, { metadata: { name: 'dry' } });
    expect(dry.code).toBe(201);
    expect(api.get('configmaps', 'sem', 'dry')).toBeUndefined();
    expect(api.resourceVersion()).toBe(before);

    const same = await call('PUT', `${CM}/${meta.name}`, fresh.body);
    expect((same.body['metadata'] as KubeObject['metadata']).resourceVersion).toBe(
      (fresh.body['metadata'] as KubeObject['metadata']).resourceVersion,
    );
  });

  it('applies merge, JSON and strategic merge patches, and refuses what a real server refuses', async () => {
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'p', namespace: 'sem', labels: { a: '1', b: '2' } },
      data: { x: '1' },
    });
    const merge = await call(
      'PATCH',
      `${CM}/p`,
      { metadata: { labels: { a: null, c: '3' } } },
      'application/merge-patch+json',
    );
    expect((merge.body['metadata'] as KubeObject['metadata']).labels).toEqual({ b: '2', c: '3' });
    const json = await call(
      'PATCH',
      `${CM}/p`,
      [
        { op: 'add', path: '/data/y', value: '2' },
        { op: 'remove', path: '/data/x' },
      ],
      'application/json-patch+json',
    );
    expect(json.body['data']).toEqual({ y: '2' });
    const bad = await call('PATCH', `${CM}/p`, [{ op: 'remove', path: '/data/zz' }], 'application/json-patch+json');
    expect(bad.code).toBe(422);

    api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sp', namespace: 'sem' },
      spec: {
        containers: [
          { name: 'a', image: 'x:1' },
          { name: 'b', image: 'y:1' },
        ],
      },
    });
    const smp = await call(
      'PATCH',
      '/api/v1/namespaces/sem/pods/sp',
      { spec: { containers: [{ name: 'b', image: 'y:2' }] } },
      'application/strategic-merge-patch+json',
    );
    expect(
      (smp.body['spec'] as { containers: { name: string; image: string }[] }).containers.map(
        (c) => `${c.name}=${c.image}`,
      ),
    ).toEqual(['a=x:1', 'b=y:2']);

    api.seed({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'pm', namespace: 'sem' },
      spec: { selector: {}, podMetricsEndpoints: [{ port: 'm' }] },
    });
    const crdSmp = await call(
      'PATCH',
      '/apis/monitoring.coreos.com/v1/namespaces/sem/podmonitors/pm',
      { spec: {} },
      'application/strategic-merge-patch+json',
    );
    expect(crdSmp.code).toBe(415);
    expect(crdSmp.body['reason']).toBe('UnsupportedMediaType');

    const noManager = await call(
      'PATCH',
      `${CM}/p`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n',
      'application/apply-patch+yaml',
    );
    expect(noManager.code).toBe(422);
    expect(noManager.body['message']).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const wrongName = await call(
      'PATCH',
      `${CM}/p?fieldManager=t`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\n',
      'application/apply-patch+yaml',
    );
    expect(wrongName.body).toMatchObject({
      code: 400,
      message: 'the name of the object (q) does not match the name on the URL (p)',
    });
  });

  it('reports every conflicting field of an apply, grouped by manager', async () => {
    const apply = (manager: string, yaml: string): Promise<Reply> =>
      call('PATCH', `${CM}/multi?fieldManager=${manager}`, yaml, 'application/apply-patch+yaml');
    expect(
      (await apply('one', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi}\ndata: {a: "1", b: "1"}\n')).code,
    ).toBe(201);
    const clash = await apply(
      'two',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi}\ndata: {a: "2", b: "2"}\n',
    );
    expect(clash.code).toBe(409);
    expect(clash.body['message']).toBe('Apply failed with 2 conflicts: conflicts with "one":\n- .data.a\n- .data.b');
    // Equal values are shared, not conflicts; a field given up by its only manager disappears.
    expect(
      (await apply('two', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi}\ndata: {a: "1"}\n')).code,
    ).toBe(200);
    const dropped = await apply('one', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi}\ndata: {a: "1"}\n');
    expect(dropped.body['data']).toEqual({ a: '1' });
  });

  it('deletes with Background, Foreground and Orphan propagation, Jobs orphaning by default with a warning', async () => {
    const owned = (owner: KubeObject, name: string): KubeObject =>
      api.seed({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: 'sem',
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata.name!, uid: owner.metadata.uid! },
          ],
        },
      });
    const job = (name: string): KubeObject =>
      api.seed({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: 'sem' },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x:1' }] } } },
      });
    for (const policy of ['Background', 'Foreground'] as const) {
      const j = job(`j-${policy.toLowerCase()}`);
      owned(j, `dep-${policy.toLowerCase()}`);
      const r = await call('DELETE', `/apis/batch/v1/namespaces/sem/jobs/${j.metadata.name}`, {
        propagationPolicy: policy,
      });
      expect(r.code).toBe(200);
      expect(api.get('configmaps', 'sem', `dep-${policy.toLowerCase()}`)).toBeUndefined();
    }
    const j = job('j-default');
    owned(j, 'dep-default');
    const r = await call('DELETE', '/apis/batch/v1/namespaces/sem/jobs/j-default');
    expect(r.headers.get('warning')).toContain('child pods are preserved by default when jobs are deleted');
    expect(api.get('configmaps', 'sem', 'dep-default')!.metadata.ownerReferences).toBeUndefined();

    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dc-1', namespace: 'sem', labels: { sweep: 'yes' } },
    });
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dc-2', namespace: 'sem', labels: { sweep: 'no' } },
    });
    const swept = await call('DELETE', `${CM}?labelSelector=sweep%3Dyes`);
    expect((swept.body['items'] as KubeObject[]).map((i) => i.metadata.name)).toEqual(['dc-1']);
    expect(api.get('configmaps', 'sem', 'dc-2')).toBeDefined();
  });

  it('ends a watch at timeoutSeconds, sends initial events, and 410s an exact list once compacted', async () => {
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w0', namespace: 'sem', labels: { wt: 'x' } } });
    const initial = await call('GET', `${CM}?watch=true&labelSelector=wt%3Dx&timeoutSeconds=1`);
    const lines = initial.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: KubeObject });
    expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['ADDED w0']);

    const streamed = await call(
      'GET',
      `${CM}?watch=true&labelSelector=wt%3Dx&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
    );
    const events = streamed.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: KubeObject });
    expect(events[0]!.type).toBe('ADDED');
    expect(events[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });

    const old = api.resourceVersion();
    api.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', namespace: 'sem' } });
    api.compact();
    const gone = await call('GET', `${CM}?resourceVersion=${old}&resourceVersionMatch=Exact`);
    expect(gone.body).toMatchObject({ code: 410, reason: 'Expired' });
    const watchGone = await call('GET', `${CM}?watch=true&resourceVersion=${old}`);
    expect(JSON.parse(watchGone.text.trim())).toMatchObject({
      type: 'ERROR',
      object: { code: 410, reason: 'Expired', message: `too old resource version: ${old} (${api.resourceVersion()})` },
    });
  });
});
