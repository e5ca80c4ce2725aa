// Property test over generated hostile bpftrace output (issue 7, "Done when"): seeded random maps with clashing
// names, keys of random bytes (undecodable ones included), odd values, in text or -f json, cut into chunks at
// random points. Whatever the case, the exposition passes the real promtool (2.42, and 3 when present) and a real
// Prometheus scrape stores every sample; no two series share a label set; no counter decreases between dumps; and
// every printed increment is exported, or counted as skipped (ktrace_values_skipped_total).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import { OutputParser } from '@ktrace/parser';
import type { MapInfo, ProgramInfo } from '@ktrace/parser';
import { afterAll, describe, expect, it } from 'vitest';
import { int, pick, prng } from './support/prng.js';
import type { Random } from './support/prng.js';
import { startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';

const PROMTOOLS = ['/usr/bin/promtool', '/var/cache/ktrace/bin/promtool-3'].filter(
  (path, i) => i === 0 || existsSync(path),
);
const CASES = 30;
/**
 * promtool's lint about the wording of a name the program chose: a map @h "contains an abbreviated unit", a gauge
 * @h_bucket "should not have a _bucket suffix". Valid text; any other lint fails the test.
 */
const NAME_LINT =
  /^\S+ (metric names should not contain abbreviated units|non-histogram( and non-summary)? metrics should not have "_(bucket|count|sum)" suffix)$/;

type Kind = 'count' | 'sum' | 'max' | 'hist' | 'stats';
const NAMES: Array<[string, Kind]> = [
  ['@x', 'count'],
  ['@x_total', 'sum'],
  ['@h', 'hist'],
  ['@h_bucket', 'max'],
  ['@h_count', 'count'],
  ['@s', 'stats'],
  ['@s_count', 'count'],
  ['@s_average', 'max'],
  ['@up', 'max'],
  ['@dumps', 'count'],
  ['@series', 'hist'],
];

interface Generated {
  format: 'text' | 'json';
  prefix: string;
  maxSeriesPerMap: number;
  program: ProgramInfo;
  /** The output, as bytes, and the cut points. */
  bytes: Uint8Array;
  dumps: number;
  /** Per map: the expected exported total over all keys (counters: last valid value; hist: last valid count). */
  expectedTotal: Map<string, number>;
  /** Per map: printed entries that must be skipped (made-up values), and distinct keys printed with a valid value. */
  skipped: Map<string, number>;
  keys: Map<string, number>;
  /** Byte offsets after each dump, to render and compare between dumps. */
  dumpEnds: number[];
}

const encoder = new TextEncoder();

function randomKey(random: Random, format: 'text' | 'json'): number[] {
  const out: number[] = [];
  const length = 1 + int(random, 6);
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.5) out.push(97 + int(random, 26));
    else if (r < 0.65)
      out.push(0x80 + int(random, 128)); // undecodable on its own
    else if (r < 0.75)
      out.push(0xc3, 0xa9); // é
    else if (r < 0.85)
      out.push(pick(random, [0x22, 0x5c, 0x7b, 0x3d])); // " \ { =
    else if (format === 'json') out.push(pick(random, [0x0a, 0x09, 0x20, 0x2c, 0x5d]));
    else out.push(pick(random, [0x09, 0x3a, 0x5b]));
  }
  return out;
}

/** A JSON key as bpftrace writes it: raw bytes, or (0.17, `escapeHigh`) every byte ≥ 0x80 as `\uffffffXX`. */
function jsonString(bytes: number[], escapeHigh: boolean): number[] {
  const out: number[] = [0x22];
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out.push(0x5c, b);
    else if (b < 0x20) out.push(...encoder.encode(`\\u${b.toString(16).padStart(4, '0')}`));
    else if (b >= 0x80 && escapeHigh) out.push(...encoder.encode(`\\uffffff${b.toString(16)}`));
    else out.push(b);
  }
  out.push(0x22);
  return out;
}

const LOG2 = [
  [0, 0],
  [1, 1],
  [2, 3],
  [4, 7],
  [8, 15],
  [16, 31],
  [32, 63],
  [64, 127],
  [128, 255],
  [256, 511],
] as const;

function bucketLabel(i: number): string {
  const [min, max] = LOG2[i] as readonly [number, number];
  return min === max ? `[${min}]` : `[${min}, ${max + 1})`;
}

