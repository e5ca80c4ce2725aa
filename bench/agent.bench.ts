// `ktrace agent` at steady state: a real agent process against the loopback API server, 10 traces of 10k keys each
// printed by the real bpftrace, and 10 then 110 pods of its node in the API. Measures the agent's CPU per second and
// RSS beside its bpftrace processes' own (the baseline, from /proc in the same run), and the API requests the agent
// makes per minute with 10 pods and with 110 (they must not grow with the pods). Needs root and the built CLI.
// KTRACE_BENCH_AGENT_MAP=hist makes the maps hist() (a key's values spread over 5 log2 buckets) instead of count().
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceDocument, traceConfigMap } from '@ktrace/core/kubernetes';
import { leaseType } from '../test/support/cluster.js';
import { startKubeApiServer } from '../test/support/kube-api-server/index.js';
import type { KubeObject } from '../test/support/kube-api-server/index.js';
import { freePort } from '../test/support/prometheus.js';
import { sampleValue, scrape, startKtrace } from '../test/support/ktrace-process.js';
import { descendants } from '../test/support/proc-tree.js';

const TRACES = 10;
const KEYS = 10_000;
const INTERVAL = '1s'; // the trace spec's default
const WINDOW_MILLIS = 60_000;
const SCRAPE_MILLIS = 15_000;
const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat times are in 1/100 s

/** utime + stime of a process, in seconds; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

async function until(what: string, probe: () => Promise<boolean>, millis = 90_000): Promise<void> {
  const deadline = Date.now() + millis;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

const MAP_KIND = process.env['KTRACE_BENCH_AGENT_MAP'] === 'hist' ? 'hist' : 'count';
const update = (key: string): string => (MAP_KIND === 'hist' ? `hist(${key} % 16)` : 'count()');
/** Fills 10k keys 100 per millisecond tick (loops that large do not pass 0.17's verifier), then keeps counting some. */
const program = [
  `interval:ms:1 /@n < ${KEYS}/ { unroll(100) { @m[@n] = ${update('@n')}; @n = @n + 1; } }`,
  `interval:ms:10 /@n >= ${KEYS}/ { @m[@k] = ${update('@k')}; @k = (@k + 7) % ${KEYS}; }`,
].join('\n');
/** hist(): about 8 series a key (buckets, +Inf, _count), past the default caps. */
const SERIES_CAP = KEYS * 10;

const api = await startKubeApiServer({ namespaces: ['ktrace', 'shop'], resources: [leaseType] });
const dir = mkdtempSync(join(tmpdir(), 'ktrace-bench-agent-'));
api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux' } } });

function seedPods(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const name = `web-${i}`;
    api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'shop', labels: { app: 'web', shard: String(i % 7) } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    const id = i.toString(16).padStart(4, '0').repeat(16);
    api.setPodStatus('shop', name, { phase: 'Running', nodeName: 'n1', containerIDs: { app: `containerd://${id}` } });
  }
}

for (let t = 0; t < TRACES; t++) {
  const trace = parseTraceDocument({
    apiVersion: 'ktrace.dev/v1alpha1',
    kind: 'Trace',
    metadata: { name: `keys-${t}` },
    spec: {
      program,
      interval: INTERVAL,
      include: ['@m'],
      bpftrace: { env: { BPFTRACE_MAP_KEYS_MAX: 65_536 } },
      limits: { maxSeriesPerMap: SERIES_CAP, maxSeries: SERIES_CAP },
    },
  });
  // as the API server would store it: plain JSON
  api.seed(JSON.parse(JSON.stringify(traceConfigMap(trace, 'ktrace'))) as KubeObject);
}
seedPods(0, 10);

const listen = `127.0.0.1:${await freePort()}`;
const agent = startKtrace(
  [
    'agent',
    '--node-name',
    'n1',
    '--kubeconfig',
    api.kubeconfigPath({ namespace: 'ktrace' }),
    '--listen',
    listen,
    '--bpftrace',
    '/usr/bin/bpftrace',
    '--max-series-per-trace',
    String(SERIES_CAP),
  ],
  { env: { PATH: process.env['PATH'], HOME: dir } },
);
const agentPid = agent.child.pid ?? 0;

