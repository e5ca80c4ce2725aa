// One-shot traces (`ktrace run node/…|pod/…|deploy/…`, `ktrace logs`, `get`, `delete`) with the built CLI against
// the loopback API server, this test playing the Job controller and kubelet (support/job-kubelet.ts) with pod logs
// captured from the real `ktrace run` the Job runs, on the real bpftrace 0.17. Asserts what the server holds.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { leaseType } from './support/cluster.js';
import { JobKubelet } from './support/job-kubelet.js';
import { startKubeApiServer } from './support/kube-api-server/index.js';
import type { KubeApiServer, KubeObject } from './support/kube-api-server/index.js';
import { freePort } from './support/prometheus.js';
import { ROOT, requireBuiltCli } from './support/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-oneshot-'));
const PROGRAM =
  'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }\ntracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = hist(args->ret); }\n';
let api: KubeApiServer;
let kubelet: JobKubelet;
let kubeconfig: string;
let closedKubeconfig: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnKtrace(args: string[], config = kubeconfig): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [requireBuiltCli(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: config },
  });
}

function collect(child: ChildProcessWithoutNullStreams, onStderr?: (text: string) => void): Promise<Result> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ktrace = (args: string[], config = kubeconfig): Promise<Result> => collect(spawnKtrace(args, config));

/** Runs the real `ktrace run` as the Job's pod does (same flags), merging stdout and stderr as a pod log does. */
function capture(args: string[]): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [requireBuiltCli(), 'run', ...args, '--no-listen', '--no-view', '--output', 'json'],
      { cwd: ROOT },
    );
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    child.on('close', (code) => resolve({ code, log }));
  });
}

const oneShotSelector = 'app.kubernetes.io/component=one-shot';
function oneShotObjects(): KubeObject[] {
  return [
    ...api.list('jobs.batch', { namespace: 'ktrace' }),
    ...api.list('configmaps', { namespace: 'ktrace', labelSelector: oneShotSelector }),
    ...api.list('pods', { namespace: 'ktrace' }),
  ];
}

const argsOf = (job: KubeObject): string[] =>
  (job['spec'] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args ?? [];

beforeAll(async () => {
  writeFileSync(join(dir, 'prog.bt'), PROGRAM);
  const good = await capture(['--file', join(dir, 'prog.bt'), '--duration', '2s', '--stop-timeout', '30s']);
  expect(good.code).toBe(0);
  const at = good.log.indexOf('{"time"', good.log.indexOf('duration reached') - 40);
  const bad = await capture(['-e', 'tracepoint:syscalls:sys_enter_nope { @x = count(); }', '--duration', '2s']);
  expect(bad.code).toBe(2);
  // The agents' status Leases, which `ktrace get` reads beside one-shot Jobs.
  api = await startKubeApiServer({ namespaces: ['ktrace', 'shop'], resources: [leaseType] });
  kubelet = new JobKubelet(api, { head: good.log.slice(0, at), tail: good.log.slice(at), bad: bad.log });
  kubeconfig = api.kubeconfigPath({ namespace: 'ktrace' });
  closedKubeconfig = join(dir, 'closed.yaml');
  writeFileSync(
    closedKubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${await freePort()}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ktrace}}]\ncurrent-context: x\n`,
  );
  for (const node of ['worker-1', 'worker-2']) api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
  const pod = (name: string, labels: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels },
    spec: { containers: [{ name: 'app', image: 'shop:1' }] },
  });
  api.seed(pod('cart-0', { app: 'cart' }));
  api.setPodStatus('shop', 'cart-0', {
    phase: 'Running',
    nodeName: 'worker-2',
    containerIDs: { app: 'containerd://c0ffee01' },
  });
  api.seed(pod('pending-0', { app: 'pending' }));
  for (const [name, node] of [
    ['web-a', 'worker-1'],
    ['web-b', 'worker-2'],
    ['web-c', 'worker-2'],
  ] as const) {
    api.seed(pod(name, { app: 'web' }));
    api.setPodStatus('shop', name, { phase: 'Running', nodeName: node, containerIDs: { app: `containerd://${name}` } });
  }
  const deployment = (name: string, app: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app } },
      template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'shop:1' }] } },
    },
  });
  api.seed(deployment('web', 'web'));
  api.seed(deployment('idle', 'idle'));
}, 60_000);

