// @ktrace/exporter: the Prometheus exposition of 100k series (a keyed count map and keyed histograms), as a ratio
// to prom-client holding and serializing the same series in the same run; memory per series; and the time from a
// dump ingested to it being visible at /metrics over HTTP.
import { performance } from 'node:perf_hooks';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import type { HistogramBucket, MapSample, ProgramInfo } from '@ktrace/parser';
import client from 'prom-client';

const COUNT_KEYS = 50_000;
const HIST_KEYS = 5_000;
/** hist() buckets [1], [2,3] … [128,255]: 8 finite le bounds + +Inf + _count = 10 sample lines per histogram. */
const HIST_BUCKETS = 8;
const SERIES = COUNT_KEYS + HIST_KEYS * (HIST_BUCKETS + 2);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench does)');

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function time(runs: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const program: ProgramInfo = {
  printsMaps: true,
  maps: [
    {
      name: '@calls',
      kind: 'count',
      args: [],
      keyArity: 2,
      keyNames: ['comm', 'pid'],
      keyTypes: ['string', 'int'],
      cleared: false,
      line: 1,
      column: 1,
    },
    {
      name: '@lat',
      kind: 'hist',
      args: [],
      keyArity: 1,
      keyNames: ['comm'],
      keyTypes: ['string'],
      cleared: false,
      line: 2,
      column: 1,
    },
  ],
};

function comm(i: number): string {
  return `proc-${i % 997}-${i}`;
}

function countDump(round: number): MapSample {
  return {
    type: 'map',
    name: '@calls',
    kind: 'count',
    entries: Array.from({ length: COUNT_KEYS }, (_, i) => ({ key: [comm(i), 1000 + i], value: (i % 1000) + round })),
  };
}

function bucketCounts(i: number, round: number): number[] {
  return Array.from({ length: HIST_BUCKETS }, (_, b) => ((i + b) % 5) + round);
}

function histDump(round: number): MapSample {
  return {
    type: 'map',
    name: '@lat',
    kind: 'hist',
    entries: Array.from({ length: HIST_KEYS }, (_, i) => {
      const buckets: HistogramBucket[] = bucketCounts(i, round).map((count, b) =>
        b === 0 ? { min: 1, max: 1, count } : { min: 2 ** b, max: 2 ** (b + 1) - 1, count },
      );
      return { key: [comm(i)], buckets };
    }),
  };
}

const BOUNDS = Array.from({ length: HIST_BUCKETS }, (_, b) => 2 ** (b + 1) - 1);

function promClient(round: number): {
  registry: client.Registry;
  counter: client.Counter;
  histogram: client.Histogram;
} {
  const registry = new client.Registry();
  const counter = new client.Counter({
    name: 'bpftrace_calls_total',
    help: 'bpftrace map @calls[comm, pid], count()',
    labelNames: ['comm', 'pid'],
    registers: [registry],
  });
  const histogram = new client.Histogram({
    name: 'bpftrace_lat',
    help: 'bpftrace map @lat[comm], hist()',
    labelNames: ['comm'],
    buckets: BOUNDS,
    registers: [registry],
  });
  for (let i = 0; i < COUNT_KEYS; i++) counter.inc({ comm: comm(i), pid: 1000 + i }, (i % 1000) + round);
  for (let i = 0; i < HIST_KEYS; i++) {
    const labels = { comm: comm(i) };
    bucketCounts(i, round).forEach((count, b) => {
      for (let n = 0; n < count; n++) histogram.observe(labels, BOUNDS[b] as number);
    });
  }
  return { registry, counter, histogram };
}

function ours(renderer: 'store' | 'otel', round: number): Exporter {
  const exporter = createExporter({ program, prometheusRenderer: renderer, onWarning: () => {} });
  exporter.handle(countDump(round));
  exporter.handle(histDump(round));
  return exporter;
}

function countLines(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('bpftrace_')) n++;
  return n;
}

