// `ktrace install` and `ktrace uninstall` (the built CLI) against the loopback API server: the server holds
// exactly the generated objects after install, applied again they update in place, uninstall leaves nothing ktrace
// made (traces, one-shot Jobs and programs, node status included), --dry-run sends no request, errors are one line
// with kubectl's exit codes, and `kubectl apply --server-side -k deploy/kubernetes` creates what install does.

import { join } from 'node:path';
import { installManifests, oneShotConfigMap, oneShotJob } from '@ktrace/core/kubernetes';
import type { OneShotTraceOptions } from '@ktrace/core/kubernetes';
import { describe, expect, it } from 'vitest';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { BUILTIN_RESOURCES, startKubeApiServer } from './support/kube-api-server/index.js';
import type { KubeApiServer, KubeObject } from './support/kube-api-server/index.js';
import { leaseType, runCli } from './support/cluster.js';
import type { CliResult } from './support/cluster.js';
import { ROOT } from './support/ktrace-process.js';

const BASE = join(ROOT, 'deploy', 'kubernetes');
const KTRACE = 'app.kubernetes.io/managed-by=ktrace';
const TYPES = [...BUILTIN_RESOURCES, leaseType];

/** The built CLI to its end, with no kubeconfig of this machine (HOME does not exist). */
function ktrace(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli([...args], { HOME: '/nonexistent', ...env });
}

function resourceOf(object: { apiVersion?: string; kind?: string }): string {
  const type = TYPES.find(
    (t) => t.kind === object.kind && (t.group === '' ? t.version : `${t.group}/${t.version}`) === object.apiVersion,
  );
  if (type === undefined) throw new Error(`no type for ${object.apiVersion} ${object.kind}`);
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** Every object labelled managed-by=ktrace the server holds, as `kind/namespace/name`. */
function ktraceObjects(api: KubeApiServer): string[] {
  return TYPES.flatMap((t) =>
    api
      .list(t.group === '' ? t.plural : `${t.plural}.${t.group}`, { labelSelector: KTRACE })
      .map((o) => `${t.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`),
  ).sort();
}

function expectedKeys(
  objects: readonly { kind?: string; metadata?: { namespace?: string; name?: string } }[],
): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort();
}

/** What a stored object says once the server's bookkeeping (uid, versions, times, managers, status) is set aside. */
function content(object: KubeObject | undefined): unknown {
  if (object === undefined) return undefined;
  const { status: _status, ...rest } = structuredClone(object) as KubeObject & { status?: unknown };
  const meta = rest.metadata as Record<string, unknown>;
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) delete meta[key];
  return rest;
}

let kubeconfig: string;
const api = kubeApiServerPerFile({
  resources: [leaseType],
  allowAll: true,
  setup: (server) => {
    kubeconfig = server.kubeconfigPath({ namespace: 'default' });
  },
});

