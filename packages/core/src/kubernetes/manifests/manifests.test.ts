// What the generated manifests promise a cluster admin: least privilege per profile, every node covered, probes
// and limits, rights the agent needs and no more, and one-shot Jobs whose final dump is printed before any deadline.
import type { V1ClusterRole, V1DaemonSet, V1Job, V1Role } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { installManifests } from './install.js';
import { oneShotConfigMap, oneShotJob, oneShotJobName } from './one-shot.js';
import type { OneShotTraceOptions } from './one-shot.js';
import type { PrivilegesProfile } from './privileges.js';

function find<T>(
  objects: readonly { kind?: string; metadata?: { name?: string } }[],
  kind: string,
  name = 'ktrace-agent',
): T {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found as T;
}

function agentPod(privileges: PrivilegesProfile) {
  const ds = find<V1DaemonSet>(installManifests({ privileges }), 'DaemonSet');
  const spec = ds.spec!.template.spec!;
  return { spec, container: spec.containers[0]! };
}

describe('the agent DaemonSet', () => {
  it('adds only BPF, PERFMON and SYSLOG by default, drops the rest, and shares no host namespace', () => {
    const { spec, container } = agentPod('default');
    expect(container.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['BPF', 'PERFMON', 'SYSLOG'] });
    expect(container.securityContext?.privileged).toBe(false);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(spec.hostPID).toBe(false);
    expect(spec.hostNetwork).toBeUndefined();
  });

  it('adds hostPID with SYS_PTRACE, and SYS_ADMIN, only in the profiles that ask', () => {
    const caps = (p: PrivilegesProfile) => agentPod(p).container.securityContext?.capabilities?.add;
    expect(agentPod('host-pid').spec.hostPID).toBe(true);
    expect(caps('host-pid')).toEqual(['BPF', 'PERFMON', 'SYSLOG', 'SYS_PTRACE']);
    expect(agentPod('sys-admin').spec.hostPID).toBe(false);
    expect(caps('sys-admin')).toEqual(['BPF', 'PERFMON', 'SYSLOG', 'SYS_ADMIN', 'SYS_RESOURCE']);
    expect(agentPod('host-pid-sys-admin').spec.hostPID).toBe(true);
    expect(caps('host-pid-sys-admin')).toEqual(['BPF', 'PERFMON', 'SYSLOG', 'SYS_PTRACE', 'SYS_ADMIN', 'SYS_RESOURCE']);
  });

  it('runs on every node, with its priority class, probes on /healthz, requests and limits', () => {
    const { spec, container } = agentPod('default');
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.priorityClassName).toBe('ktrace-agent');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    }
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it('mounts tracefs, debugfs, the cgroup tree and BTF from the host, read-only', () => {
    const { spec, container } = agentPod('default');
    const hostPaths = Object.fromEntries(
      (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]),
    );
    expect(hostPaths).toEqual({
      tracefs: '/sys/kernel/tracing',
      debugfs: '/sys/kernel/debug',
      cgroup: '/sys/fs/cgroup',
      btf: '/sys/kernel/btf',
    });
    for (const mount of container.volumeMounts ?? [])
      expect(mount.readOnly === true, mount.name).toBe(mount.name !== 'tmp');
  });

  it('passes the options to the agent: port, cluster name, node and namespace from the downward API', () => {
    const ds = find<V1DaemonSet>(
      installManifests({ listenPort: 9100, clusterName: 'prod-eu-1', namespace: 'tracing' }),
      'DaemonSet',
    );
    const container = ds.spec!.template.spec!.containers[0]!;
    expect(ds.metadata?.namespace).toBe('tracing');
    expect(container.args).toEqual(['agent', '--listen', '0.0.0.0:9100', '--cluster-name', 'prod-eu-1']);
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
    expect(container.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([
      ['NODE_NAME', 'spec.nodeName'],
      ['POD_NAMESPACE', 'metadata.namespace'],
      ['POD_NAME', 'metadata.name'],
    ]);
    expect(ds.spec!.template.metadata?.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9100',
      'prometheus.io/path': '/metrics',
    });
  });
});

describe('the agent RBAC', () => {
  it('reads pods, nodes and namespaces cluster-wide, and writes nothing but Leases in its namespace', () => {
    const objects = installManifests();
    const cluster = find<V1ClusterRole>(objects, 'ClusterRole');
    expect(cluster.rules?.flatMap((r) => r.verbs)).not.toContain('create');
    expect(cluster.rules?.map((r) => r.resources)).toEqual([['pods'], ['nodes'], ['namespaces']]);
    const role = find<V1Role>(objects, 'Role');
    const writes = (role.rules ?? []).filter((r) =>
      r.verbs.some((v) => ['create', 'patch', 'update', 'delete'].includes(v)),
    );
    expect(writes.map((r) => r.resources)).toEqual([['leases']]);
  });
});

