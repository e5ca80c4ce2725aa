// Client-side files for tests: a kubeconfig pointing at the server (context, namespace, optional bearer token) and
// a runner for the real kubectl with that kubeconfig and a private discovery cache.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** The context's namespace; `default` when unset. */
  namespace?: string;
  /** A bearer token for the user entry (none: the user entry is empty). */
  token?: string;
  context?: string;
  cluster?: string;
  user?: string;
  /**
   * kubeconfig `insecure-skip-tls-verify` (default true for an http:// server: client-node 1.4 refuses plain http
   * without it, "HTTP protocol is not allowed when skipTLSVerify is not set or false"; kubectl accepts either).
   */
  insecureSkipTlsVerify?: boolean;
  /** PEM of the CA that signed the server's certificate (https servers). */
  certificateAuthority?: string;
  /** File name inside the server's temp directory. */
  fileName?: string;
}

function clusterEntry(server: string, o: KubeconfigOptions): Record<string, unknown> {
  if (o.certificateAuthority !== undefined && o.insecureSkipTlsVerify !== true) {
    return { server, 'certificate-authority-data': Buffer.from(o.certificateAuthority).toString('base64') };
  }
  const skip = o.insecureSkipTlsVerify ?? server.startsWith('http:');
  return skip ? { server, 'insecure-skip-tls-verify': true } : { server };
}

export function kubeconfigYaml(server: string, o: KubeconfigOptions = {}): string {
  const cluster = o.cluster ?? 'ktrace-test';
  const user = o.user ?? 'ktrace-test-user';
  const context = o.context ?? 'ktrace-test';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: clusterEntry(server, o) }],
    users: [{ name: user, user: o.token === undefined ? {} : { token: o.token } }],
    contexts: [{ name: context, context: { cluster, user, namespace: o.namespace ?? 'default' } }],
    'current-context': context,
    preferences: {},
  });
}

export function writeKubeconfig(dir: string, server: string, o: KubeconfigOptions = {}): string {
  const path = join(
    dir,
    o.fileName ??
      `kubeconfig-${o.context ?? 'ktrace-test'}-${o.namespace ?? 'default'}${o.token === undefined ? '' : '-token'}.yaml`,
  );
  writeFileSync(path, kubeconfigYaml(server, o), { mode: 0o600 });
  return path;
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  kubeconfig: string;
  /** Discovery cache directory (kubectl's KUBECACHEDIR), private to the server so ports never share one. */
  cacheDir: string;
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';

/** Starts kubectl (for `logs -f` and other long-running commands); the caller ends it. */
export function spawnKubectl(args: readonly string[], o: KubectlOptions): ChildProcess {
  return spawn(KUBECTL, ['--kubeconfig', o.kubeconfig, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: o.cacheDir, KUBECACHEDIR: o.cacheDir, ...o.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs kubectl to completion (killed after `timeoutMs`, default 60 s) and returns its exit code and output. */
export function runKubectl(args: readonly string[], o: KubectlOptions): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawnKubectl(args, o);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(o.input ?? '');
  });
}