describe('ktrace install against the test API server', () => {
  it('applies exactly the generated objects, as field manager ktrace, and says so per object', async () => {
    const result = await ktrace(['install', '--kubeconfig', kubeconfig, '--cluster-name', 'test-1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const expected = installManifests({ clusterName: 'test-1' });
    expect(result.stdout.trim().split('\n')).toEqual([
      'namespace/ktrace serverside-applied',
      'priorityclass.scheduling.k8s.io/ktrace-agent serverside-applied',
      'serviceaccount/ktrace-agent serverside-applied',
      'serviceaccount/ktrace-trace serverside-applied',
      'clusterrole.rbac.authorization.k8s.io/ktrace-agent serverside-applied',
      'clusterrolebinding.rbac.authorization.k8s.io/ktrace-agent serverside-applied',
      'role.rbac.authorization.k8s.io/ktrace-agent serverside-applied',
      'rolebinding.rbac.authorization.k8s.io/ktrace-agent serverside-applied',
      'role.rbac.authorization.k8s.io/ktrace-user serverside-applied',
      'clusterrole.rbac.authorization.k8s.io/ktrace-user-targets serverside-applied',
      'service/ktrace-agent serverside-applied',
      'daemonset.apps/ktrace-agent serverside-applied',
    ]);
    expect(ktraceObjects(api)).toEqual(expectedKeys(expected));
    for (const object of expected) {
      const stored = api.get(resourceOf(object), object.metadata?.namespace, object.metadata?.name ?? '');
      expect(stored, `${object.kind}/${object.metadata?.name}`).toMatchObject(
        JSON.parse(JSON.stringify(object)) as object,
      );
      expect(stored?.metadata.managedFields?.map((m) => [m.manager, m.operation])).toContainEqual(['ktrace', 'Apply']);
    }
  });

  it('updates in place when run again with other options', async () => {
    const before = api.get('daemonsets.apps', 'ktrace', 'ktrace-agent');
    const result = await ktrace([
      'install',
      '--kubeconfig',
      kubeconfig,
      '--image',
      'registry.example.com/ktrace:0.1.1',
      '--privileges',
      'host-pid',
    ]);
    expect(result.code).toBe(0);
    const after = api.get('daemonsets.apps', 'ktrace', 'ktrace-agent') as KubeObject & {
      spec: {
        template: {
          spec: {
            hostPID: boolean;
            containers: Array<{ image: string; args: string[]; securityContext: { capabilities: { add: string[] } } }>;
          };
        };
      };
    };
    expect(after.metadata.uid).toBe(before?.metadata.uid);
    expect(after.metadata.resourceVersion).not.toBe(before?.metadata.resourceVersion);
    const container = after.spec.template.spec.containers[0]!;
    expect(container.image).toBe('registry.example.com/ktrace:0.1.1');
    expect(after.spec.template.spec.hostPID).toBe(true);
    expect(container.securityContext.capabilities.add).toEqual(['BPF', 'PERFMON', 'SYSLOG', 'SYS_PTRACE']);
    // --cluster-name was not given this time: applying without it removes it, as kubectl apply would.
    expect(container.args).toEqual(['agent', '--listen', '0.0.0.0:9464']);
    expect(ktraceObjects(api)).toEqual(expectedKeys(installManifests()));
  });

  it('adds the PodMonitor with --pod-monitor', async () => {
    const result = await ktrace(['install', '--kubeconfig', kubeconfig, '--pod-monitor']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('podmonitor.monitoring.coreos.com/ktrace-agent serverside-applied');
    expect(ktraceObjects(api)).toEqual(expectedKeys(installManifests({ podMonitor: true })));
  });

  it('uninstall removes the install and everything ktrace left in its namespace, and nothing else', async () => {
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unrelated', namespace: 'default', labels: { app: 'x' } },
      data: { a: '1' },
    });
    // A continuous trace, through the real `ktrace apply`.
    const applied = await ktrace([
      'apply',
      '--kubeconfig',
      kubeconfig,
      '-n',
      'ktrace',
      '--name',
      'opens',
      '-f',
      join(ROOT, 'examples', 'file-opens.bt'),
    ]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    // A one-shot trace as the CLI creates it: the Job, its program owned by the Job, and an agent's node status.
    const options: OneShotTraceOptions = {
      trace: 'once-1',
      namespace: 'ktrace',
      image: 'registry.example.com/ktrace:0.1.0',
      node: 'node-a',
      target: { kind: 'node' },
      program: 'BEGIN { exit(); }',
      durationSeconds: 10,
    };
    const job = api.seed(oneShotJob(options, { suspend: true }) as unknown as KubeObject, 'ktrace');
    api.seed(
      oneShotConfigMap(options, {
        metadata: { name: job.metadata.name ?? '', uid: job.metadata.uid ?? '' },
      }) as unknown as KubeObject,
      'ktrace',
    );
    api.seed({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'ktrace-node-node-a',
        namespace: 'ktrace',
        labels: {
          'app.kubernetes.io/name': 'ktrace',
          'app.kubernetes.io/managed-by': 'ktrace',
          'app.kubernetes.io/component': 'node-status',
        },
      },
      spec: { holderIdentity: 'ktrace-agent/node-a' },
    });
    expect(ktraceObjects(api).length).toBe(installManifests({ podMonitor: true }).length + 4);

    const result = await ktrace(['uninstall', '--kubeconfig', kubeconfig]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`job.batch/${job.metadata.name} deleted`);
    expect(result.stdout).toContain('namespace/ktrace deleted');
    expect(ktraceObjects(api)).toEqual([]);
    expect(api.get('namespaces', undefined, 'ktrace')).toBeUndefined();
    expect(api.get('configmaps', 'default', 'unrelated')).toBeDefined();

    const again = await ktrace(['uninstall', '--kubeconfig', kubeconfig]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('ktrace is not installed in namespace ktrace: nothing to delete\n');
  });

  it('--dry-run prints the objects and sends no request, even with a kubeconfig at hand', async () => {
    api.resetRequests();
    const json = await ktrace(
      ['install', '--dry-run', '-o', 'json', '--namespace', 'tracing', '--privileges', 'sys-admin'],
      { KUBECONFIG: kubeconfig },
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: JSON.parse(JSON.stringify(installManifests({ namespace: 'tracing', privileges: 'sys-admin' }))) as unknown,
    });
    const yaml = await ktrace(['install', '--dry-run', '--kubeconfig', kubeconfig]);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout.split('\n---\n')).toHaveLength(installManifests().length);
    expect((await ktrace(['uninstall', '--dry-run', '--kubeconfig', kubeconfig])).code).toBe(0);
    expect(api.countRequests()).toBe(0);
    expect(ktraceObjects(api)).toEqual([]);
  });

  it('names the verb and resource when RBAC forbids one, exit 1, one line', async () => {
    const undo = api.deny({ verb: 'patch', group: 'apps', resource: 'daemonsets' });
    const result = await ktrace(['install', '--kubeconfig', kubeconfig]);
    undo();
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^ktrace: forbidden: cannot patch daemonsets\.apps "ktrace-agent" in namespace "ktrace"/,
    );
    expect(result.stderr).toContain('running ktrace install again is safe');
    await ktrace(['uninstall', '--kubeconfig', kubeconfig]);
    expect(ktraceObjects(api)).toEqual([]);
  });

  it('rejects bad options before contacting the server, exit 2', async () => {
    api.resetRequests();
    for (const args of [
      ['--privileges', 'root'],
      ['--namespace', 'Not_A_Name'],
      ['--listen-port', 'x'],
      ['-o', 'xml', '--dry-run'],
    ]) {
      const result = await ktrace(['install', '--kubeconfig', kubeconfig, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(api.countRequests()).toBe(0);
  });

  it('reports an unreachable cluster in one line, exit 1', async () => {
    const down = await startKubeApiServer();
    const config = down.kubeconfigPath();
    await down.stop();
    try {
      const result = await ktrace(['install', '--kubeconfig', config]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^ktrace: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await down.close();
    }
  });
});

describe('kubectl apply --server-side -k deploy/kubernetes', () => {
  it('creates what ktrace install creates', async () => {
    const viaKubectl = await startKubeApiServer({ resources: [leaseType] });
    const viaKtrace = await startKubeApiServer({ resources: [leaseType] });
    try {
      const applied = await viaKubectl.kubectl(['apply', '--server-side', '-k', BASE]);
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      const monitor = await viaKubectl.kubectl(['apply', '--server-side', '-k', join(BASE, 'pod-monitor')]);
      expect(monitor.code).toBe(0);
      expect((await ktrace(['install', '--pod-monitor', '--kubeconfig', viaKtrace.kubeconfigPath()])).code).toBe(0);
      const keys = expectedKeys(installManifests({ podMonitor: true }));
      expect(ktraceObjects(viaKubectl)).toEqual(keys);
      expect(ktraceObjects(viaKtrace)).toEqual(keys);
      for (const object of installManifests({ podMonitor: true })) {
        const args = [resourceOf(object), object.metadata?.namespace, object.metadata?.name ?? ''] as const;
        expect(content(viaKubectl.get(...args)), `${object.kind}/${object.metadata?.name}`).toEqual(
          content(viaKtrace.get(...args)),
        );
      }
      expect(
        viaKubectl.get('daemonsets.apps', 'ktrace', 'ktrace-agent')?.metadata.managedFields?.map((m) => m.manager),
      ).toEqual(['kubectl']);
    } finally {
      await viaKubectl.close();
      await viaKtrace.close();
    }
  });
});
