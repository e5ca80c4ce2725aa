// The same deterministic programs run through each real bpftrace release twice, in text and in -f json, must give
// the same map samples once parsed (with the program). Catches any drift between the two readers, per version.
import { spawnSync } from 'node:child_process';
import { parseOutput, readProgram } from '@ktrace/parser';
import type { MapSample, ParseEvent } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';

function run(bpftrace: string, program: string, json: boolean): string {
  const ran = spawnSync(bpftrace, [...(json ? ['-f', 'json'] : []), '-e', program], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (ran.status !== 0) throw new Error(`${bpftrace} exited ${ran.status}: ${ran.stderr}`);
  return ran.stdout;
}

/** Map samples with their entries in a stable order (bpftrace prints ties in hash order). */
function samples(events: ParseEvent[]): MapSample[] {
  return events
    .filter((e): e is MapSample => e.type === 'map')
    .map((m) => ({ ...m, entries: [...m.entries].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) }));
}

const programs: Array<[string, string]> = [
  [
    'scalar aggregations and plain values',
    'BEGIN { @c = count(); @c = count(); @s = sum(5); @s = sum(-12); @mn = min(7); @mn = min(-3); @mx = max(7); @a = avg(10); @a = avg(-3); @st = stats(10); @st = stats(-3); @st = stats(4); @int = -42; @str = "hello world"; @tup = (1, -2, "three"); exit(); }',
  ],
  [
    'string keys with spaces, ", ", "]: " and quotes; multi-keys; negative keys',
    'BEGIN { @cnt["with space"] = count(); @cnt["comm, x"] = count(); @cnt["x]: y"] = count(); @cnt["quote\\"d"] = count(); @cnt["a"] = count(); @multi["x", 1] = count(); @multi["y, z", -2] = count(); @neg[-5] = sum(-10); @neg[3] = sum(7); @three[1, "mid, dle", 2] = max(100); @av["p"] = avg(10); @av["q"] = avg(-20); @stk["s1", 1] = stats(5); @stk["s2", 2] = stats(-5); @tv["t"] = (1, "x", -3); exit(); }',
  ],
  [
    'hist and lhist, including values past 2^31 and lhist under/overflow',
    'BEGIN { @h = hist(-5); @h = hist(0); @h = hist(1); @h = hist(3); @h = hist(1000); @h = hist(5000); @h = hist(1500000); @big = hist(1073741824); @big = hist(3000000000); @kh["read"] = hist(100); @kh["write"] = hist(7); @kh["write"] = hist(40); @lh = lhist(-3, 0, 100, 10); @lh = lhist(15, 0, 100, 10); @lh = lhist(1000, 0, 100, 10); @lk = lhist(700, 0, 3000, 256); @lk = lhist(2100, 0, 3000, 256); @klh[1, "a b"] = lhist(5, 0, 10, 1); exit(); }',
  ],
  [
    'print(@m, top, div) while running, then clear/zero before the exit dump',
    'BEGIN { @a["a"] = sum(10); @a["b"] = sum(20); @a["c"] = sum(30); @h[1] = hist(10); @h[2] = hist(20); @h[2] = hist(21); @av["x"] = avg(100); @av["y"] = avg(200); print(@a); print(@a, 2); print(@a, 0, 10); print(@h, 0, 2); print(@av, 1, 10); clear(@a); zero(@h); @i = count(); exit(); }',
  ],
];

const matrix = bpftraceReleases().flatMap((release) =>
  programs.map(([what, program]) => [release.name, what, release, program] as const),
);

describe('text and JSON output of the same program parse to the same map samples', () => {
  it.each(matrix)('bpftrace %s: %s', (name, _what, release, program) => {
    const bpftrace = release.path;
    // The version lets the reader repair what it knows a version gets wrong (0.22–0.23 keys escaped twice).
    const options = { program: readProgram(program), bpftraceVersion: release.version };
    // 0.24+ JSON loses two things text keeps (bpftrace's loss, not the reader's): the blank lines that mark the
    // exit-time dump (so no sample is `final`), and every space in a key. Text is brought down to the same.
    const lossyJson = name === '0.27';
    const asJson = (list: MapSample[]): MapSample[] =>
      lossyJson
        ? list.map(({ final: _final, ...m }) => ({
            ...m,
            entries: m.entries.map((e) => ({
              ...e,
              key: e.key.map((k) => (typeof k === 'string' ? k.replaceAll(' ', '') : k)),
            })),
          }))
        : list;
    const text = asJson(samples(parseOutput(run(bpftrace, program, false), options)));
    const json = asJson(samples(parseOutput(run(bpftrace, program, true), options)));
    expect(json.length).toBeGreaterThan(0);
    // 0.17 text prints a blank line for an empty (cleared) map, JSON prints nothing: compare maps with entries.
    const nonEmpty = (list: MapSample[]): MapSample[] => list.filter((m) => m.entries.length > 0);
    expect(nonEmpty(text)).toEqual(nonEmpty(json));
  });
});
