// The agent's HTTP endpoint on a real loopback port: it reads --listen with the exporter's rules (so `ktrace agent`
// and `ktrace run` accept the same addresses), serves /metrics and /healthz, and names a taken address.

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveAgentMetrics } from './agent-server.js';
import type { AgentMetricsSource } from './agent-server.js';

const source: AgentMetricsSource = {
  selfMetrics: () => '# TYPE ktrace_agent_up gauge\nktrace_agent_up 1\n',
  traceExpositions: () => Promise.resolve([]),
  onConflict: () => undefined,
  health: () => 'ok\n',
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('serveAgentMetrics', () => {
  it('serves /metrics and /healthz on 127.0.0.1:0 and says where', async () => {
    const served = await serveAgentMetrics('127.0.0.1:0', source);
    closers.push(() => served.close());
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${served.url}/metrics`)).text()).toContain('ktrace_agent_up 1');
    expect(await (await fetch(`${served.url}/healthz`)).text()).toBe('ok\n');
  });

  it('takes [V6]:PORT as the exporter does', async () => {
    const served = await serveAgentMetrics('[::1]:0', source);
    closers.push(() => served.close());
    expect(served.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
  });

  it.each(['localhost', '127.0.0.1:65536', '::1:9464'])('rejects --listen %j as the exporter does', async (listen) => {
    await expect(serveAgentMetrics(listen, source)).rejects.toMatchObject({
      code: 'KTRACE_BAD_OPTION',
      message: expect.stringContaining(`--listen ${JSON.stringify(listen)} is not HOST:PORT`),
    });
  });

  it('names the address when it is taken (KTRACE_LISTEN)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(serveAgentMetrics(`127.0.0.1:${port}`, source)).rejects.toMatchObject({
        code: 'KTRACE_LISTEN',
        message: `cannot listen on 127.0.0.1:${port}: the address is already in use; choose another --listen HOST:PORT`,
      });
    } finally {
      blocker.close();
    }
  });
});
