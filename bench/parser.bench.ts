// @ktrace/parser throughput: ~10 MB of periodic dumps (a 50k-key count map and a keyed histogram), formatted
// the way bpftrace 0.17 prints them in text and in -f json, parsed by OutputParser from 64 KiB byte chunks.
// Baseline, measured in the same run: node's JSON.parse + JSON.stringify of every line of the JSON form.
import { performance } from 'node:perf_hooks';
import { OutputParser, readProgram } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import { prng } from '../test/support/prng.js';

const PROGRAM = `tracepoint:raw_syscalls:sys_enter { @calls[comm, pid] = count(); @start[tid] = nsecs; }
tracepoint:raw_syscalls:sys_exit /@start[tid]/ { @lat_ns[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); }
interval:s:1 { time("%H:%M:%S\\n"); print(@calls); print(@lat_ns); }`;
const KEYS = 50_000;
const HIST_KEYS = 1_500;
const TARGET_BYTES = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;

const SUFFIXES = ['', 'K', 'M', 'G'];
function log2Label(p: number): string {
  const lo = 2 ** p;
  const hi = 2 ** (p + 1);
  const fmt = (v: number): string => {
    const power = Math.floor(Math.log2(v) / 10);
    return `${v / 2 ** (power * 10)}${SUFFIXES[power] ?? ''}`;
  };
  return `[${fmt(lo)}, ${fmt(hi)})`;
}

interface Dump {
  calls: Array<[string, number, number]>;
  hists: Array<[string, Array<[number, number]>]>;
}

function makeDumps(): Dump[] {
  const random = prng(42);
  const comms = Array.from({ length: 500 }, (_, i) =>
    i % 7 === 0 ? `kworker/u${i}:1` : i % 5 === 0 ? `npm run test ${i}` : `proc-${i}`,
  );
  const dumps: Dump[] = [];
  for (let d = 0; d < 4; d++) {
    const calls: Array<[string, number, number]> = [];
    for (let k = 0; k < KEYS; k++)
      calls.push([comms[k % comms.length] ?? '', 1000 + k, 1 + Math.floor(random() * 100_000)]);
    calls.sort((a, b) => a[2] - b[2]);
    const hists: Array<[string, Array<[number, number]>]> = [];
    for (let k = 0; k < HIST_KEYS; k++) {
      const first = 8 + Math.floor(random() * 4);
      const buckets: Array<[number, number]> = [];
      for (let p = first; p < first + 12; p++) buckets.push([p, Math.floor(random() * 5000)]);
      hists.push([`${comms[k % comms.length] ?? ''}#${k}`, buckets]);
    }
    dumps.push({ calls, hists });
  }
  return dumps;
}

