// The loopback Kubernetes API server authorizing from stored RBAC objects, seen through the real kubectl 1.32: an
// install-style ClusterRole and Role applied with kubectl, then `kubectl auth can-i --as` and an impersonated
// request, and kubectl's protobuf-bodied `create` commands.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';

const api = kubeApiServerPerFile({ rbac: true });
const SA = 'system:serviceaccount:ktrace:ktrace-agent';

describe('RBAC through kubectl', () => {
  it('creates with kubectl create, then answers auth can-i --as and impersonated requests from the applied roles', async () => {
    expect((await api.kubectl(['create', 'namespace', 'ktrace'])).stdout.trim()).toBe('namespace/ktrace created');
    expect((await api.kubectl(['create', 'serviceaccount', 'ktrace-agent', '-n', 'ktrace'])).code).toBe(0);
    const cm = await api.kubectl(['create', 'configmap', 'trace-x', '-n', 'ktrace', '--from-literal=spec=BEGIN {}']);
    expect(cm.stdout.trim()).toBe('configmap/trace-x created');
    expect(api.get('configmaps', 'ktrace', 'trace-x')!['data']).toEqual({ spec: 'BEGIN {}' });

    const file = join(api.dir, 'rbac.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ktrace-agent}\nrules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [get, list, watch]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ktrace-agent}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ktrace-agent}\nsubjects: [{kind: ServiceAccount, name: ktrace-agent, namespace: ktrace}]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: traces, namespace: ktrace}\nrules:\n- apiGroups: [""]\n  resources: [configmaps]\n  verbs: [get, list, watch]',
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: traces, namespace: ktrace}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: traces}\nsubjects: [{kind: ServiceAccount, name: ktrace-agent, namespace: ktrace}]',
      ].join('\n---\n'),
    );
    expect((await api.kubectl(['apply', '--server-side', '-f', file])).code).toBe(0);

    const can = async (...args: string[]): Promise<string> => {
      const r = await api.kubectl(['auth', 'can-i', ...args, `--as=${SA}`]);
      return `${r.stdout.trim()} ${r.code}`;
    };
    expect(await can('watch', 'pods', '--all-namespaces')).toBe('yes 0');
    expect(await can('list', 'configmaps', '-n', 'ktrace')).toBe('yes 0');
    expect(await can('list', 'configmaps', '-n', 'default')).toBe('no 1');
    expect(await can('create', 'configmaps', '-n', 'ktrace')).toBe('no 1');
    expect(await can('get', 'pods', '--subresource=log', '-n', 'ktrace')).toBe('no 1');

    const denied = await api.kubectl(['delete', 'configmap', 'trace-x', '-n', 'ktrace', `--as=${SA}`]);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toBe(
      `Error from server (Forbidden): configmaps "trace-x" is forbidden: User "${SA}" cannot delete resource "configmaps" in API group "" in the namespace "ktrace"`,
    );
    const listed = await api.kubectl(['get', 'configmaps', '-n', 'ktrace', '-o', 'name', `--as=${SA}`]);
    expect(listed.stdout.trim().split('\n')).toEqual(['configmap/kube-root-ca.crt', 'configmap/trace-x']);
  });
});
