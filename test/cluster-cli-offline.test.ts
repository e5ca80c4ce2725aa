// The cluster verbs without a cluster: --dry-run prints what would be applied and contacts no server (a loopback
// listener counts connections and sees none), the printed ConfigMap is valid for Kubernetes' schema, and a cluster
// that cannot be reached (a closed loopback port) is one line and exit 1; bad input is one line and exit 2.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { ROOT, requireBuiltCli } from './support/ktrace-process.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-cli-'));
let counter: Server;
let connections = 0;
let listeningConfig: string;
let closedConfig: string;

function kubeconfig(port: number, namespace?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
    'users: [{name: u, user: {token: t}}]',
    `contexts: [{name: x, context: {cluster: c, user: u${namespace === undefined ? '' : `, namespace: ${namespace}`}}}]`,
    'current-context: x',
  ].join('\n');
}

function ktrace(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [requireBuiltCli(), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: dir, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  counter = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  const address = counter.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  listeningConfig = join(dir, 'listening.yaml');
  writeFileSync(listeningConfig, kubeconfig(address.port, 'tracing'));
  closedConfig = join(dir, 'closed.yaml');
  writeFileSync(closedConfig, kubeconfig(await freePort()));
  writeFileSync(join(dir, 'opens.bt'), 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }\n');
  writeFileSync(
    join(dir, 'bad.yaml'),
    'apiVersion: ktrace.dev/v1alpha1\nkind: Trace\nmetadata: {name: bad}\nspec: {program: "x", interval: often}\n',
  );
});
afterAll(async () => {
  await new Promise<void>((resolve) => counter.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ktrace apply --dry-run', () => {
  it('prints the ConfigMap it would apply, valid for Kubernetes, in the context namespace, and contacts no server', async () => {
    const result = await ktrace([
      'apply',
      '-f',
      join(dir, 'opens.bt'),
      '--nodes',
      'kubernetes.io/os=linux',
      '--dry-run',
      '-o',
      'json',
      '--kubeconfig',
      listeningConfig,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout) as Record<string, unknown>;
    new ConfigMap(object).validate();
    expect(object).toMatchObject({
      kind: 'ConfigMap',
      metadata: {
        name: 'trace-opens',
        namespace: 'tracing',
        labels: { 'ktrace.dev/trace': 'opens', 'app.kubernetes.io/managed-by': 'ktrace' },
      },
    });
    const document = parseYaml((object['data'] as Record<string, string>)['trace.yaml'] ?? '') as Record<
      string,
      unknown
    >;
    expect(document).toEqual({
      apiVersion: 'ktrace.dev/v1alpha1',
      kind: 'Trace',
      metadata: { name: 'opens' },
      spec: {
        program: 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }\n',
        nodeSelector: { matchLabels: { 'kubernetes.io/os': 'linux' } },
      },
    });
    const yaml = await ktrace([
      'apply',
      '-f',
      join(dir, 'opens.bt'),
      '--name',
      'other',
      '-n',
      'ns2',
      '--dry-run',
      '--kubeconfig',
      listeningConfig,
    ]);
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.stdout)).toMatchObject({ metadata: { name: 'trace-other', namespace: 'ns2' } });
    expect(connections).toBe(0);
  });

  it('works with no kubeconfig at all (namespace default)', async () => {
    const result = await ktrace(['apply', '-f', join(dir, 'opens.bt'), '--dry-run']);
    expect(result.code).toBe(0);
    expect(parseYaml(result.stdout)).toMatchObject({ metadata: { namespace: 'default' } });
  });

  it('rejects a bad document with the field named, exit 2, before any server', async () => {
    const result = await ktrace(['apply', '-f', join(dir, 'bad.yaml'), '--kubeconfig', listeningConfig]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^ktrace: .*bad\.yaml: trace bad: invalid trace spec:\n {2}spec\.interval: expected a duration/,
    );
    const selector = await ktrace(['apply', '-f', join(dir, 'opens.bt'), '--nodes', 'a b c', '--dry-run']);
    expect(selector.code).toBe(2);
    expect(selector.stderr).toMatch(/^ktrace: --nodes: cannot read "a b c"/);
    expect(connections).toBe(0);
  });
});

describe('an unreachable cluster', () => {
  it.each([[['get']], [['apply', '-f', 'OPENS']], [['delete', 'opens']]])(
    'ktrace %s: one line naming the server, exit 1',
    async (args) => {
      const result = await ktrace([
        ...args.map((a) => (a === 'OPENS' ? join(dir, 'opens.bt') : a)),
        '--kubeconfig',
        closedConfig,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^ktrace: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  it('no kubeconfig: says where it looked, exit 1', async () => {
    const result = await ktrace(['get']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `ktrace: no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or create ${dir}/.kube/config (kubectl config view shows what kubectl uses)\n`,
    );
  });
});
