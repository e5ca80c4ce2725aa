// A one-shot trace that cannot run (`ktrace run TARGET` with a wrong target or program, RBAC, an image pull, a Job that
// never starts, an unreachable cluster): one line, exit 2 or 1, nothing half-created. The built CLI against the
// loopback API server playing the Job controller and kubelet (support/one-shot-cluster.ts).
import { describe, expect, it } from 'vitest';
import { oneShotCluster } from './support/one-shot-cluster.js';

const { api, kubelet, closedKubeconfig, ktrace, oneShotObjects } = oneShotCluster();

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
      () => (kubelet().script = 'image-pull'),
      1,
      /cannot start the trace: image .*: ErrImagePull/,
    ],
    [
      'a Job that never starts',
      ['run', 'node/worker-1', '-e', 'x', '--start-timeout', '2s'],
      () => (kubelet().script = 'no-pod'),
      1,
      /did not start on node worker-1 within 2s.*created no pod/,
    ],
    [
      'a program bpftrace rejects',
      ['run', 'node/worker-1', '-e', 'x'],
      () => (kubelet().script = 'bad-program'),
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
    const run = await ktrace(['run', 'node/worker-1', '-e', 'x'], closedKubeconfig());
    expect(run.stderr).toMatch(
      /^ktrace: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(run.code).toBe(1);
  });
});
