// deploy/kubernetes and every manifest ktrace generates: the committed kustomize base is what the SDK generates,
// `kubectl kustomize` renders it to exactly the objects `ktrace install` applies, and every object — for each
// privileges profile and each kind of one-shot target — validates against the official Kubernetes schemas
// (kubernetes-models) and Prometheus Operator's (for the PodMonitor).

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  installManifests,
  oneShotConfigMap,
  oneShotJob,
  oneShotManifests,
  PRIVILEGES_PROFILES,
  SECCOMP_PROFILES,
} from '@ktrace/core/kubernetes';
import type { OneShotTarget, OneShotTraceOptions } from '@ktrace/core/kubernetes';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as schedulingV1 from 'kubernetes-models/scheduling.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderKustomizeBase } from '../deploy/kubernetes/generate-manifests.ts';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASE = join(ROOT, 'deploy', 'kubernetes');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

function key(object: K8sObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function byKey(objects: readonly K8sObject[]): Map<string, K8sObject> {
  return new Map(objects.map((object) => [key(object), object]));
}

/** Plain JSON: what the objects are once serialized, as a server or a file holds them. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

async function kustomize(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as K8sObject);
}

type ModelModule = Record<string, unknown>;
/** The schema models by apiVersion: kubernetes-models, and the prometheus-operator models for the PodMonitor. */
const MODELS: Record<string, ModelModule> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'batch/v1': batchV1,
  'rbac.authorization.k8s.io/v1': rbacV1,
  'scheduling.k8s.io/v1': schedulingV1,
  'monitoring.coreos.com/v1': monitoringV1,
};

function validateWithModel(object: K8sObject): void {
  const Model = MODELS[object.apiVersion]?.[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (Model === undefined) throw new Error(`no schema model for ${object.apiVersion} ${object.kind}`);
  new Model(plain(object)).validate();
}

const TARGETS: Record<'node' | 'pod' | 'deployment', OneShotTarget> = {
  node: { kind: 'node' },
  pod: {
    kind: 'pod',
    namespace: 'shop',
    name: 'cart-0',
    container: 'app',
    pods: [
      {
        namespace: 'shop',
        name: 'cart-0',
        uid: '6f1c2d3e-0a1b-4c5d-8e9f-001122334455',
        containerIds: ['a'.repeat(64)],
      },
    ],
  },
  deployment: {
    kind: 'deployment',
    namespace: 'shop',
    name: 'web',
    pods: [
      { namespace: 'shop', name: 'web-7d9f-abcde', uid: '11111111-2222-4333-8444-555555555555' },
      { namespace: 'shop', name: 'web-7d9f-fghij', uid: '66666666-7777-4888-9999-000000000000' },
    ],
  },
};

function oneShot(target: OneShotTarget, privileges: OneShotTraceOptions['privileges']): OneShotTraceOptions {
  return {
    trace: 'opens-x7k2',
    namespace: 'ktrace',
    image: 'registry.example.com/ktrace:0.1.0',
    node: 'worker-1.example.internal',
    target,
    program: 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }',
    durationSeconds: 60,
    ...(privileges === undefined ? {} : { privileges }),
  };
}

