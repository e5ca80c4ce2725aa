// Every program in examples/ runs through `ktrace run --spec` with the real bpftrace here: it attaches, and where
// this test can cause the activity it measures, its maps show up at /metrics. Also the bare `ktrace run` (the bundled
// syscalls example) and `--duration`. Every example on every bpftrace release of support/versions.ts, and what each
// serves passes `promtool check metrics` of every Prometheus release (base units, counter and histogram names).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promtool } from './support/exposition-text.js';
import { freePort } from './support/prometheus.js';
import { bpftraceReleases, prometheusReleases } from './support/versions.js';
import type { BpftraceRelease } from './support/versions.js';
import { ROOT, eventually, requireBuiltCli, sampleValue, scrape, startKtrace } from './support/ktrace-process.js';
import { namedBinary, readsFromStdin, runToEnd, uniqueName } from './support/workload.js';

const EXAMPLES = join(ROOT, 'examples');

/** Activity this test can cause for an example, and a series that must then appear. */
const workloads: Record<
  string,
  { run: (name: string) => Promise<void>; metric: string; labels: (name: string) => Record<string, string> }
> = {
  syscalls: {
    run: (name) => readsFromStdin(namedBinary('/bin/dd', name), 100),
    metric: 'bpftrace_syscalls_total',
    labels: (comm) => ({ comm }),
  },
  'read-write-sizes': {
    run: (name) => readsFromStdin(namedBinary('/bin/dd', name), 100),
    metric: 'bpftrace_read_bytes_count',
    labels: (comm) => ({ comm }),
  },
  'file-opens': {
    run: (name) =>
      runToEnd(namedBinary('/bin/cat', name), ['/etc/hostname', '/nonexistent-ktrace-file']).catch(() => undefined),
    metric: 'bpftrace_open_errors_total',
    labels: (comm) => ({ comm }),
  },
  'runqueue-latency': {
    run: () => runToEnd('/bin/sh', ['-c', 'for i in 1 2 3 4 5; do sleep 0.01; done']),
    metric: 'bpftrace_runq_latency_seconds_count',
    labels: () => ({}),
  },
  'block-io-latency': {
    // O_DIRECT writes reach the block layer (not on tmpfs, which /tmp may be)
    run: async () => {
      const dir = mkdtempSync('/var/tmp/ktrace-blk-');
      try {
        await runToEnd('/bin/dd', ['if=/dev/zero', `of=${dir}/direct`, 'bs=64k', 'count=8', 'oflag=direct,sync']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    metric: 'bpftrace_block_io_latency_seconds_count',
    labels: () => ({}),
  },
  'cpu-profile': {
    run: (name) => runToEnd(namedBinary('/bin/sh', name), ['-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done']),
    metric: 'bpftrace_cpu_samples_total',
    labels: (comm) => ({ comm }),
  },
};

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.bt'))
  .map((f) => f.slice(0, -3))
  .sort();

describe('examples/', () => {
  it('has a spec for every program, and the eight programs the dashboards are written against', () => {
    expect(examples).toEqual([
      'bash-readline',
      'block-io-latency',
      'cpu-profile',
      'file-opens',
      'read-write-sizes',
      'runqueue-latency',
      'syscalls',
      'tcp-retransmits',
    ]);
    for (const name of examples) {
      expect(readFileSync(join(EXAMPLES, `${name}.yaml`), 'utf8'), name).toContain(`programFile: ${name}.bt`);
    }
  });

  const matrix = bpftraceReleases().flatMap((release) =>
    examples.map((example) => [example, release.name, release] as [string, string, BpftraceRelease]),
  );

  it.each(matrix)('%s attaches with the real bpftrace %s and exports its maps', async (example, _name, release) => {
    requireBuiltCli();
    const listen = `127.0.0.1:${await freePort()}`;
    const ktrace = startKtrace([
      'run',
      '--bpftrace',
      release.path,
      '--spec',
      join(EXAMPLES, `${example}.yaml`),
      '--listen',
      listen,
    ]);
    try {
      const text = await eventually(
        async () => {
          const t = await scrape(listen);
          return (sampleValue(t, 'ktrace_attached_probes') ?? 0) > 0 && sampleValue(t, 'ktrace_up') === 1
            ? t
            : undefined;
        },
        `${example} to attach`,
        60_000,
        () => ktrace.output().slice(-3000),
      );
      expect(sampleValue(text, 'ktrace_attached_probes')).toBeGreaterThan(0);
      const workload = workloads[example];
      if (workload !== undefined) {
        const name = uniqueName('kte');
        await eventually(
          async () => {
            await workload.run(name);
            const value = sampleValue(await scrape(listen), workload.metric, workload.labels(name));
            return value !== undefined && value > 0 ? value : undefined;
          },
          `${workload.metric} for ${name}`,
          60_000,
          () => ktrace.output().slice(-3000),
        );
      }
      const served = await scrape(listen);
      for (const prometheus of prometheusReleases()) {
        const lint = await promtool(prometheus.promtool, served);
        expect(lint, `promtool ${prometheus.name} check metrics`).toEqual({ code: 0, output: '' });
      }
    } finally {
      const exit = await ktrace.stop();
      expect(exit.code, ktrace.output().slice(-2000)).toBe(0);
    }
  });

  it('bare `ktrace run` runs the bundled syscalls example, and --duration stops it cleanly with exit 0', async () => {
    requireBuiltCli();
    const listen = `127.0.0.1:${await freePort()}`;
    // --duration counts from the start, attach included: leave room for a slow attach on a loaded machine.
    const ktrace = startKtrace(['run', '--listen', listen, '--duration', '10s']);
    const name = uniqueName('ktb');
    await eventually(
      async () => {
        await readsFromStdin(namedBinary('/bin/dd', name), 10);
        const value = sampleValue(await scrape(listen), 'bpftrace_syscalls_total', { comm: name });
        return value !== undefined && value > 0 ? value : undefined;
      },
      'the bundled example to count syscalls',
      60_000,
      () => ktrace.output().slice(-3000),
    );
    expect(await ktrace.exited).toEqual({ code: 0, signal: null });
    const logs = ktrace.logs();
    expect(logs.find((l) => l['msg'] === 'ktrace running')?.['maps']).toEqual(['@syscalls', '@syscall_latency_ns']);
    expect(logs.some((l) => l['msg'] === 'duration reached; stopping')).toBe(true);
    expect(logs.some((l) => l['msg'] === 'trace stopped')).toBe(true);
  });
});
