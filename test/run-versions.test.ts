// One workload with known counts, traced by every bpftrace release of support/versions.ts (0.17, 0.23.2, 0.27.1):
// `ktrace run` (/metrics), `ktrace parse` of bpftrace's text output and `ktrace export` of its -f json output must
// all give the same exact counters and histograms, on every release, and the same across releases.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bpftraceReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import { CLI, eventually, requireBuiltCli, startRun } from './support/ktrace-process.js';
import { namedBinary, ping, readsFromStdin, runToEnd, uniqueName, waitAttached } from './support/workload.js';
import type { Ping } from './support/workload.js';

const SMALL = 700;
const LARGE = 20;
const LARGE_SIZE = 3000;

/** Reads of fd 0 by the workload: counted under a key with a quote, summed by size, and in a hist and an lhist. */
function programFor(name: string, pinger: Ping): string {
  return [
    `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${name}"/ {`,
    '  @reads[comm, "q\\"uote"] = count(); @bytes[comm] = sum(args->count);',
    '  @sizes = hist(args->count); @linear = lhist(args->count, 0, 4096, 512);',
    '}',
    pinger.probe,
  ].join('\n');
}

/** 700 one-byte reads and 20 reads of 3000 bytes, all by a process called `name`. */
async function workload(name: string): Promise<void> {
  const dd = namedBinary('/bin/dd', name);
  await readsFromStdin(dd, SMALL);
  await runToEnd(dd, ['if=/dev/zero', 'of=/dev/null', `bs=${LARGE_SIZE}`, `count=${LARGE}`, 'status=none']);
}

/** Runs bpftrace itself until a ping shows it attached, then the workload, then SIGINT: its stdout, exit dump included. */
async function bpftraceOutput(
  release: BpftraceRelease,
  program: string,
  pingBinary: string,
  name: string,
  json: boolean,
): Promise<string> {
  const child = spawn(release.path, [...(json ? ['-f', 'json'] : []), '-e', program], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await eventually(
      async () => {
        await readsFromStdin(pingBinary, 1);
        return stdout.includes('ktrace-ping') ? true : undefined;
      },
      `bpftrace ${release.name} to attach`,
      60_000,
      () => stderr.slice(-2000),
    );
    await workload(name);
  } finally {
    child.kill('SIGINT');
  }
  expect(await closed, stderr.slice(-2000)).toBe(0);
  return stdout;
}

/** Runs the built CLI with `input` on stdin: its stdout. */
async function cli(args: string[], input: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(input);
  expect(await closed, stderr).toBe(0);
  return stdout;
}