describe('deploy/kubernetes', () => {
  it('is what generate-manifests.ts writes (regenerate: node --conditions=ktrace-source --import tsx deploy/kubernetes/generate-manifests.ts)', async () => {
    const rendered = renderKustomizeBase();
    const committed: string[] = [];
    for (const entry of await readdir(BASE, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.yaml'))
        committed.push(relative(BASE, join(entry.parentPath, entry.name)));
    }
    expect(committed.sort()).toEqual([...rendered.keys()].sort());
    for (const [file, text] of rendered) expect(await readFile(join(BASE, file), 'utf8'), file).toBe(text);
  });

  it('renders with kubectl kustomize to exactly the objects ktrace install applies', async () => {
    const rendered = byKey(await kustomize(BASE));
    const installed = byKey(plain(installManifests()) as K8sObject[]);
    expect([...rendered.keys()].sort()).toEqual([...installed.keys()].sort());
    for (const [name, object] of installed) expect(rendered.get(name), name).toEqual(object);
  });

  it('has its PodMonitor apart, rendering to what ktrace install --pod-monitor adds', async () => {
    const rendered = await kustomize(join(BASE, 'pod-monitor'));
    const added = (plain(installManifests({ podMonitor: true })) as K8sObject[]).filter((o) => o.kind === 'PodMonitor');
    expect(rendered).toEqual(added);
    expect(added).toHaveLength(1);
  });

  it('moves entirely with a kustomize namespace overlay: the same objects as ktrace install --namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ktrace-install-overlay-'));
    try {
      const kustomization = [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: tracing',
        'resources:',
        `  - ${relative(dir, BASE)}`,
        `  - ${relative(dir, join(BASE, 'pod-monitor'))}`,
        '',
      ].join('\n');
      await writeFile(join(dir, 'kustomization.yaml'), kustomization);
      const rendered = byKey(await kustomize(dir));
      const installed = byKey(plain(installManifests({ namespace: 'tracing', podMonitor: true })) as K8sObject[]);
      expect([...rendered.keys()].sort()).toEqual([...installed.keys()].sort());
      for (const [name, object] of installed) expect(rendered.get(name), name).toEqual(object);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('labels every object for ktrace, and admits privileged pods in its namespace only', async () => {
    for (const object of [...(await kustomize(BASE)), ...(await kustomize(join(BASE, 'pod-monitor')))]) {
      expect(object.metadata?.labels?.['app.kubernetes.io/name'], key(object)).toBe('ktrace');
      expect(object.metadata?.labels?.['app.kubernetes.io/managed-by'], key(object)).toBe('ktrace');
      if (object.kind !== 'Namespace')
        expect(object.metadata?.labels?.['app.kubernetes.io/component'], key(object)).toMatch(/^(agent|cli|one-shot)$/);
      else expect(object.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
    }
  });
});

describe('official schemas', () => {
  it('reject a broken object (the validation is real)', () => {
    const daemonSet = plain(installManifests()).find((o) => o.kind === 'DaemonSet') as K8sObject & {
      spec: Record<string, unknown>;
    };
    delete daemonSet.spec['selector'];
    expect(() => validateWithModel(daemonSet)).toThrow(/selector/);
    const monitor = plain(installManifests({ podMonitor: true })).find((o) => o.kind === 'PodMonitor') as K8sObject & {
      spec: { podMetricsEndpoints: Array<{ port: unknown }> };
    };
    monitor.spec.podMetricsEndpoints[0]!.port = 9464;
    expect(() => validateWithModel(monitor)).toThrow(/port/);
  });

  it('accept the shipped files', async () => {
    const shipped = [...(await kustomize(BASE)), ...(await kustomize(join(BASE, 'pod-monitor')))];
    expect(shipped.length).toBeGreaterThan(10);
    for (const object of shipped) expect(() => validateWithModel(object), key(object)).not.toThrow();
  });

  for (const privileges of PRIVILEGES_PROFILES) {
    for (const seccomp of SECCOMP_PROFILES) {
      it(`accept the install with privileges ${privileges}, seccomp ${seccomp}`, () => {
        const objects = installManifests({
          privileges,
          seccomp,
          podMonitor: true,
          clusterName: 'prod-eu-1',
          namespace: 'tracing',
          listenPort: 9100,
        });
        expect(new Set(objects.map((o) => o.kind))).toEqual(
          new Set([
            'Namespace',
            'PriorityClass',
            'ServiceAccount',
            'ClusterRole',
            'ClusterRoleBinding',
            'Role',
            'RoleBinding',
            'Service',
            'DaemonSet',
            'PodMonitor',
          ]),
        );
        for (const object of objects)
          expect(() => validateWithModel(object as K8sObject), key(object as K8sObject)).not.toThrow();
      });
    }
    for (const [kind, target] of Object.entries(TARGETS)) {
      it(`accept a one-shot trace of a ${kind} with privileges ${privileges} (Job suspended and resumed, ConfigMap)`, () => {
        const options = oneShot(target, privileges);
        const suspended = oneShotJob(options, { suspend: true });
        const objects = [
          suspended,
          oneShotJob(options, { suspend: false }),
          oneShotConfigMap(options, {
            metadata: { ...suspended.metadata, uid: '0e8e7f64-5a4b-4c3d-9e2f-1a0b9c8d7e6f' },
          }),
        ];
        for (const object of objects)
          expect(() => validateWithModel(object as K8sObject), key(object as K8sObject)).not.toThrow();
      });
    }
  }
  for (const [kind, target] of Object.entries(TARGETS)) {
    it(`accept what ktrace run ${kind}/… --dry-run prints (one-shot.ts's objects)`, () => {
      const { node, target: _target, ...request } = oneShot(target, undefined);
      const objects = oneShotManifests(request, [
        { node, target },
        { node: 'worker-2', target },
      ]);
      expect(objects.map((o) => o.kind)).toEqual(['Job', 'ConfigMap', 'Job', 'ConfigMap']);
      for (const object of objects)
        expect(() => validateWithModel(object as K8sObject), key(object as K8sObject)).not.toThrow();
    });
  }
});
