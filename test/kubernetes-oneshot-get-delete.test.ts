// `ktrace get` and `ktrace delete` over one-shot traces beside a continuous one, with the built CLI against the loopback
// API server (support/one-shot-cluster.ts): listed with their targets, and nothing left behind once deleted.
import { describe, expect, it } from 'vitest';
import { oneShotCluster } from './support/one-shot-cluster.js';

const { api, program, ktrace, oneShotObjects } = oneShotCluster();

describe('get and delete', () => {
  it('get lists one-shot traces beside continuous ones; delete NAME and delete --all leave nothing behind', async () => {
    expect((await ktrace(['run', 'node/worker-1', '-f', program])).code).toBe(0);
    expect((await ktrace(['run', 'deploy/web', '--target-namespace', 'shop', '-f', program])).code).toBe(0);
    expect((await ktrace(['apply', '-f', program, '--name', 'continuous'])).code).toBe(0);
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
