// The loopback Kubernetes API server (support/kube-api-server) against the real kubectl 1.32: get with selectors,
// server-side and client-side apply and conflicts, validation and RBAC errors, delete with garbage collection, a Job
// through the stand-in controller, logs and logs -f. The client-node half is kube-api-server-client-node.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { testPod } from './support/kube-api-server/index.js';
import type { KubeObject } from './support/kube-api-server/index.js';
import { eventually } from './support/ktrace-process.js';

const api = kubeApiServerPerFile({ namespaces: ['team-a'], allowAll: true });

const pod = testPod;

describe('kubectl against the test API server', () => {
  it('gets pods by label selector (equality and set-based) and by field selector', async () => {
    api.seed(pod('web-1', { app: 'web', tier: 'front' }));
    api.seed(pod('web-2', { app: 'web', tier: 'back' }));
    api.seed(pod('db-1', { app: 'db' }));
    api.setPodStatus('team-a', 'web-1', {
      phase: 'Running',
      nodeName: 'node-a',
      containerIDs: { main: 'containerd://1' },
    });

    const table = await api.kubectl(['get', 'pods', '-n', 'team-a', '-l', 'app=web']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['web-1', '1/1', 'Running'],
      ['web-2', '0/1', 'Pending'],
    ]);

    const json = await api.kubectl([
      'get',
      'pods',
      '-n',
      'team-a',
      '-o',
      'json',
      '-l',
      'app in (web,db),tier notin (back)',
    ]);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as { kind: string; items: KubeObject[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['db-1', 'web-1']);
    expect(list.items[0]!.kind).toBe('Pod');

    const notTier = await api.kubectl(['get', 'pods', '-n', 'team-a', '-o', 'name', '-l', '!tier']);
    expect(notTier.stdout.trim()).toBe('pod/db-1');

    const onNode = await api.kubectl([
      'get',
      'pods',
      '-n',
      'team-a',
      '-o',
      'name',
      '--field-selector',
      'spec.nodeName=node-a,status.phase=Running',
    ]);
    expect(onNode.stdout.trim()).toBe('pod/web-1');

    const missing = await api.kubectl(['get', 'pod', 'nope', '-n', 'team-a']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');

    const badSelector = await api.kubectl(['get', 'pods', '-n', 'team-a', '--field-selector', 'spec.color=red']);
    expect(badSelector.code).toBe(1);
    expect(badSelector.stderr).toContain('field label not supported: spec.color');
  });

  it('applies server-side from a file, updates in place, and reports a conflict with another manager', async () => {
    const file = join(api.dir, 'trace.yaml');
    const manifest = (a: string, b: string): string =>
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: trace-opens',
        '  labels:',
        '    app.kubernetes.io/name: ktrace',
        'data:',
        `  a: "${a}"`,
        `  b: "${b}"`,
        '',
      ].join('\n');
    writeFileSync(file, manifest('1', '2'));
    const created = await api.kubectl(['apply', '--server-side', '-f', file, '-n', 'team-a']);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('configmap/trace-opens serverside-applied');
    const first = api.get('configmaps', 'team-a', 'trace-opens')!;
    expect(first['data']).toEqual({ a: '1', b: '2' });

    writeFileSync(file, manifest('1', '3'));
    const updated = await api.kubectl(['apply', '--server-side', '-f', file, '-n', 'team-a']);
    expect(updated.code).toBe(0);
    const second = api.get('configmaps', 'team-a', 'trace-opens')!;
    expect(second['data']).toEqual({ a: '1', b: '3' });
    expect(second.metadata.uid).toBe(first.metadata.uid);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    expect(second.metadata.managedFields).toEqual([
      expect.objectContaining({
        manager: 'kubectl',
        operation: 'Apply',
        fieldsV1: {
          'f:data': { 'f:a': {}, 'f:b': {} },
          'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/name': {} } },
        },
      }),
    ]);

    writeFileSync(join(api.dir, 'other.yaml'), manifest('9', '3'));
    const clash = await api.kubectl([
      'apply',
      '--server-side',
      '--field-manager',
      'ktrace',
      '-f',
      join(api.dir, 'other.yaml'),
      '-n',
      'team-a',
    ]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl": .data.a');
    expect(api.get('configmaps', 'team-a', 'trace-opens')!['data']).toEqual({ a: '1', b: '3' });

    const forced = await api.kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager',
      'ktrace',
      '-f',
      join(api.dir, 'other.yaml'),
      '-n',
      'team-a',
    ]);
    expect(forced.code).toBe(0);
    const third = api.get('configmaps', 'team-a', 'trace-opens')!;
    expect(third['data']).toEqual({ a: '9', b: '3' });
    const owners = Object.fromEntries(
      (third.metadata.managedFields ?? []).map((m) => [m.manager, Object.keys(m.fieldsV1['f:data'] as object)]),
    );
    expect(owners).toEqual({ kubectl: ['f:b'], ktrace: ['f:a', 'f:b'] });
  });

  it('refuses an invalid object with the 422 message of a real server', async () => {
    const file = join(api.dir, 'bad-pod.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: Bad_Name',
        'spec:',
        '  containers:',
        '  - image: busybox',
        '',
      ].join('\n'),
    );
    const r = await api.kubectl(['apply', '--server-side', '-f', file, '-n', 'team-a']);
    expect(r.code).toBe(1);
    // kubectl renders the Status causes one per line.
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('The Pod "Bad_Name" is invalid: ');
    expect(lines[1]).toMatch(
      /^\* metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/,
    );
    expect(lines[2]).toBe('* spec.containers[0].name: Required value');
    expect(api.get('pods', 'team-a', 'Bad_Name')).toBeUndefined();
  });

  it('applies a multi-kind manifest (client-side and server-side) and refuses undeclared fields like a real server', async () => {
    const manifest = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ktrace-install\n  labels:\n    pod-security.kubernetes.io/enforce: privileged',
      'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: ktrace-test-critical\nvalue: 1000000\ndescription: for the ktrace agent',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ktrace-test-agent\nrules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: [get, list, watch]',
      'apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: ktrace-install\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      priorityClassName: ktrace-test-critical\n      containers:\n      - name: agent\n        image: ktrace:dev\n        ports: [{name: metrics, containerPort: 9090}]',
      'apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: agent\n  namespace: ktrace-install\nspec:\n  selector: {matchLabels: {app: agent}}\n  podMetricsEndpoints: [{port: metrics}]',
    ].join('\n---\n');
    const file = join(api.dir, 'install.yaml');
    writeFileSync(file, manifest);
    const ssa = await api.kubectl(['apply', '--server-side', '-f', file]);
    expect(ssa.code).toBe(0);
    expect(ssa.stdout.trim().split('\n')).toEqual([
      'namespace/ktrace-install serverside-applied',
      'priorityclass.scheduling.k8s.io/ktrace-test-critical serverside-applied',
      'clusterrole.rbac.authorization.k8s.io/ktrace-test-agent serverside-applied',
      'daemonset.apps/agent serverside-applied',
      'podmonitor.monitoring.coreos.com/agent serverside-applied',
    ]);
    expect(api.get('priorityclasses', undefined, 'ktrace-test-critical')!['description']).toBe('for the ktrace agent');
    const ds = api.get('daemonsets', 'ktrace-install', 'agent')!;
    // Defaults a real apiserver fills in, and the generation of a workload.
    expect(ds['spec']).toMatchObject({
      revisionHistoryLimit: 10,
      template: {
        spec: {
          restartPolicy: 'Always',
          containers: [{ imagePullPolicy: 'IfNotPresent', ports: [{ protocol: 'TCP' }] }],
        },
      },
    });
    expect(ds.metadata.generation).toBe(1);
    expect(api.get('serviceaccounts', 'ktrace-install', 'default')).toBeDefined();

    // Client-side apply over it: a strategic merge patch that keeps the container list keyed by name and port.
    writeFileSync(file, manifest.replace('containerPort: 9090}', 'containerPort: 9090, hostPort: 9090}'));
    const csa = await api.kubectl(['apply', '-f', file]);
    expect(csa.code).toBe(0);
    expect(csa.stdout).toContain('daemonset.apps/agent configured');
    const ds2 = api.get('daemonsets', 'ktrace-install', 'agent')!;
    expect(
      (ds2['spec'] as { template: { spec: { containers: { ports: unknown[] }[] } } }).template.spec.containers[0]!
        .ports,
    ).toEqual([{ name: 'metrics', containerPort: 9090, hostPort: 9090, protocol: 'TCP' }]);
    expect(ds2.metadata.generation).toBe(2);

    writeFileSync(file, manifest.replace('containerPort: 9090}', 'containerPort: 9090, hostPortt: 1}'));
    const typo = await api.kubectl(['apply', '--server-side', '-f', file]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(
      'Error from server (BadRequest): failed to create typed patch object (apps/v1, Kind=DaemonSet): .spec.template.spec.containers[0].ports[0].hostPortt: field not declared in schema',
    );

    const gone = await api.kubectl(['delete', 'namespace', 'ktrace-install']);
    expect(gone.code).toBe(0);
    expect(api.list('daemonsets', { namespace: 'ktrace-install' })).toEqual([]);
    expect(api.list('podmonitors', { namespace: 'ktrace-install' })).toEqual([]);
    expect(api.get('namespaces', undefined, 'ktrace-install')).toBeUndefined();
  });

  it('answers a denied request with the Forbidden message kubectl prints', async () => {
    api.deny({ verb: 'list', group: '', resource: 'configmaps', namespace: 'team-a' });
    const r = await api.kubectl(['get', 'configmaps', '-n', 'team-a']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): configmaps is forbidden: User "kubernetes-admin" cannot list resource "configmaps" in API group "" in the namespace "team-a"',
    );
  });

  it('deletes a Job and garbage-collects the ConfigMap and Pod it owns', async () => {
    const job = api.seed({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'trace-once', namespace: 'team-a' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'bpftrace', image: 'ktrace:dev' }] } } },
    });
    const owner = [
      { apiVersion: 'batch/v1', kind: 'Job', name: 'trace-once', uid: job.metadata.uid!, controller: true },
    ];
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'trace-once-program', namespace: 'team-a', ownerReferences: owner },
      data: { 'prog.bt': 'BEGIN {}' },
    });
    api.seed({
      ...pod('trace-once-x7k2p', { 'job-name': 'trace-once' }),
      metadata: { name: 'trace-once-x7k2p', namespace: 'team-a', ownerReferences: owner },
    });

    const r = await api.kubectl(['delete', 'job', 'trace-once', '-n', 'team-a']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('job.batch "trace-once" deleted');
    expect(api.get('jobs', 'team-a', 'trace-once')).toBeUndefined();
    expect(api.get('configmaps', 'team-a', 'trace-once-program')).toBeUndefined();
    expect(api.get('pods', 'team-a', 'trace-once-x7k2p')).toBeUndefined();

    const again = await api.kubectl(['delete', 'job', 'trace-once', '-n', 'team-a']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('Error from server (NotFound): jobs.batch "trace-once" not found');
  });

  it('runs a Job pinned to a node through the stand-in Job controller: its pod, its logs, completion', async () => {
    api.seed({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-j', labels: { 'kubernetes.io/hostname': 'node-j' } },
    });
    const jobs = api.runJobs();
    try {
      const file = join(api.dir, 'job.yaml');
      writeFileSync(
        file,
        'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once\nspec:\n  template:\n    spec:\n      nodeSelector: {kubernetes.io/hostname: node-j}\n      restartPolicy: Never\n      containers:\n      - name: trace\n        image: ktrace:dev\n',
      );
      expect((await api.kubectl(['apply', '--server-side', '-f', file, '-n', 'team-a'])).code).toBe(0);
      const job = api.get('jobs.batch', 'team-a', 'once')!;
      const [p] = await eventually(
        () => {
          const ps = api.list('pods', {
            namespace: 'team-a',
            labelSelector: 'job-name=once',
            fieldSelector: 'status.phase=Running',
          });
          return ps.length === 1 ? ps : undefined;
        },
        'the job pod to run',
        10_000,
      );
      expect(p!.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Job', name: 'once', uid: job.metadata.uid, controller: true }),
      ]);
      expect((p!['spec'] as { nodeName?: string }).nodeName).toBe('node-j');

      api.appendLog('team-a', p!.metadata.name!, 'trace', '@opens: 3\n');
      const logs = await api.kubectl(['logs', 'job/once', '-n', 'team-a']);
      expect(logs.stdout).toBe('@opens: 3\n');

      jobs.complete('team-a', 'once', 0);
      const table = await api.kubectl(['get', 'jobs', '-n', 'team-a']);
      expect(table.stdout.trim().split('\n')[1]).toMatch(/^once\s+Complete\s+1\/1\s/);
      expect((await api.kubectl(['delete', 'job', 'once', '-n', 'team-a'])).code).toBe(0);
      expect(api.list('pods', { namespace: 'team-a', labelSelector: 'job-name=once' })).toEqual([]);
    } finally {
      jobs.stop();
    }
  });

  it('shows logs, tails them, and follows them until the container ends', async () => {
    api.seed(pod('agent-1', { app: 'agent' }));
    const waiting = await api.kubectl(['logs', 'agent-1', '-n', 'team-a']);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr.trim()).toBe(
      'Error from server (BadRequest): container "main" in pod "agent-1" is waiting to start: ContainerCreating',
    );

    api.setPodStatus('team-a', 'agent-1', { phase: 'Running', nodeName: 'node-a' });
    api.appendLog('team-a', 'agent-1', 'main', 'line 1\nline 2\nline 3\n');
    expect((await api.kubectl(['logs', 'agent-1', '-n', 'team-a'])).stdout).toBe('line 1\nline 2\nline 3\n');
    expect((await api.kubectl(['logs', 'agent-1', '-n', 'team-a', '--tail', '1'])).stdout).toBe('line 3\n');

    const follower = api.spawnKubectl(['logs', '-f', 'agent-1', '-n', 'team-a']);
    let out = '';
    follower.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => follower.on('close', resolve));
    await eventually(
      () => (out.includes('line 3\n') ? true : undefined),
      'kubectl logs -f to print the existing lines',
      20_000,
    );
    api.appendLog('team-a', 'agent-1', 'main', 'line 4\n');
    await eventually(
      () => (out.includes('line 4\n') ? true : undefined),
      'kubectl logs -f to print a line appended later',
      20_000,
    );
    api.endLog('team-a', 'agent-1', 'main');
    expect(await exited).toBe(0);
    expect(out).toBe('line 1\nline 2\nline 3\nline 4\n');
  });
});