afterEach(async () => {
  kubelet.script = 'complete';
  api.allowAll();
  await ktrace(['delete', '--all']);
});

afterAll(async () => {
  kubelet?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ktrace run TARGET', () => {
  it('node/NAME: a Job pinned to the node, the program in a ConfigMap the Job owns, everything labelled', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-f', join(dir, 'prog.bt'), '--duration', '30s']);
    expect(run.stderr).toContain('trace/node-worker-1 started on node worker-1 (job ktrace/node-worker-1-worker-1)');
    expect(run.code).toBe(0);
    const job = api.get('jobs.batch', 'ktrace', 'node-worker-1-worker-1')!;
    const configMap = api.get('configmaps', 'ktrace', 'node-worker-1-worker-1')!;
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(() => new ConfigMap(configMap as never).validate()).not.toThrow();
    for (const object of [job, configMap]) {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'ktrace',
        'app.kubernetes.io/managed-by': 'ktrace',
        'ktrace.dev/trace': 'node-worker-1',
      });
    }
    expect((job['spec'] as { suspend: boolean }).suspend).toBe(false);
    expect(argsOf(job)).toContain('30s');
    expect(configMap.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: job.metadata.name, uid: job.metadata.uid }),
    ]);
    expect((configMap['data'] as Record<string, string>)['program.bt']).toBe(PROGRAM);
  });

  it('re-running updates in place: the same trace is left running, a changed one replaces its Job under the same name', async () => {
    const args = [
      'run',
      'node/worker-1',
      '-e',
      'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }',
      '--name',
      'opens',
    ];
    expect((await ktrace(args)).code).toBe(0);
    const first = api.get('jobs.batch', 'ktrace', 'opens-worker-1')!;
    const again = await ktrace(args);
    expect(again.stderr).toContain('trace/opens already running on node worker-1');
    expect(api.get('jobs.batch', 'ktrace', 'opens-worker-1')!.metadata.uid).toBe(first.metadata.uid);
    const changed = await ktrace([
      ...args.slice(0, 2),
      '-e',
      'tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }',
      '--name',
      'opens',
    ]);
    expect(changed.code, changed.stderr).toBe(0);
    const jobs = api.list('jobs.batch', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' });
    expect(jobs.map((j) => j.metadata.name)).toEqual(['opens-worker-1']);
    expect(jobs[0]!.metadata.uid).not.toBe(first.metadata.uid);
    expect(
      api
        .list('configmaps', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' })
        .map((c) => (c['data'] as Record<string, string>)['program.bt']),
    ).toEqual(['tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }']);
    expect(api.list('pods', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=opens' })).toHaveLength(1);
  });

  it("pod/NAME/CONTAINER: one Job on the pod's node, restricted to that container", async () => {
    const run = await ktrace(['run', 'pod/cart-0/app', '--target-namespace', 'shop', '-f', join(dir, 'prog.bt')]);
    expect(run.code).toBe(0);
    const jobs = api.list('jobs.batch', { namespace: 'ktrace' });
    expect(jobs.map((j) => j.metadata.name)).toEqual(['pod-cart-0-app-worker-2']);
    const uid = api.get('pods', 'shop', 'cart-0')!.metadata.uid;
    expect(argsOf(jobs[0]!).slice(-2)).toEqual(['--target-pod', `${uid}/c0ffee01`]);
    expect(jobs[0]!.metadata.annotations?.['ktrace.dev/target']).toBe('pod/shop/cart-0/app');
  });

  it("deploy/NAME: one Job per node of the deployment's pods, each restricted to its pods there", async () => {
    const run = await ktrace(['run', 'deploy/web', '--target-namespace', 'shop', '-f', join(dir, 'prog.bt')]);
    expect(run.code).toBe(0);
    const jobs = api
      .list('jobs.batch', { namespace: 'ktrace' })
      .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    expect(jobs.map((j) => j.metadata.name)).toEqual(['deploy-web-worker-1', 'deploy-web-worker-2']);
    const uid = (pod: string) => api.get('pods', 'shop', pod)!.metadata.uid;
    expect(argsOf(jobs[0]!).filter((a) => a.includes('-') && a === uid('web-a'))).toHaveLength(1);
    expect(argsOf(jobs[1]!).slice(-4)).toEqual(['--target-pod', uid('web-b'), '--target-pod', uid('web-c')]);
  });

  it('--dry-run -o yaml prints the Job and ConfigMap, valid for Kubernetes, and contacts no server', async () => {
    const run = await ktrace(
      ['run', 'node/worker-1', '-f', join(dir, 'prog.bt'), '--dry-run', '-o', 'yaml'],
      closedKubeconfig,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = parseYaml(run.stdout) as { items: KubeObject[] };
    expect(list.items.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Job/node-worker-1-worker-1',
      'ConfigMap/node-worker-1-worker-1',
    ]);
    expect(() => new Job(list.items[0] as never).validate()).not.toThrow();
    expect(() => new ConfigMap(list.items[1] as never).validate()).not.toThrow();
    expect(oneShotObjects()).toEqual([]);
  });
});

describe('the output', () => {
  it('--attach shows the final dump, which is saved in the ConfigMap; logs shows it again', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-f', join(dir, 'prog.bt'), '--attach']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/node worker-1 · job node-worker-1-worker-1 · final dump\n/);
    expect(run.stdout).toMatch(/@opens \(count\) · \d+ keys/);
    expect(run.stdout).toMatch(/@bytes \(hist\)/);
    const saved =
      (api.get('configmaps', 'ktrace', 'node-worker-1-worker-1')!['data'] as Record<string, string>)[
        'final-dump.ndjson'
      ] ?? '';
    expect(
      saved
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { name: string }).name)
        .sort(),
    ).toEqual(['@bytes', '@opens']);
    const logs = await ktrace(['logs', 'node-worker-1']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/@opens \(count\)/);
  });

  it('-o json streams NDJSON samples with their node; the last of each map is the final dump', async () => {
    const run = await ktrace(['run', 'node/worker-2', '-f', join(dir, 'prog.bt'), '--attach', '-o', 'json']);
    expect(run.code).toBe(0);
    const samples = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { node: string; type: string; name: string; final?: boolean });
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(new Set(samples.map((s) => `${s.node} ${s.type}`))).toEqual(new Set(['worker-2 map']));
    expect(
      samples
        .filter((s) => s.final === true)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['@bytes', '@opens']);
  });

  it('Ctrl-C stops the remote trace and still shows its final dump, readable after the pod is gone', async () => {
    kubelet.script = 'until-stopped';
    const child = spawnKtrace(['run', 'node/worker-1', '-f', join(dir, 'prog.bt'), '--attach', '--name', 'stopped']);
    let signalled = false;
    const run = await collect(child, (stderr) => {
      if (!signalled && stderr.includes('started on node worker-1')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    expect(run.stderr).toContain('stopping the trace');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/final dump\n[\s\S]*@opens \(count\)/);
    expect((api.get('jobs.batch', 'ktrace', 'stopped-worker-1')!['spec'] as { suspend: boolean }).suspend).toBe(true);
    // The Job controller deletes the suspended Job's pod after the pod's final dump reached the log.
    await expect
      .poll(() => api.list('pods', { namespace: 'ktrace', labelSelector: 'ktrace.dev/trace=stopped' }))
      .toEqual([]);
    const logs = await ktrace(['logs', 'stopped']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/final dump \(saved\)\n[\s\S]*@opens \(count\)/);
    const get = await ktrace(['get', 'stopped']);
    expect(get.stdout).toMatch(/worker-1\s+stopped\s+node\/worker-1/);
  });
});