/** The workload's series of an exposition, sorted, with the process name made generic: comparable across runs. */
function workloadSeries(exposition: string, name: string): string[] {
  return exposition
    .split('\n')
    .filter((l) => /^bpftrace_(reads|bytes|sizes|linear)[_{ ]/.test(l))
    .map((l) => l.replaceAll(name, 'WORKLOAD'))
    .sort();
}

/** What the workload makes, whatever reads it: exact counts, the sum, and every non-empty bucket. */
const expectedSeries = [
  'bpftrace_bytes_total{comm="WORKLOAD"} 60700',
  'bpftrace_reads_total{comm="WORKLOAD",key1="q\\"uote"} 720',
];

interface ParsedMaps {
  reads: unknown;
  bytes: unknown;
  sizes: Array<{ min: number; max: number | null; count: number }>;
  linear: Array<{ min: number | null; max: number | null; count: number }>;
}

/** The last sample of each workload map in `ktrace parse` NDJSON, keys made generic, empty buckets left out. */
function parsedMaps(ndjson: string, name: string): ParsedMaps {
  const last = new Map<
    string,
    {
      entries: Array<{
        key: unknown[];
        value?: unknown;
        buckets?: Array<{ min: number; max: number | null; count: number }>;
      }>;
    }
  >();
  for (const line of ndjson.split('\n').filter((l) => l !== '')) {
    const event = JSON.parse(line) as { type: string; name?: string };
    if (event.type === 'map' && event.name !== undefined) last.set(event.name, event as never);
  }
  const entries = (map: string) =>
    (last.get(map)?.entries ?? []).map((e) => ({ ...e, key: e.key.map((k) => (k === name ? 'WORKLOAD' : k)) }));
  const buckets = (map: string) => (entries(map)[0]?.buckets ?? []).filter((b) => b.count > 0);
  return { reads: entries('@reads'), bytes: entries('@bytes'), sizes: buckets('@sizes'), linear: buckets('@linear') };
}

const dir = mkdtempSync(join(tmpdir(), 'ktrace-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per release: what each of the three tools gave, to compare across releases at the end. */
const results = new Map<string, { run: string[]; export: string[]; parse: ParsedMaps }>();

describe.each(bpftraceReleases().map((r) => [r.name, r] as [string, BpftraceRelease]))(
  'the same workload traced by bpftrace %s',
  (_name, release) => {
    it('gives the exact counters and histograms through ktrace run, ktrace parse (text) and ktrace export (-f json)', async () => {
      requireBuiltCli();
      const name = uniqueName('ktv');
      const pinger = ping('ktvp');
      const program = programFor(name, pinger);
      const programFile = join(dir, `${release.name}.bt`);
      writeFileSync(programFile, `${program}\n`);

      // ktrace run: the exported series once the workload is complete.
      const ktrace = await startRun(program, { bpftrace: release.path, interval: '1s', listen: true });
      // Left running by a failure, it is stopped by support/ktrace-cleanup.ts.
      await waitAttached(ktrace, pinger);
      await workload(name);
      const run = await ktrace.waitFor(
        async () => {
          const series = workloadSeries(await ktrace.metrics(), name);
          return series.includes('bpftrace_sizes_count 720') && series.includes(expectedSeries[1] as string)
            ? series
            : undefined;
        },
        'all 720 reads at /metrics',
        30_000,
      );
      expect((await ktrace.stop()).code, ktrace.tail(2000)).toBe(0);

      // bpftrace alone, its text through `ktrace parse` and its JSON through `ktrace export`.
      const text = await bpftraceOutput(release, program, pinger.binary, name, false);
      const parse = parsedMaps(
        await cli(['parse', '--program', programFile, '--bpftrace-version', release.version], text),
        name,
      );
      const json = await bpftraceOutput(release, program, pinger.binary, name, true);
      const exported = workloadSeries(
        await cli(['export', '--program', programFile, '--bpftrace-version', release.version], json),
        name,
      );

      for (const series of expectedSeries) expect(run).toContain(series);
      expect(run.filter((l) => l.startsWith('bpftrace_sizes_bucket'))).toContain('bpftrace_sizes_bucket{le="1"} 700');
      expect(run).toContain('bpftrace_sizes_bucket{le="4095"} 720');
      expect(run).toContain('bpftrace_linear_bucket{le="511"} 700');
      expect(run).toContain('bpftrace_linear_bucket{le="3071"} 720');
      expect(exported).toEqual(run);
      expect(parse).toEqual({
        reads: [{ key: ['WORKLOAD', 'q"uote'], value: 720 }],
        bytes: [{ key: ['WORKLOAD'], value: SMALL + LARGE * LARGE_SIZE }],
        sizes: [
          { min: 1, max: 1, count: SMALL },
          { min: 2048, max: 4095, count: LARGE },
        ],
        linear: [
          { min: 0, max: 511, count: SMALL },
          { min: 2560, max: 3071, count: LARGE },
        ],
      });
      results.set(release.name, { run, export: exported, parse });
    });
  },
);

describe('across bpftrace releases', () => {
  it('every release gave the same series and samples', () => {
    const releases = bpftraceReleases().map((r) => r.name);
    expect([...results.keys()]).toEqual(releases);
    const [first, ...others] = [...results.values()];
    for (const other of others) expect(other).toEqual(first);
  });
});
