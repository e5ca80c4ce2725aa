// What a one-shot trace shows its user (`ktrace run TARGET --attach`, `-o json`, Ctrl-C, `ktrace logs`), with the built
// CLI against the loopback API server and pod logs captured from the real `ktrace run` (support/one-shot-cluster.ts).
import { describe, expect, it } from 'vitest';
import { oneShotCluster } from './support/one-shot-cluster.js';

const { api, kubelet, program, ktrace, spawnKtrace, collect } = oneShotCluster();

describe('the output', () => {
  it('--attach shows the final dump, which is saved in the ConfigMap; logs shows it again', async () => {
    const run = await ktrace(['run', 'node/worker-1', '-f', program, '--attach']);
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
    const run = await ktrace(['run', 'node/worker-2', '-f', program, '--attach', '-o', 'json']);
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
    kubelet().script = 'until-stopped';
    const child = spawnKtrace(['run', 'node/worker-1', '-f', program, '--attach', '--name', 'stopped']);
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
