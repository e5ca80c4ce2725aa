// Generated hostile bpftrace output for the exposition property test: seeded random maps with clashing names, keys
// of random bytes (undecodable ones included), odd values, in text or -f json, with the model of what ktrace must
// export (per map: the total, the skipped entries, the distinct keys) and where each dump ends.

import type { MapInfo, ProgramInfo } from '@ktrace/parser';
import { int, pick, prng } from './prng.js';
import type { Random } from './prng.js';

export type Kind = 'count' | 'sum' | 'max' | 'hist' | 'stats';
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

export interface Generated {
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

export function generate(seed: number): Generated {
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