function textDump(d: Dump, n: number): string {
  const out: string[] = [`04:0${n}:30`];
  for (const [comm, pid, v] of d.calls) out.push(`@calls[${comm}, ${pid}]: ${v}`);
  out.push('');
  for (const [key, buckets] of d.hists) {
    out.push(`@lat_ns[${key}]: `);
    const max = Math.max(...buckets.map((b) => b[1]));
    for (const [p, count] of buckets) {
      const bar = '@'.repeat(max === 0 ? 0 : Math.floor((count / max) * 52));
      out.push(`${log2Label(p).padEnd(16)}${String(count).padStart(8)} |${bar.padEnd(52)}|`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

function jsonDump(d: Dump, n: number): string {
  const time = `{"type": "time", "data": "04:0${n}:30\\n"}`;
  const calls = `{"type": "map", "data": {"@calls": {${d.calls.map(([c, p, v]) => `${JSON.stringify(`${c},${p}`)}: ${v}`).join(', ')}}}}`;
  const hists = `{"type": "hist", "data": {"@lat_ns": {${d.hists
    .map(
      ([key, buckets]) =>
        `${JSON.stringify(key)}: [${buckets.map(([p, count]) => `{"min": ${2 ** p}, "max": ${2 ** (p + 1) - 1}, "count": ${count}}`).join(', ')}]`,
    )
    .join(', ')}}}}`;
  return `${time}\n${calls}\n${hists}\n`;
}

/** The same dumps in both forms: as many as the JSON form needs to reach the target size. */
function build(render: (d: Dump, n: number) => string, dumps: Dump[], count: number): string {
  let out = '';
  for (let n = 0; n < count; n++) out += render(dumps[n % dumps.length] as Dump, n % 10);
  return out;
}

function chunks(bytes: Uint8Array): Uint8Array[] {
  const list: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) list.push(bytes.subarray(i, i + CHUNK));
  return list;
}

const program = readProgram(PROGRAM);
const dumps = makeDumps();
const dumpCount = Math.ceil(TARGET_BYTES / jsonDump(dumps[0] as Dump, 0).length);
const textInput = new TextEncoder().encode(build(textDump, dumps, dumpCount));
const jsonString = build(jsonDump, dumps, dumpCount);
const jsonInput = new TextEncoder().encode(jsonString);
const jsonLines = jsonString.split('\n').filter((l) => l !== '');

function parseWith(input: Uint8Array[]): number {
  let entries = 0;
  let problems = 0;
  const parser = new OutputParser({
    program,
    onEvent: (e: ParseEvent) => {
      if (e.type === 'map') entries += e.entries.length;
      else if (e.type === 'problem') problems++;
    },
  });
  for (const chunk of input) parser.write(chunk);
  parser.end();
  if (problems > 0)
    throw new Error(`${problems} problem events: the generated dumps do not match what the parser reads`);
  return entries;
}

function baseline(): number {
  let size = 0;
  for (const line of jsonLines) size += JSON.stringify(JSON.parse(line)).length;
  return size;
}

function timeIt(fn: () => number, rounds: number): { ms: number; result: number } {
  const times: number[] = [];
  let result = 0;
  for (let r = 0; r < rounds; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? 0, result };
}

const textChunks = chunks(textInput);
const jsonChunks = chunks(jsonInput);
const textEntries = parseWith(textChunks);
const jsonEntries = parseWith(jsonChunks);
if (textEntries !== jsonEntries)
  throw new Error(`text gave ${textEntries} entries, json ${jsonEntries}: the two forms differ`);

// Warm up every path, then interleave the measured rounds so drift hits all three alike.
for (let i = 0; i < 2; i++) {
  baseline();
  parseWith(textChunks);
  parseWith(jsonChunks);
}
const rounds = 7;
const results = { base: [] as number[], text: [] as number[], json: [] as number[] };
for (let r = 0; r < rounds; r++) {
  results.base.push(timeIt(baseline, 1).ms);
  results.text.push(timeIt(() => parseWith(textChunks), 1).ms);
  results.json.push(timeIt(() => parseWith(jsonChunks), 1).ms);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const base = median(results.base);
const text = median(results.text);
const json = median(results.json);
const mb = (bytes: number, ms: number): string => (bytes / 1024 / 1024 / (ms / 1000)).toFixed(1);

console.log(
  `input: text ${(textInput.length / 1048576).toFixed(1)} MiB, json ${(jsonInput.length / 1048576).toFixed(1)} MiB, ${textEntries} map entries; median of ${rounds} rounds`,
);
console.log(
  `baseline JSON.parse+JSON.stringify per JSON line: ${base.toFixed(0)} ms (${mb(jsonInput.length, base)} MB/s)`,
);
console.log(
  `OutputParser text:  ${text.toFixed(0)} ms (${mb(textInput.length, text)} MB/s)  ratio ${(text / base).toFixed(2)}x baseline (target <= 1.5x)`,
);
console.log(
  `OutputParser json:  ${json.toFixed(0)} ms (${mb(jsonInput.length, json)} MB/s)  ratio ${(json / base).toFixed(2)}x baseline (target <= 1.2x)`,
);
