// What the cluster tests share: the Lease type the agent writes its node status into (not in the loopback server's
// built-in catalog), the built CLI run once with a kubeconfig, and `ktrace agent` for node n1 as a running process.
import { spawn } from 'node:child_process';
import type { ResourceType } from './kube-api-server/index.js';
import { ROOT, requireBuiltCli, startKtrace } from './ktrace-process.js';
import type { KtraceProcess } from './ktrace-process.js';
import { freePort } from './prometheus.js';

/** coordination.k8s.io/v1 Leases: the agent's per-node status. */
export const leaseType: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  singular: 'lease',
  kind: 'Lease',
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  status: false,
};

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ktrace ARGS` to its end with a minimal environment (HOME given, so no ~/.kube/config of this machine). */
export function runCli(args: string[], env: { HOME: string } & NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [requireBuiltCli(), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `ktrace agent --node-name n1` against `kubeconfig` with the system bpftrace, serving /metrics on a free loopback
 * port (its `listen`), with a minimal environment whose HOME is `home`; `args` are more flags.
 */
export async function startAgent(kubeconfig: string, home: string, args: string[] = []): Promise<KtraceProcess> {
  const listen = `127.0.0.1:${await freePort()}`;
  return startKtrace(
    [
      'agent',
      '--node-name',
      'n1',
      '--kubeconfig',
      kubeconfig,
      '--listen',
      listen,
      '--bpftrace',
      '/usr/bin/bpftrace',
      ...args,
    ],
    { env: { PATH: process.env['PATH'], HOME: home } },
  );
}