interface Window {
  pods: number;
  agentCpuPerSecond: number;
  agentRss: number;
  /** The agent's heap in use (its own self-metric) at the end of the window. */
  agentHeap: number;
  bpftraceCpuPerSecond: number;
  bpftraceRss: number;
  requestsPerMinute: number;
  requests: Record<string, number>;
}

/** One steady-state window: CPU and requests over WINDOW_MILLIS, scraped as Prometheus would; RSS at its end. */
async function measure(pods: number): Promise<Window> {
  const bpftraces = descendants(agentPid);
  if (bpftraces.length !== TRACES) throw new Error(`${bpftraces.length} bpftrace processes, expected ${TRACES}`);
  api.resetRequests();
  const agent0 = cpuSeconds(agentPid);
  const bpftrace0 = bpftraces.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const started = Date.now();
  let text = '';
  while (Date.now() - started < WINDOW_MILLIS) {
    await sleep(Math.min(SCRAPE_MILLIS, WINDOW_MILLIS - (Date.now() - started)));
    text = await scrape(listen);
  }
  const seconds = (Date.now() - started) / 1000;
  const requests = api.countRequests();
  if (descendants(agentPid).join() !== bpftraces.join()) throw new Error('a bpftrace restarted during the window');
  return {
    pods,
    agentCpuPerSecond: (cpuSeconds(agentPid) - agent0) / seconds,
    agentRss: rssBytes(agentPid),
    agentHeap: sampleValue(text, 'ktrace_agent_heap_used_bytes') ?? 0,
    bpftraceCpuPerSecond: (bpftraces.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - bpftrace0) / seconds,
    bpftraceRss: bpftraces.reduce((sum, pid) => sum + rssBytes(pid), 0),
    requestsPerMinute: (requests * 60) / seconds,
    requests: api.requestCounts(),
  };
}

const windows: Window[] = [];
const begun = Date.now();
try {
  await until('every trace to export its 10k keys', async () => {
    const text = await scrape(listen);
    let full = 0;
    for (let t = 0; t < TRACES; t++)
      if ((sampleValue(text, 'ktrace_agent_trace_series', { trace: `keys-${t}` }) ?? 0) >= KEYS) full++;
    return full === TRACES;
  });
  console.log(`steady state after ${((Date.now() - begun) / 1000).toFixed(0)} s`);
  windows.push(await measure(10));
  seedPods(10, 110);
  await until(
    'the agent to know 110 pods',
    async () => sampleValue(await scrape(listen), 'ktrace_agent_pods_cached') === 110,
  );
  await sleep(5_000);
  windows.push(await measure(110));
} finally {
  agent.child.kill('SIGTERM');
  await agent.exited;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
console.log(
  `ktrace agent: ${TRACES} traces × ${KEYS.toLocaleString('en')}-key ${MAP_KIND}() maps printed every ${INTERVAL} by the real bpftrace, /metrics scraped every ${SCRAPE_MILLIS / 1000} s, ${WINDOW_MILLIS / 1000} s windows`,
);
console.log(
  'pods | agent CPU/s | bpftrace CPU/s (baseline, all 10) | ratio | agent RSS (heap in use) | bpftrace RSS (all 10) | ratio | API requests/min | by kind',
);
for (const w of windows) {
  console.log(
    `${String(w.pods).padStart(4)} | ${w.agentCpuPerSecond.toFixed(3)} | ${w.bpftraceCpuPerSecond.toFixed(3)} | ${(w.agentCpuPerSecond / w.bpftraceCpuPerSecond).toFixed(2)}x | ${mb(w.agentRss)} (${mb(w.agentHeap)}) | ${mb(w.bpftraceRss)} | ${(w.agentRss / w.bpftraceRss).toFixed(2)}x | ${w.requestsPerMinute.toFixed(1)} | ${JSON.stringify(w.requests)}`,
  );
}
const [few, many] = windows;
if (few !== undefined && many !== undefined) {
  console.log(
    `API requests per minute, 110 pods against 10 pods: ${(many.requestsPerMinute / Math.max(few.requestsPerMinute, 1e-9)).toFixed(2)}x (must not grow with the pods)`,
  );
  if (many.requestsPerMinute > few.requestsPerMinute + 1) {
    console.error('FAIL: the agent makes more API requests with more pods');
    process.exitCode = 1;
  }
}