function generate(seed: number): Generated {
  const random = prng(seed);
  const format = random() < 0.5 ? 'text' : 'json';
  const prefix = pick(random, ['bpftrace', 'bpftrace', 'ktrace', '']);
  const maxSeriesPerMap = random() < 0.3 ? 12 + int(random, 30) : 50_000;
  const escapeHigh = format === 'json' && random() < 0.3;
  const chosen = NAMES.filter(() => random() < 0.45);
  if (chosen.length === 0) chosen.push(NAMES[0] as [string, Kind]);
  const maps: MapInfo[] = chosen.map(([name, kind]) => ({
    name,
    kind,
    args: [],
    keyArity: 1,
    keyNames: ['k'],
    keyTypes: ['string'],
    cleared: false,
    line: 1,
    column: 1,
  }));
  const keysOf = new Map<string, number[][]>();
  for (const [name] of chosen) {
    const seen = new Set<string>();
    const list: number[][] = [];
    for (let n = 1 + int(random, 10); n > 0; n--) {
      const key = randomKey(random, format);
      if (!seen.has(key.join(','))) {
        seen.add(key.join(','));
        list.push(key);
      }
    }
    keysOf.set(name, list);
  }
  // kernel state per map and key, and the model of what must be exported
  const state = new Map<
    string,
    { count: number; total: number; buckets: number[]; lastValid?: number; validTotal: number; seenValid: boolean }
  >();
  const skipped = new Map<string, number>();
  const chunks: number[] = [];
  const dumpEnds: number[] = [];
  const dumps = 2 + int(random, 4);
  if (format === 'text') chunks.push(...encoder.encode('Attaching 2 probes...\n'));
  else chunks.push(...encoder.encode('{"type": "attached_probes", "data": {"probes": 2}}\n'));
  for (let d = 0; d < dumps; d++) {
    for (const [name, kind] of chosen) {
      const entries: Array<{ key: number[]; text: string; json: string; odd: boolean; order?: number }> = [];
      for (const key of keysOf.get(name) ?? []) {
        const id = `${name}|${key.join(',')}`;
        const s = state.get(id) ?? {
          count: 0,
          total: 0,
          buckets: new Array<number>(LOG2.length).fill(0),
          validTotal: 0,
          seenValid: false,
        };
        state.set(id, s);
        if (kind === 'count' || kind === 'sum' || kind === 'max') {
          s.count += kind === 'max' ? int(random, 200) - 100 : int(random, 50);
          const odd = kind !== 'max' && random() < 0.15;
          const oddJson = pick(random, ['1e309', 'true', 'null', '[1, 2]', '-5']);
          if (odd) skipped.set(name, (skipped.get(name) ?? 0) + 1);
          else s.seenValid = true;
          entries.push({
            key,
            odd,
            order: odd ? -5 : s.count,
            text: `${odd ? '-5' : s.count}`,
            json: odd ? (format === 'json' ? oddJson : '-5') : `${s.count}`,
          });
        } else if (kind === 'hist') {
          for (let n = int(random, 6); n > 0; n--) {
            const i = int(random, LOG2.length);
            s.buckets[i] = (s.buckets[i] ?? 0) + 1;
          }
          const first = s.buckets.findIndex((c) => c > 0);
          const last = s.buckets.length - 1 - [...s.buckets].reverse().findIndex((c) => c > 0);
          if (first < 0) continue;
          const odd = format === 'json' && random() < 0.15;
          if (odd) skipped.set(name, (skipped.get(name) ?? 0) + 1);
          else s.seenValid = true;
          const shown = s.buckets.map((c, i) => (odd && i === first ? -3 : c));
          const text = shown
            .slice(first, last + 1)
            .map((c, j) => `${bucketLabel(first + j).padEnd(20)} ${c} |@|`)
            .join('\n');
          const json = `[${shown
            .slice(first, last + 1)
            .map(
              (c, j) =>
                `{"min": ${(LOG2[first + j] as readonly number[])[0]}, "max": ${(LOG2[first + j] as readonly number[])[1]}, "count": ${c}}`,
            )
            .join(', ')}]`;
          entries.push({ key, odd, order: shown.reduce((a, b) => a + b, 0), text, json });
        } else {
          const n = int(random, 5);
          s.count += n;
          for (let k = 0; k < n; k++) s.total += random() < 0.7 ? 100 : -30;
          // held, not exported, when the total falls or is below zero (its count still counts)
          if (s.total < 0 || s.total < s.validTotal) skipped.set(name, (skipped.get(name) ?? 0) + 1);
          else s.validTotal = s.total;
          s.seenValid = true;
          const average = s.count === 0 ? 0 : Math.trunc(s.total / s.count);
          entries.push({
            key,
            odd: false,
            order: average,
            text: `count ${s.count}, average ${average}, total ${s.total}`,
            json: `{"count": ${s.count}, "average": ${average}, "total": ${s.total}}`,
          });
        }
        if (kind !== 'stats' && !entries[entries.length - 1]?.odd)
          s.lastValid = kind === 'hist' ? s.buckets.reduce((a, b) => a + b, 0) : s.count;
      }
      if (entries.length === 0) continue;
      if (format === 'text') {
        // bpftrace's text output lists a map ascending by value (the text reader relies on it)
        entries.sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
        for (const e of entries) {
          chunks.push(
            ...encoder.encode(`${name}[`),
            ...e.key,
            ...encoder.encode(kind === 'hist' ? `]: \n${e.text}\n` : `]: ${e.text}\n`),
          );
        }
        chunks.push(0x0a);
      } else {
        const type = kind === 'hist' ? 'hist' : kind === 'stats' ? 'stats' : 'map';
        chunks.push(...encoder.encode(`{"type": "${type}", "data": {"${name}": {`));
        entries.forEach((e, i) =>
          chunks.push(
            ...(i === 0 ? [] : encoder.encode(', ')),
            ...jsonString(e.key, escapeHigh),
            ...encoder.encode(`: ${e.json}`),
          ),
        );
        chunks.push(...encoder.encode('}}}\n'));
      }
    }
    dumpEnds.push(chunks.length);
  }
  const expectedTotal = new Map<string, number>();
  const keys = new Map<string, number>();
  for (const [id, s] of state) {
    const name = id.slice(0, id.indexOf('|'));
    const kind = chosen.find(([n]) => n === name)?.[1];
    if (kind === 'max') continue;
    if (s.seenValid) keys.set(name, (keys.get(name) ?? 0) + 1);
    expectedTotal.set(name, (expectedTotal.get(name) ?? 0) + (kind === 'stats' ? s.count : (s.lastValid ?? 0)));
  }
  return {
    format,
    prefix,
    maxSeriesPerMap,
    program: { printsMaps: true, maps },
    bytes: Uint8Array.from(chunks),
    dumps,
    expectedTotal,
    skipped,
    keys,
    dumpEnds,
  };
}

