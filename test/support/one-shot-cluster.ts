// The cluster the kubernetes-oneshot-* tests run one-shot traces against, set up for each of those files: the
// loopback API server with nodes worker-1/2, pods and deployments in namespace shop, this test playing the Job
// controller and kubelet (job-kubelet.ts) with pod logs captured from the real `ktrace run` on the real bpftrace; and
// the built CLI run against it. After each test the kubelet completes again, deny() rules go and every trace is deleted.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import { leaseType } from './cluster.js';
import { JobKubelet } from './job-kubelet.js';
import type { KubeApiServer, KubeObject } from './kube-api-server/index.js';
import { kubeApiServerPerFile } from './kube-api-server-per-file.js';
import { ROOT, requireBuiltCli } from './ktrace-process.js';
import { freePort } from './prometheus.js';

export const PROGRAM =
  'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }\ntracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = hist(args->ret); }\n';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface OneShotCluster {
  api: KubeApiServer;
  /** The kubelet stand-in; set its `script` to make the next pod fail in some way. */
  kubelet: () => JobKubelet;
  /** A file with PROGRAM. */
  program: string;
  /** A kubeconfig whose server does not listen. */
  closedKubeconfig: () => string;
  /** Runs `ktrace ARGS` to its end against the cluster (or `config`). */
  ktrace: (args: string[], config?: string) => Promise<Result>;
  /** Starts `ktrace ARGS` against the cluster. */
  spawnKtrace: (args: string[]) => ChildProcessWithoutNullStreams;
  /** Its output once it exits; `onStderr` sees stderr as it grows. */
  collect: (child: ChildProcessWithoutNullStreams, onStderr?: (text: string) => void) => Promise<Result>;
  /** Every Job, one-shot ConfigMap and pod in namespace ktrace. */
  oneShotObjects: () => KubeObject[];
}

/** The container args of a Job. */
export const argsOf = (job: KubeObject): string[] =>
  (job['spec'] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]?.args ?? [];

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

async function seed(api: KubeApiServer, dir: string): Promise<{ kubelet: JobKubelet; closedKubeconfig: string }> {
  writeFileSync(join(dir, 'prog.bt'), PROGRAM);
  const good = await capture(['--file', join(dir, 'prog.bt'), '--duration', '2s', '--stop-timeout', '30s']);
  expect(good.code).toBe(0);
  const at = good.log.indexOf('{"time"', good.log.indexOf('duration reached') - 40);
  const bad = await capture(['-e', 'tracepoint:syscalls:sys_enter_nope { @x = count(); }', '--duration', '2s']);
  expect(bad.code).toBe(2);
  const kubelet = new JobKubelet(api, { head: good.log.slice(0, at), tail: good.log.slice(at), bad: bad.log });
  const closedKubeconfig = join(dir, 'closed.yaml');
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
  return { kubelet, closedKubeconfig };
}

/** Registers the file's hooks; what the tests use. */
export function oneShotCluster(): OneShotCluster {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-oneshot-'));
  let seeded: { kubelet: JobKubelet; closedKubeconfig: string } | undefined;
  // The agents' status Leases, which `ktrace get` reads beside one-shot Jobs.
  const api = kubeApiServerPerFile({
    namespaces: ['ktrace', 'shop'],
    resources: [leaseType],
    setup: async (server) => {
      seeded = await seed(server, dir);
    },
  });
  const spawnKtrace = (args: string[], config = api.kubeconfigPath({ namespace: 'ktrace' })) =>
    spawn(process.execPath, [requireBuiltCli(), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: config },
    });
  const ktrace = (args: string[], config?: string): Promise<Result> => collect(spawnKtrace(args, config));
  const kubelet = (): JobKubelet => {
    if (seeded === undefined) throw new Error('the one-shot cluster is used before its beforeAll');
    return seeded.kubelet;
  };

  afterEach(async () => {
    kubelet().script = 'complete';
    api.allowAll();
    await ktrace(['delete', '--all']);
  });
  afterAll(() => {
    seeded?.kubelet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const oneShotSelector = 'app.kubernetes.io/component=one-shot';
  return {
    api,
    kubelet,
    program: join(dir, 'prog.bt'),
    closedKubeconfig: () => seeded?.closedKubeconfig ?? '',
    ktrace,
    spawnKtrace: (args) => spawnKtrace(args),
    collect,
    oneShotObjects: () => [
      ...api.list('jobs.batch', { namespace: 'ktrace' }),
      ...api.list('configmaps', { namespace: 'ktrace', labelSelector: oneShotSelector }),
      ...api.list('pods', { namespace: 'ktrace' }),
    ],
  };
}