describe('get and delete', () => {
  it('get lists one-shot traces beside continuous ones; delete NAME and delete --all leave nothing behind', async () => {
    expect((await ktrace(['run', 'node/worker-1', '-f', join(dir, 'prog.bt')])).code).toBe(0);
    expect((await ktrace(['run', 'deploy/web', '--target-namespace', 'shop', '-f', join(dir, 'prog.bt')])).code).toBe(
      0,
    );
    expect((await ktrace(['apply', '-f', join(dir, 'prog.bt'), '--name', 'continuous'])).code).toBe(0);
    const get = await ktrace(['get']);
    expect(get.stderr).toBe('');
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^continuous\s/m);
    expect(get.stdout).toMatch(/^node-worker-1\s+node\/worker-1 \(one-shot: \w+\)/m);
    expect(get.stdout).toMatch(/^deploy-web\s+deploy\/web \(one-shot: \w+\)\s+\d\/2/m);
    const deleted = await ktrace(['delete', 'deploy-web']);
    expect(deleted.stdout).toBe('trace/deploy-web deleted\n');
    expect(oneShotObjects().filter((o) => o.metadata.labels?.['ktrace.dev/trace'] === 'deploy-web')).toEqual([]);
    expect(oneShotObjects().length).toBeGreaterThan(0);
    const all = await ktrace(['delete', '--all']);
    expect(all.stdout).toContain('trace/node-worker-1 deleted');
    expect(all.stdout).toContain('trace/continuous deleted');
    expect(oneShotObjects()).toEqual([]);
    expect(
      api.list('configmaps', { namespace: 'ktrace', labelSelector: 'app.kubernetes.io/managed-by=ktrace' }),
    ).toEqual([]);
  });
});