interface Sample {
  name: string;
  labels: string;
  value: number;
}

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const end = brace >= 0 && brace < space ? brace : space;
    out.push({
      name: line.slice(0, end),
      labels: brace >= 0 && brace < space ? line.slice(brace, space) : '',
      value: Number(line.slice(space + 1)),
    });
  }
  return out;
}

function promtool(bin: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** Names of the types that hold counters: `_total` of counters, buckets and counts of histograms. */
function counterTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
  return types;
}

function isCounterSample(types: Map<string, string>, name: string): boolean {
  if (types.get(name) === 'counter') return true;
  for (const suffix of ['_bucket', '_count'])
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram') return true;
  return false;
}

describe('hostile dumps (property, seeded, bounded)', () => {
  const served: Array<{ exporter: Exporter; host: string; lines: number }> = [];
  let prometheus: RunningPrometheus | undefined;

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(served.map((s) => s.exporter.shutdown()));
  });

  it(`${CASES} generated outputs: valid for promtool, distinct series, monotonic counters, every increment exported or counted`, async () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const g = generate(seed * 2654435761);
      const warnings: string[] = [];
      const exporter = createExporter({
        program: g.program,
        prefix: g.prefix,
        maxSeriesPerMap: g.maxSeriesPerMap,
        listen: '127.0.0.1:0',
        onWarning: (w) => warnings.push(w),
      });
      const parser = new OutputParser({ program: g.program, onEvent: (e) => exporter.handle(e) });
      const random = prng(seed);
      const where = `seed ${seed} (${g.format}, prefix "${g.prefix}", cap ${g.maxSeriesPerMap})`;
      let at = 0;
      let previous = new Map<string, number>();
      for (const end of g.dumpEnds) {
        // random split points inside the dump's bytes
        while (at < end) {
          const next = Math.min(end, at + 1 + int(random, 200));
          parser.write(g.bytes.subarray(at, next));
          at = next;
        }
        const text = await exporter.prometheusText();
        const types = counterTypes(text);
        const now = new Map<string, number>();
        for (const s of samples(text)) {
          const id = `${s.name}${s.labels}`;
          expect(now.has(id), `${where}: ${id} twice`).toBe(false);
          now.set(id, s.value);
          if (isCounterSample(types, s.name)) {
            expect(s.value >= 0 && Number.isFinite(s.value), `${where}: ${id} = ${s.value}`).toBe(true);
            expect(s.value, `${where}: ${id} went down`).toBeGreaterThanOrEqual(previous.get(id) ?? 0);
          }
        }
        previous = now;
      }
      parser.end();
      const text = await exporter.prometheusText();
      for (const bin of PROMTOOLS) {
        // exit 1 is a text the parser rejects; exit 3 only lint about names, which the program chose (@h, @s)
        const { code, output } = await promtool(bin, text);
        const lint = output.split('\n').filter((l) => l !== '' && !NAME_LINT.test(l));
        expect({ code: code === 3 && lint.length === 0 ? 0 : code, lint }, `${where}: ${bin}`).toEqual({
          code: 0,
          lint: [],
        });
      }
      const all = samples(text);
      const types = counterTypes(text);
      expect(new Set(types.keys()).size, where).toBe([...text.matchAll(/^# TYPE /gm)].length);
      for (const info of g.program.maps) {
        const state = [...exporter.store.mapStates()].find((s) => s.map === info.name);
        expect(state, `${where}: ${info.name} exported`).toBeDefined();
        if (state === undefined) continue;
        const name =
          state.shape === 'counter'
            ? state.metric.endsWith('_total')
              ? state.metric
              : `${state.metric}_total`
            : state.shape === 'histogram'
              ? `${state.metric}_count`
              : state.shape === 'stats'
                ? `${state.metric}_count_total`
                : state.metric;
        const mine = all.filter((s) => s.name === name);
        const skippedNow = all
          .filter((s) => s.name === 'ktrace_values_skipped_total' && s.labels.includes(`map="${info.name}"`))
          .reduce((sum, s) => sum + s.value, 0);
        expect(skippedNow, `${where}: ${info.name} skipped`).toBe(g.skipped.get(info.name) ?? 0);
        if (info.kind === 'max') continue;
        const total = mine.reduce((sum, s) => sum + s.value, 0);
        expect(total, `${where}: ${info.name} total`).toBe(g.expectedTotal.get(info.name) ?? 0);
        // distinct keys stay distinct: exported series plus keys folded past the cap
        const folded =
          all.find((s) => s.name === 'ktrace_series_folded' && s.labels.includes(`map="${info.name}"`))?.value ?? 0;
        const overflow = mine.some((s) => s.labels.includes('otel_metric_overflow')) ? 1 : 0;
        expect(mine.length - overflow + folded, `${where}: ${info.name} keys`).toBe(g.keys.get(info.name) ?? 0);
      }
      const { url } = await exporter.start();
      served.push({ exporter, host: new URL(url as string).host, lines: all.length });
    }

    // One real Prometheus scrapes every case's final exposition; each target's samples must all be stored.
    prometheus = await startPrometheus({ targets: served.map((s) => s.host), scrapeInterval: '1s' });
    const rows = await prometheus.waitFor(
      'scrape_samples_scraped',
      (r) => r.length === served.length && r.every((row) => row.value > 0),
      60_000,
    );
    const stored = await prometheus.waitFor(
      'count by (instance) ({job="ktrace", __name__!~"up|scrape_.*"})',
      (r) =>
        r.length === served.length &&
        served.every((s) => r.some((row) => row.metric['instance'] === s.host && row.value === s.lines)),
      60_000,
    );
    for (const s of served) {
      expect(rows.find((row) => row.metric['instance'] === s.host)?.value, s.host).toBe(s.lines);
      expect(stored.find((row) => row.metric['instance'] === s.host)?.value, s.host).toBe(s.lines);
    }
    const up = await prometheus.query('up{job="ktrace"}');
    expect(up.map((row) => row.value)).toEqual(served.map(() => 1));
  });
});
