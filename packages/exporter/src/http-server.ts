// The exporter's HTTP server: GET /metrics (the exposition), GET /healthz (whether bpftrace is up), and GET / a
// small page linking both, as node_exporter and ebpf_exporter serve; the --listen address rules and the bind error.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KtraceError, ktraceVersion } from '@ktrace/parser';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the server serves, asked at each request. */
export interface ServedState {
  /** The exposition of /metrics, in chunks written in turn. */
  metrics(): Promise<readonly string[]>;
  /** /healthz: 200 while up, else 503 with the reason. */
  health(): { up: boolean; reason: string | undefined };
  warn(message: string): void;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (every interface); KtraceError KTRACE_BAD_OPTION otherwise. */
export function parseListen(listen: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--listen ${JSON.stringify(listen)} is not HOST:PORT; use e.g. 127.0.0.1:9464 (port 0 picks a free port)`,
    });
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/**
 * The warning for a listen address that binds every interface (`0.0.0.0:P`, `[::]:P`, and `:P`, which means
 * 0.0.0.0): /metrics is then reachable from other machines. Undefined for an address of one interface.
 */
export function listenWarning(listen: string): string | undefined {
  const { host, port } = parseListen(listen);
  if (host !== '0.0.0.0' && host !== '::') return undefined;
  const meaning = listen.trim().startsWith(':') ? ' (no host means 0.0.0.0)' : '';
  return `--listen ${listen} binds every network interface${meaning}: /metrics and /healthz are reachable from other machines; give 127.0.0.1:${port} to serve this machine only`;
}

/** The page at `/`: what this is, its version, and where the metrics and the health check are. */
export const INDEX_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ktrace</title></head>
<body>
<h1>ktrace</h1>
<p>bpftrace programs as Prometheus and OpenTelemetry metrics. Version ${ktraceVersion}.</p>
<ul>
<li><a href="metrics">Metrics</a> (Prometheus text format)</li>
<li><a href="healthz">Health</a> (200 while bpftrace runs and its output is read, else 503 and why)</li>
</ul>
</body>
</html>
`;

/** The path of a request target; an absolute-form target (`GET http://host/metrics`, RFC 9112 3.2.2) included. */
function pathOf(target: string): string {
  const origin = /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
    ? target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/'
    : target;
  return origin.split('?')[0] as string;
}

/** Writes the chunks in turn, waiting for the socket to drain, so a large exposition is never one string. */
async function writeChunks(response: ServerResponse, chunks: readonly string[]): Promise<void> {
  for (const chunk of chunks) {
    if (response.destroyed) return;
    if (!response.write(chunk))
      await new Promise<void>((resolve) => {
        const done = (): void => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
  }
  response.end();
}

function handle(state: ServedState, request: IncomingMessage, response: ServerResponse): void {
  const path = pathOf(request.url ?? '/');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const body = (text: string): string | undefined => (request.method === 'HEAD' ? undefined : text);
  if (path === '/metrics') {
    state.metrics().then(
      (chunks) => {
        response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        if (request.method === 'HEAD') response.end();
        else void writeChunks(response, chunks);
      },
      (error: unknown) => {
        state.warn(`serving /metrics: ${String(error)}`);
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`# error: ${String(error)}\n`);
      },
    );
    return;
  }
  if (path === '/healthz') {
    const { up, reason } = state.health();
    response
      .writeHead(up ? 200 : 503, { 'content-type': 'text/plain' })
      .end(body(up ? 'ok\n' : `${reason ?? 'bpftrace is not up'}\n`));
    return;
  }
  if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body(INDEX_PAGE));
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' }).end(body('not found: try /metrics or /healthz\n'));
}

/** One listening server; `start` twice returns the same URL, `close` ends open connections too. */
export class MetricsServer {
  private readonly listen: string;
  private readonly address: ListenAddress;
  private readonly state: ServedState;
  private server: Server | undefined;
  private url: string | undefined;

  /** Throws KTRACE_BAD_OPTION for a `listen` that is not HOST:PORT. */
  constructor(listen: string, state: ServedState) {
    this.listen = listen;
    this.address = parseListen(listen);
    this.state = state;
  }

  /** Binds the address (KtraceError KTRACE_LISTEN naming it if it cannot); the URL it serves. */
  async start(): Promise<string> {
    if (this.url !== undefined) return this.url;
    const everywhere = listenWarning(this.listen);
    if (everywhere !== undefined) this.state.warn(everywhere);
    const created = createServer((request, response) => handle(this.state, request, response));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new KtraceError({
            code: 'KTRACE_LISTEN',
            message: `cannot listen on ${this.listen}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}; choose another --listen HOST:PORT`,
            cause: error,
          }),
        );
      };
      created.once('error', onError);
      created.listen(this.address.port, this.address.host, () => {
        created.off('error', onError);
        resolve();
      });
    });
    this.server = created;
    const address = created.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const closing = this.server;
    this.server = undefined;
    this.url = undefined;
    if (closing === undefined) return;
    await new Promise<void>((resolve) => {
      closing.close(() => resolve());
      closing.closeAllConnections();
    });
  }
}
