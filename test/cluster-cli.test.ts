// ktrace apply, get and delete against the loopback API server, asserting what the server holds: a server-side
// apply by field manager `ktrace` that kubectl reads back, a re-apply that updates in place, RBAC refusals that name
// the verb and resource, --all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { leaseType, runCli } from './support/cluster.js';
import type { CliResult } from './support/cluster.js';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-verbs-'));
let kubeconfig: string;
const api = kubeApiServerPerFile({
  namespaces: ['ktrace'],
  resources: [leaseType],
  setup: (server) => {
    kubeconfig = server.kubeconfigPath({ namespace: 'ktrace' });
    writeFileSync(join(dir, 'opens.bt'), 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }\n');
  },
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ktrace(args: string[]): Promise<CliResult> {
  return runCli([...args, '--kubeconfig', kubeconfig], { HOME: dir });
}

describe('ktrace apply, get, delete against the API server', () => {
  it('applies by server-side apply as ktrace, updates in place, lists, deletes', async () => {
    const applied = await ktrace(['apply', '-f', join(dir, 'opens.bt')]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('trace/opens applied (configmap ktrace/trace-opens)\n');
    const stored = api.get('configmaps', 'ktrace', 'trace-opens');
    expect(stored?.['metadata']?.labels).toMatchObject({
      'ktrace.dev/trace': 'opens',
      'app.kubernetes.io/component': 'trace',
    });
    expect(stored?.['metadata']?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['ktrace', 'Apply']]);
    const version = stored?.['metadata']?.resourceVersion;

    // the real kubectl reads the same object
    const viaKubectl = await api.kubectl(['get', 'configmap', 'trace-opens', '-o', 'yaml'], { kubeconfig });
    expect(viaKubectl.code).toBe(0);
    expect(
      parseYaml((parseYaml(viaKubectl.stdout) as { data: Record<string, string> }).data['trace.yaml'] ?? ''),
    ).toMatchObject({ kind: 'Trace', metadata: { name: 'opens' } });

    // again, with a node selector: the same object, updated
    expect((await ktrace(['apply', '-f', join(dir, 'opens.bt'), '--nodes', 'pool in (a,b)'])).code).toBe(0);
    const updated = api.get('configmaps', 'ktrace', 'trace-opens');
    expect(updated?.['metadata']?.resourceVersion).not.toBe(version);
    expect(api.list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace' })).toHaveLength(1);

    const listed = await ktrace(['get']);
    expect(listed.stdout).toMatch(/^NAME\s+NODES\s+RUNNING\s+FAILED\s+ERROR\nopens\s+pool in \(a,b\)\s+0\/0\s+0\s*\n$/);
    const one = await ktrace(['get', 'opens', '-o', 'yaml']);
    expect(parseYaml(one.stdout)).toMatchObject({
      name: 'opens',
      document: { spec: { nodeSelector: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a', 'b'] }] } } },
      nodes: [],
    });
    const missing = await ktrace(['get', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('ktrace: no trace nope in namespace ktrace (ktrace get lists them)\n');

    expect((await ktrace(['apply', '-f', join(dir, 'opens.bt'), '--name', 'second'])).code).toBe(0);
    const all = await ktrace(['delete', '--all']);
    expect(all.stdout).toBe('trace/opens deleted\ntrace/second deleted\n');
    expect(api.list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace' })).toEqual([]);
  });

  it('a Forbidden answer names the verb, the resource and the namespace, exit 1', async () => {
    const undo = api.deny({ verb: 'patch', resource: 'configmaps' });
    try {
      const result = await ktrace(['apply', '-f', join(dir, 'opens.bt')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^ktrace: forbidden: cannot patch configmaps "trace-opens" in namespace "ktrace": .*cannot patch resource "configmaps".*\. Ask for RBAC permission to patch configmaps in namespace ktrace\n$/,
      );
      expect(api.get('configmaps', 'ktrace', 'trace-opens')).toBeUndefined();
    } finally {
      undo();
    }
    const listDenied = api.deny({ verb: 'list', resource: 'leases', group: 'coordination.k8s.io' });
    try {
      const result = await ktrace(['get']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^ktrace: forbidden: cannot list leases\.coordination\.k8s\.io in namespace "ktrace"/,
      );
    } finally {
      listDenied();
    }
  });
});