describe('install options', () => {
  it('are checked, each bad value naming its option', () => {
    expect(() => installManifests({ namespace: 'Bad_NS' })).toThrow(/--namespace "Bad_NS"/);
    expect(() => installManifests({ image: 'UPPER/Case' })).toThrow(/--image/);
    expect(() => installManifests({ listenPort: 70000 })).toThrow(/--listen-port/);
    expect(() => installManifests({ privileges: 'root' as never })).toThrow(
      /--privileges must be one of default, host-pid, sys-admin, host-pid-sys-admin/,
    );
    expect(() => installManifests({ clusterName: 'a b' })).toThrow(/--cluster-name/);
  });
});

const base: OneShotTraceOptions = {
  trace: 'opens-x7k2',
  namespace: 'ktrace',
  image: 'registry.example.com/ktrace:0.1.0',
  node: 'worker-1',
  target: { kind: 'node' },
  program: 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }',
  durationSeconds: 60,
};

describe('one-shot Jobs', () => {
  it('are pinned to their node by name, tolerate every taint, and never retry', () => {
    const job = oneShotJob(base, { suspend: true });
    const pod = job.spec!.template.spec!;
    expect(pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-1'] }] },
    ]);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.suspend).toBe(true);
    expect(oneShotJob(base, { suspend: false }).spec?.suspend).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('end the trace (final dump printed) before the deadline, and keep the pod a day by default', () => {
    const job: V1Job = oneShotJob({ ...base, durationSeconds: 600, stopTimeoutSeconds: 20 }, { suspend: false });
    const args = job.spec!.template.spec!.containers[0]!.args!;
    expect(args.slice(0, 7)).toEqual([
      'run',
      '--file',
      '/etc/ktrace/program.bt',
      '--duration',
      '600s',
      '--stop-timeout',
      '20s',
    ]);
    expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(600 + 20);
    expect(job.spec!.template.spec!.terminationGracePeriodSeconds).toBeGreaterThan(20);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(86_400);
  });

  it('restrict a pod target to its containers, and a deployment to each of its pods on the node', () => {
    const pod = oneShotJob(
      {
        ...base,
        target: {
          kind: 'pod',
          namespace: 'shop',
          name: 'cart-0',
          container: 'app',
          pods: [{ namespace: 'shop', name: 'cart-0', uid: 'u-1', containerIds: ['c1'] }],
        },
      },
      { suspend: true },
    );
    const podArgs = pod.spec!.template.spec!.containers[0]!.args!;
    expect(podArgs.slice(podArgs.indexOf('--target-pod'))).toEqual(['--target-pod', 'u-1/c1']);
    expect(pod.metadata?.annotations?.['ktrace.dev/target']).toBe('pod/shop/cart-0/app');
    const deploy = oneShotJob(
      {
        ...base,
        target: {
          kind: 'deployment',
          namespace: 'shop',
          name: 'web',
          pods: [
            { namespace: 'shop', name: 'w-a', uid: 'u-a' },
            { namespace: 'shop', name: 'w-b', uid: 'u-b' },
          ],
        },
      },
      { suspend: true },
    );
    const deployArgs = deploy.spec!.template.spec!.containers[0]!.args!;
    expect(deployArgs.slice(deployArgs.indexOf('--target-pod'))).toEqual([
      '--target-pod',
      'u-a',
      '--target-pod',
      'u-b',
    ]);
    expect(oneShotJob(base, { suspend: true }).spec!.template.spec!.containers[0]!.args).not.toContain('--target-pod');
    expect(() =>
      oneShotJob(
        { ...base, target: { kind: 'deployment', namespace: 'shop', name: 'web', pods: [] } },
        { suspend: true },
      ),
    ).toThrow(/deploy\/shop\/web has no pod on node worker-1/);
  });

  it('are named after the trace and node, within a label value', () => {
    expect(oneShotJobName('opens-x7k2', 'worker-1.example.internal')).toBe('opens-x7k2-worker-1-example-internal');
    const long = oneShotJobName('a-rather-long-trace-name-here', 'ip-10-0-12-34.eu-west-1.compute.internal');
    expect(long.length).toBeLessThanOrEqual(52);
    expect(long).not.toBe(oneShotJobName('a-rather-long-trace-name-here', 'ip-10-0-12-35.eu-west-1.compute.internal'));
  });

  it('put the program in a ConfigMap owned by the Job the server returned, labelled with the trace', () => {
    const job = oneShotJob(base, { suspend: true });
    const cm = oneShotConfigMap(base, { metadata: { ...job.metadata, uid: 'job-uid-1' } });
    expect(cm.metadata?.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: 'job-uid-1' },
    ]);
    expect(cm.data).toEqual({ 'program.bt': base.program });
    expect(cm.metadata?.labels?.['ktrace.dev/trace']).toBe('opens-x7k2');
    expect(cm.metadata?.labels?.['app.kubernetes.io/component']).toBe('one-shot');
    expect(job.spec!.template.spec!.volumes?.find((v) => v.name === 'program')?.configMap?.name).toBe(
      cm.metadata?.name,
    );
    expect(() => oneShotConfigMap(base, { metadata: { name: 'x' } })).toThrow(/uid/);
  });
});
