// The agent's one HTTP endpoint for every trace: GET /metrics (each trace's exposition with trace="name", plus the
// agent's own metrics) and GET /healthz (the agent's loop is alive: never tied to the API server or to one trace).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE, parseListen } from '@ktrace/exporter';
import { KtraceError } from '@ktrace/parser';
import { mergeExpositions } from './exposition-merge.js';
import type { ExpositionPart } from './exposition-merge.js';

export interface AgentMetricsSource {
  /** The agent's own metrics, as Prometheus text. */
  selfMetrics(): string;
  /** Each trace's exposition. */
  traceExpositions(): Promise<ExpositionPart[]>;
  /** Reports families that could not be merged (two traces, one name, two types). */
  onConflict(families: string[]): void;
  /** /healthz text (200 while the agent runs). */
  health(): string;
}

export async function renderAgentMetrics(source: AgentMetricsSource): Promise<string> {
  const parts = await source.traceExpositions();
  const merged = mergeExpositions([{ labels: {}, text: source.selfMetrics() }, ...parts]);
  if (merged.conflicts.length > 0) source.onConflict(merged.conflicts);
  return merged.text;
}

/**
 * Serves /metrics and /healthz on `listen` (read by the exporter's parseListen, so `ktrace run --listen` and the
 * agent's take the same addresses); resolves with the URL once bound. KTRACE_LISTEN if it cannot bind.
 */
export async function serveAgentMetrics(
  listen: string,
  source: AgentMetricsSource,
): Promise<{ url: string; close(): Promise<void> }> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      renderAgentMetrics(source).then(
        (text) => {
          response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) =>
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`# error: ${String(error)}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(source.health());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new KtraceError({
          code: 'KTRACE_LISTEN',
          message: `cannot listen on ${listen}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}; choose another --listen HOST:PORT`,
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
