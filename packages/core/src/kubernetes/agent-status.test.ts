// The node status Lease against the loopback API server: written when what it reports changes, not for every
// change signal (pod events replan often and change nothing), and always at the heartbeat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseType } from '../../../../test/support/cluster.js';
import { startKubeApiServer } from '../../../../test/support/kube-api-server/index.js';
import type { KubeApiServer } from '../../../../test/support/kube-api-server/index.js';
import { NodeStatusReporter } from './agent-status.js';
import { createKubeClient } from './kube-client.js';
import type { NodeTraceStatus } from './node-status.js';

let api: KubeApiServer;

beforeAll(async () => {
  api = await startKubeApiServer({ namespaces: ['ktrace'], resources: [leaseType] });
});
afterAll(async () => {
  await api.close();
});

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('NodeStatusReporter', () => {
  it('writes on a change of state, skips signals that change nothing, and writes at every heartbeat', async () => {
    const client = createKubeClient({ kubeconfig: api.kubeconfigPath({ namespace: 'ktrace' }) });
    const traces: Record<string, NodeTraceStatus> = { opens: { state: 'starting', digest: 'd1' } };
    const reporter = new NodeStatusReporter({
      client,
      node: 'n1',
      heartbeatSeconds: 1,
      version: 'test',
      log: () => undefined,
      snapshot: () => ({ watching: true, traces: structuredClone(traces) }),
    });
    const writes = (): number => api.countRequests({ verb: 'patch', resource: 'leases' });
    api.resetRequests();
    reporter.changed(0);
    await until('the first write', () => writes() === 1);
    for (let i = 0; i < 5; i++) {
      // a dump moved the counters and times only: not worth a write before the heartbeat
      traces['opens'] = { state: 'starting', digest: 'd1', samples: i, lastDumpAt: new Date().toISOString() };
      reporter.changed(0);
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(writes()).toBe(1);
    traces['opens'] = { state: 'running', digest: 'd1', attachedProbes: 2 };
    reporter.changed(0);
    await until('the write of the new state', () => writes() === 2);
    const lease = api.get('leases', 'ktrace', 'ktrace-node-n1');
    expect(String(lease?.['metadata']?.annotations?.['ktrace.dev/status'])).toContain('"state":"running"');

    reporter.start();
    await until('a heartbeat write with nothing changed', () => writes() === 3);
    await reporter.stop();
    expect(writes()).toBe(4);
    expect(
      String(api.get('leases', 'ktrace', 'ktrace-node-n1')?.['metadata']?.annotations?.['ktrace.dev/status']),
    ).toContain('"traces":{}');
  });
});
