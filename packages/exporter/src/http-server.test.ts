// The HTTP server as a scraper and a browser see it, on a real loopback port: /metrics, /healthz, the page at /,
// absolute-form targets, unknown paths, a taken port, and the --listen rules.

import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ktraceVersion } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { count, exporterHarness, seriesValue as value } from '../../../test/support/exporter-harness.js';
import { createExporter, parseListen } from './index.js';
import { listenWarning } from './http-server.js';
import { CHUNK_LINES } from './prometheus-text.js';

const { make } = exporterHarness();

describe('createExporter HTTP server', () => {
  it('serves /metrics and answers /healthz 503 until bpftrace is up, then 200', async () => {
    const exporter = make({ listen: '127.0.0.1:0' });
    const { url } = await exporter.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    exporter.handle({ type: 'attached', probes: 3 });
    exporter.handle(count('@syscalls', [[['bash'], 7]]));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const stable = (t: string): string => t.replace(/^ktrace_dump_age_seconds.*$/gm, '');
    expect(stable(text)).toBe(stable(await exporter.prometheusText()));
    expect(value(text, 'bpftrace_syscalls_total{key0="bash"}')).toBe(7);
    expect(value(text, 'ktrace_up')).toBe(1);
    expect(value(text, 'ktrace_attached_probes')).toBe(3);
    expect(value(text, 'ktrace_series{map="@syscalls"}')).toBe(1);
    expect(value(text, 'ktrace_dumps_total{map="@syscalls"}')).toBe(1);
    expect(text).toContain('target_info{');
    expect(text).not.toContain('otel_scope_name');
    exporter.setUp(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('serves a map of more lines than one chunk in full, in order, over several chunks', async () => {
    const exporter = make({ listen: '127.0.0.1:0', maxSeriesPerMap: 100_000, maxSeries: 100_000 });
    const { url } = await exporter.start();
    const keys = Math.ceil(CHUNK_LINES * 2.5);
    exporter.handle(
      count(
        '@calls',
        Array.from({ length: keys }, (_, i) => [[`k${i}`], i + 1] as [string[], number]),
      ),
    );
    const chunks = await exporter.prometheusChunks();
    expect(chunks.length).toBeGreaterThan(3);
    const served = await (await fetch(`${url}/metrics`)).text();
    const lines = served.split('\n').filter((l) => l.startsWith('bpftrace_calls_total{'));
    expect(lines).toHaveLength(keys);
    expect(lines.map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: keys }, (_, i) => i + 1));
    expect(served.match(/^# TYPE bpftrace_calls_total /gm)).toHaveLength(1);
  });

  it('serves a page at / naming ktrace and its version, whose links lead to /metrics and /healthz', async () => {
    const exporter = make({ listen: '127.0.0.1:0' });
    const { url } = await exporter.start();
    exporter.handle({ type: 'attached', probes: 1 });
    exporter.handle(count('@calls', [[[], 2]]));
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<title>ktrace</title>');
    expect(html).toContain(`Version ${ktraceVersion}.`);
    const links = [...html.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => ({
      to: new URL(m[1] as string, `${url}/`).href,
      text: m[2],
    }));
    expect(links).toEqual([
      { to: `${url}/metrics`, text: 'Metrics' },
      { to: `${url}/healthz`, text: 'Health' },
    ]);
    const [metrics, health] = await Promise.all(links.map(async ({ to }) => fetch(to)));
    expect(metrics?.status).toBe(200);
    expect(value(await (metrics as Response).text(), 'bpftrace_calls_total')).toBe(2);
    expect(health?.status).toBe(200);
    expect(await health?.text()).toBe('ok\n');
    // only / is the page: other paths are still unknown
    for (const path of ['/index.html', '/metrics/', '/x']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).toBe('not found: try /metrics or /healthz\n');
    }
  });

  it('fails with KTRACE_LISTEN naming the address when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const exporter = make({ listen: `127.0.0.1:${port}` });
      await expect(exporter.start()).rejects.toMatchObject({
        code: 'KTRACE_LISTEN',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      });
    } finally {
      blocker.close();
    }
  });

  it('rejects a --listen that is not HOST:PORT with a clear error', () => {
    expect(() => createExporter({ listen: 'localhost' })).toThrow(/not HOST:PORT/);
  });
});

describe('HTTP', () => {
  it('serves an absolute-form request target (GET http://host/metrics) like /metrics', async () => {
    const exporter = make({ listen: '127.0.0.1:0' });
    const { url } = await exporter.start();
    const { port, host } = new URL(url as string);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(`GET http://${host}/metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(reply).toContain('ktrace_up 0');
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    [':9464', { host: '0.0.0.0', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:0', { host: '::', port: 0 }],
    [' 0.0.0.0:9464 ', { host: '0.0.0.0', port: 9464 }],
  ])('reads %j as host and port', (listen, address) => {
    expect(parseListen(listen)).toEqual(address);
  });

  it.each(['localhost', '9464', '127.0.0.1:', '127.0.0.1:65536', '::1:9464', '127.0.0.1:-1'])(
    'rejects %j with KTRACE_BAD_OPTION and an example',
    (listen) => {
      expect(() => parseListen(listen)).toThrow(
        expect.objectContaining({
          code: 'KTRACE_BAD_OPTION',
          message: `--listen ${JSON.stringify(listen)} is not HOST:PORT; use e.g. 127.0.0.1:9464 (port 0 picks a free port)`,
        }),
      );
    },
  );
});

describe('listenWarning', () => {
  it('warns that 0.0.0.0:P, [::]:P and :P bind every interface, and says :P means 0.0.0.0', () => {
    expect(listenWarning('0.0.0.0:9464')).toBe(
      '--listen 0.0.0.0:9464 binds every network interface: /metrics and /healthz are reachable from other machines; give 127.0.0.1:9464 to serve this machine only',
    );
    expect(listenWarning('[::]:9464')).toContain('--listen [::]:9464 binds every network interface');
    expect(listenWarning(':9464')).toContain('--listen :9464 binds every network interface (no host means 0.0.0.0)');
  });

  it('says nothing for one interface', () => {
    expect(listenWarning('127.0.0.1:9464')).toBeUndefined();
    expect(listenWarning('[::1]:9464')).toBeUndefined();
    expect(listenWarning('localhost:0')).toBeUndefined();
  });
});