async function main(): Promise<void> {
  console.log(
    `series: ${COUNT_KEYS} count keys + ${HIST_KEYS} histograms × ${HIST_BUCKETS + 2} lines = ${SERIES} sample lines`,
  );

  // memory per series (heap delta / series), each built from nothing
  let base = heap();
  const promHeld = promClient(1);
  const promBytes = heap() - base;
  base = heap();
  const store = ours('store', 1);
  const ourBytes = heap() - base;
  const promText = await promHeld.registry.metrics();
  const ourText = await store.prometheusText();
  console.log(`check: prom-client ${countLines(promText)} bpftrace_ lines (incl. _sum), ours ${countLines(ourText)}`);
  console.log(
    `memory/series: ours ${(ourBytes / SERIES).toFixed(0)} B, prom-client ${(promBytes / SERIES).toFixed(0)} B, ratio ${(ourBytes / promBytes).toFixed(2)}x`,
  );

  // scrape: nothing changed since the last scrape
  const promScrape = await time(15, () => promHeld.registry.metrics());
  const ourScrape = await time(15, () => store.prometheusText());
  console.log(
    `scrape, unchanged:     ours ${ourScrape.toFixed(1)} ms, prom-client ${promScrape.toFixed(1)} ms, ratio ${(ourScrape / promScrape).toFixed(2)}x`,
  );

  // scrape after a dump that changed every series (the store re-renders them all)
  let round = 2;
  const dumps = [countDump(3), histDump(3), countDump(4), histDump(4)];
  const ourChanged = await time(9, async () => {
    store.handle(dumps[(round % 2) * 2] as MapSample);
    store.handle(dumps[(round % 2) * 2 + 1] as MapSample);
    round++;
    const start = performance.now();
    await store.prometheusText();
    return performance.now() - start;
  });
  const renderOnly: number[] = [];
  for (let i = 0; i < 9; i++) {
    store.handle(dumps[(i % 2) * 2] as MapSample);
    store.handle(dumps[(i % 2) * 2 + 1] as MapSample);
    const start = performance.now();
    await store.prometheusText();
    renderOnly.push(performance.now() - start);
  }
  const ourRender = median(renderOnly);
  console.log(
    `scrape, all changed:   ours ${ourRender.toFixed(1)} ms render (+ ingest: ${ourChanged.toFixed(1)} ms), prom-client ${promScrape.toFixed(1)} ms, ratio ${(ourRender / promScrape).toFixed(2)}x`,
  );

  // the same through OTel's PrometheusExporter + PrometheusSerializer over our MetricProducer
  const otel = ours('otel', 1);
  const otelScrape = await time(5, () => otel.prometheusText());
  console.log(
    `scrape via OTel serializer: ${otelScrape.toFixed(1)} ms, ratio to prom-client ${(otelScrape / promScrape).toFixed(2)}x`,
  );
  await otel.shutdown();

  // dump ingested → visible at /metrics (HTTP GET on loopback)
  const served = createExporter({ program, listen: '127.0.0.1:0', onWarning: () => {} });
  const { url } = await served.start();
  served.handle(countDump(1));
  served.handle(histDump(1));
  await (await fetch(`${url}/metrics`)).text();
  const visibleFull: number[] = [];
  const visibleOne: number[] = [];
  for (let i = 0; i < 7; i++) {
    const dump = countDump(10 + i);
    let start = performance.now();
    served.handle(dump);
    let text = await (await fetch(`${url}/metrics`)).text();
    visibleFull.push(performance.now() - start);
    if (!text.includes(`bpftrace_calls_total{comm="proc-0-0",pid="1000"} ${10 + i}\n`))
      throw new Error('dump not visible');
    const one: MapSample = { type: 'map', name: '@one', kind: 'count', entries: [{ key: [], value: i + 1 }] };
    start = performance.now();
    served.handle(one);
    text = await (await fetch(`${url}/metrics`)).text();
    visibleOne.push(performance.now() - start);
    if (!text.includes(`bpftrace_one_total ${i + 1}\n`)) throw new Error('small dump not visible');
  }
  console.log(
    `dump → visible at /metrics: 50k-key dump ${median(visibleFull).toFixed(1)} ms; 1-key dump of another map ${median(visibleOne).toFixed(1)} ms (full scrape of ${SERIES} series included)`,
  );
  await served.shutdown();
  await store.shutdown();
}

await main();
