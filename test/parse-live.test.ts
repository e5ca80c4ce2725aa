// Captures output live from every bpftrace release of support/versions.ts and parses it, asserting exact values:
// a change in bpftrace's output format shows up here, not in production.
import { spawn, spawnSync } from 'node:child_process';
import { OutputParser, parseOutput, readProgram } from '@ktrace/parser';
import type { MapSample, ParseEvent } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';

function capture(bpftrace: string, program: string, json: boolean): string {
  const run = spawnSync(bpftrace, [...(json ? ['-f', 'json'] : []), '-e', program], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`${bpftrace} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

function maps(events: ParseEvent[]): MapSample[] {
  return events.filter((e): e is MapSample => e.type === 'map');
}

const matrix = bpftraceReleases().flatMap((release) => [
  [release.name, 'text', release.path, false] as const,
  [release.name, 'json', release.path, true] as const,
]);

describe.each(matrix)('live bpftrace %s, %s output', (name, _format, bpftrace, json) => {
  // 0.17–0.23 print two blank lines before the exit-time dump, in text and in JSON; 0.24+ JSON prints none, so
  // nothing in its output tells the exit dump from a print() and its samples cannot be marked final.
  const final = json && name === '0.27' ? {} : { final: true };
  // 0.24+ JSON writes keys with the text formatter and then deletes every space: bpftrace's loss, kept as given.
  const key = (text: string): string => (json && name === '0.27' ? text.replaceAll(' ', '') : text);
  it('reads counts, sums and a keyed count exactly', () => {
    const program =
      'BEGIN { @c = count(); @c = count(); @c = count(); @s = sum(40); @s = sum(2); @k["a b"] = count(); @k["a b"] = count(); @k["c, d"] = count(); exit(); }';
    const events = parseOutput(capture(bpftrace, program, json), { program: readProgram(program) });
    expect(events.filter((e) => e.type === 'problem')).toEqual([]);
    // 0.27 writes `Attached 1 probe` to stderr in text mode; JSON and older text modes put it on stdout.
    expect(events.find((e) => e.type === 'attached')).toEqual(
      !json && name === '0.27' ? undefined : { type: 'attached', probes: 1 },
    );
    const byName = new Map(maps(events).map((m) => [m.name, m]));
    expect(byName.get('@c')).toEqual({
      type: 'map',
      name: '@c',
      kind: 'count',
      entries: [{ key: [], value: 3 }],
      ...final,
    });
    expect(byName.get('@s')).toEqual({
      type: 'map',
      name: '@s',
      kind: 'sum',
      entries: [{ key: [], value: 42 }],
      ...final,
    });
    expect(byName.get('@k')).toEqual({
      type: 'map',
      name: '@k',
      kind: 'count',
      entries: [
        { key: [key('c, d')], value: 1 },
        { key: [key('a b')], value: 2 },
      ],
      ...final,
    });
  });

  it('reads a hist with a value past 2^31 as bucket [2^31, 2^32-1]', () => {
    const program = 'BEGIN { @h = hist(3); @h = hist(3000000000); @l = lhist(55, 0, 100, 10); exit(); }';
    const byName = new Map(
      maps(parseOutput(capture(bpftrace, program, json), { program: readProgram(program) })).map((m) => [m.name, m]),
    );
    const h = byName.get('@h')?.entries[0]?.buckets ?? [];
    expect(h[0]).toEqual({ min: 2, max: 3, count: 1 });
    expect(h[h.length - 1]).toEqual({ min: 2147483648, max: 4294967295, count: 1 });
    expect(h).toHaveLength(31);
    expect(byName.get('@l')?.entries).toEqual([{ key: [], buckets: [{ min: 50, max: 59, count: 1 }] }]);
  });

  it('streams interval prints as they happen, then the exit dump as final', async () => {
    const program = 'interval:ms:100 { @n = count(); @i++; print(@n); if (@i == 3) { exit(); } }';
    const events: ParseEvent[] = [];
    const parser = new OutputParser({ onEvent: (e) => events.push(e), program: readProgram(program) });
    const child = spawn(bpftrace, [...(json ? ['-f', 'json'] : []), '-e', program]);
    child.stdout.on('data', (chunk: Buffer) => parser.write(chunk));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    parser.end();
    expect(status).toBe(0);
    expect(maps(events).map((m) => [m.name, m.kind, m.entries[0]?.value, m.final === true])).toEqual([
      ['@n', 'count', 1, false],
      ['@n', 'count', 2, false],
      ['@n', 'count', 3, false],
      ['@i', 'count', 3, final.final === true],
      ['@n', 'count', 3, final.final === true],
    ]);
  });
});