describe('errors: one line, exit 2 for a wrong target or program, 1 for the cluster, nothing half-created', () => {
  const table: [string, string[], () => void, number, RegExp][] = [
    ['a node that does not exist', ['run', 'node/nope', '-e', 'x'], () => {}, 2, /node\/nope: no such node/],
    [
      'a pod that does not exist',
      ['run', 'pod/nope', '--target-namespace', 'shop', '-e', 'x'],
      () => {},
      2,
      /pod\/nope: no such pod in namespace shop/,
    ],
    [
      'a pod on no node',
      ['run', 'pod/pending-0', '--target-namespace', 'shop', '-e', 'x'],
      () => {},
      2,
      /pod\/pending-0 in namespace shop is on no node/,
    ],
    [
      'a deployment with no pods',
      ['run', 'deploy/idle', '--target-namespace', 'shop', '-e', 'x'],
      () => {},
      2,
      /deploy\/idle in namespace shop has no pods/,
    ],
    [
      'a bad TARGET',
      ['run', 'node/a/b', '-e', 'x'],
      () => {},
      2,
      /TARGET is node\/NAME, pod\/NAME\[\/CONTAINER\] or deploy\/NAME/,
    ],
    [
      'RBAC forbidding Jobs',
      ['run', 'node/worker-1', '-e', 'x'],
      () => void api.deny({ verb: 'patch', group: 'batch', resource: 'jobs' }),
      1,
      /forbidden: cannot patch jobs\.batch "x-worker-1" in namespace "ktrace".*RBAC permission to patch jobs\.batch in namespace ktrace/,
    ],
    [
      'an image that cannot be pulled',
      ['run', 'node/worker-1', '-e', 'x'],
      () => (kubelet.script = 'image-pull'),
      1,
      /cannot start the trace: image .*: ErrImagePull/,
    ],
    [
      'a Job that never starts',
      ['run', 'node/worker-1', '-e', 'x', '--start-timeout', '2s'],
      () => (kubelet.script = 'no-pod'),
      1,
      /did not start on node worker-1 within 2s.*created no pod/,
    ],
    [
      'a program bpftrace rejects',
      ['run', 'node/worker-1', '-e', 'x'],
      () => (kubelet.script = 'bad-program'),
      2,
      /failed on node worker-1: bpftrace rejected the program at line 1, column 1: tracepoint not found/,
    ],
  ];
  it.each(table)('%s', async (_what, args, arrange, code, message) => {
    arrange();
    const run = await ktrace([...args, '--name', 'x']);
    expect(run.stderr.trim().split('\n')[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(code);
    expect(oneShotObjects()).toEqual([]);
  });

  it('an unreachable cluster', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-e', 'x'], closedKubeconfig);
    expect(run.stderr).toMatch(
      /^ktrace: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(run.code).toBe(1);
  });
});
