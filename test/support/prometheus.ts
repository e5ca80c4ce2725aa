// A real Prometheus for tests: starts a Prometheus binary (Debian's /usr/bin/prometheus unless told; versions.ts
// lists the releases) on a free loopback port with a temporary config and TSDB, scrapes the given targets, and
// answers instant queries through its HTTP API.
// A missing binary is a failure with a clear message, never a skip.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = process.env['KTRACE_PROMETHEUS'] ?? '/usr/bin/prometheus';

export interface PrometheusRow {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusSeries {
  metric: Record<string, string>;
  /** [epoch seconds (ms precision), value] */
  values: Array<[number, number]>;
}

export interface StartPrometheusOptions {
  /** Scrape targets as 'host:port' (path /metrics). */
  targets: string[];
  /** Scrape and evaluation interval, e.g. '1s' (the default). */
  scrapeInterval?: string;
  /** Rule files (absolute paths) loaded into the server. */
  ruleFiles?: string[];
  /** The prometheus binary (a release from versions.ts); default PROMETHEUS_BIN. */
  binary?: string;
}

export interface RunningPrometheus {
  url: string;
  /** Instant query via /api/v1/query (at `time`, epoch seconds, if given); vector and scalar results become rows. */
  query(expr: string, time?: number): Promise<PrometheusRow[]>;
  /** Raw samples of a range selector (`x[5m]`) via an instant query returning a matrix. */
  samples(expr: string): Promise<PrometheusSeries[]>;
  /** Polls `query(expr)` until `predicate(rows)` holds; rejects with the last rows after `timeoutMs` (default 30 s). */
  waitFor(expr: string, predicate: (rows: PrometheusRow[]) => boolean, timeoutMs?: number): Promise<PrometheusRow[]>;
  stop(): Promise<void>;
}

/** Ports this process handed out: the kernel may offer a closed port again before its new owner binds it. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), and never one this process
 * handed out before: two agents started one after the other once got the same port.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await unusedPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Bound to port 0, then released. */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: could not read the bound port'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

interface QueryResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: unknown;
  };
}

export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = options.binary ?? PROMETHEUS_BIN;
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(
      `Prometheus is required by this test but ${binary} is missing or not executable. ` +
        'Install it (Debian: apt-get install prometheus) or point KTRACE_PROMETHEUS at a prometheus binary.',
    );
  }
  const interval = options.scrapeInterval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'ktrace-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: [
      {
        job_name: 'ktrace',
        scrape_interval: interval,
        static_configs: [{ targets: options.targets }],
      },
    ],
  };
  // JSON is valid YAML: no YAML dependency needed here.
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > 20_000) output = output.slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });

  const stop = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (spawnError !== undefined || exited !== undefined) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        `Prometheus failed to start (${spawnError?.message ?? `exit ${String(exited?.code)} ${String(exited?.signal ?? '')}`}):\n${output}`,
      );
    }
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready at ${url} within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const rawQuery = async (expr: string, time?: number): Promise<{ resultType: string; result: unknown }> => {
    const params: Record<string, string> = { query: expr };
    if (time !== undefined) params['time'] = time.toFixed(3);
    const response = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await response.json()) as QueryResponse;
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`Prometheus query ${JSON.stringify(expr)} failed: ${body.error ?? response.statusText}`);
    }
    return body.data;
  };

  const samples = async (expr: string): Promise<PrometheusSeries[]> => {
    const { resultType, result } = await rawQuery(expr);
    if (resultType !== 'matrix')
      throw new Error(`Prometheus query ${JSON.stringify(expr)} returned a ${resultType}; use a range selector`);
    return (result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map((row) => ({
      metric: row.metric,
      values: row.values.map(([t, v]) => [t, parseValue(v)] as [number, number]),
    }));
  };

  const query = async (expr: string, time?: number): Promise<PrometheusRow[]> => {
    const { resultType, result } = await rawQuery(expr, time);
    if (resultType === 'vector') {
      return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((row) => ({
        metric: row.metric,
        value: parseValue(row.value[1]),
      }));
    }
    if (resultType === 'scalar') {
      const [, raw] = result as [number, string];
      return [{ metric: {}, value: parseValue(raw) }];
    }
    throw new Error(`Prometheus query ${JSON.stringify(expr)} returned a ${resultType}; use an instant vector query`);
  };

  const waitFor = async (
    expr: string,
    predicate: (rows: PrometheusRow[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<PrometheusRow[]> => {
    const until = Date.now() + timeoutMs;
    let last: PrometheusRow[] = [];
    for (;;) {
      last = await query(expr);
      if (predicate(last)) return last;
      if (Date.now() > until) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting on Prometheus query ${JSON.stringify(expr)}; last result: ${JSON.stringify(last)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  return { url, query, samples, waitFor, stop };
}
