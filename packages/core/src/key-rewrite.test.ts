import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOutput } from '@ktrace/parser';
import type { MapSample } from '@ktrace/parser';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bpftraceBinaries,
  cleanupReadiness,
  exitReadiness,
  runBpftrace,
} from '../../../test/support/bpftrace-session.js';
import { CgroupSandbox } from '../../../test/support/cgroup-sandbox.js';
import { addCgroupKey, podLabelsMaps } from './key-rewrite.js';
import { CgroupTree } from './kubernetes/cgroup-tree.js';
import { parseTraceSpec } from './trace-spec.js';

describe('addCgroupKey', () => {
  it('adds cgroup to every assignment and use of a keyed map', () => {
    const source = [
      'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); @start[tid] = nsecs; }',
      'tracepoint:syscalls:sys_exit_openat /@start[tid]/ { @lat[comm] = hist(nsecs - @start[tid]); delete(@start[tid]); }',
      'interval:s:1 { print(@opens); print(@lat, 10); }',
    ].join('\n');
    const out = addCgroupKey(source, ['@opens', '@lat']);
    expect(out.source).toBe(
      [
        'tracepoint:syscalls:sys_enter_openat { @opens[comm, cgroup] = count(); @start[tid] = nsecs; }',
        'tracepoint:syscalls:sys_exit_openat /@start[tid]/ { @lat[comm, cgroup] = hist(nsecs - @start[tid]); delete(@start[tid]); }',
        'interval:s:1 { print(@opens); print(@lat, 10); }',
      ].join('\n'),
    );
    expect(out.rewritten).toEqual(['@opens', '@lat']);
    expect(out.program.maps.find((m) => m.name === '@opens')?.keyNames).toEqual(['comm', 'cgroup']);
  });

  it('gives a keyless map the key [cgroup] everywhere it is read or written, but not where it is passed whole', () => {
    const source =
      'BEGIN { @x = 0; } kprobe:f { @x++; @y = count(); if (@y > 3) { printf("%d %s\\n", @y, "@y"); } } END { print(@y); clear(@x); zero(@y); }';
    const out = addCgroupKey(source, ['@x', '@y']);
    expect(out.source).toBe(
      'BEGIN { @x[cgroup] = 0; } kprobe:f { @x[cgroup]++; @y[cgroup] = count(); if (@y[cgroup] > 3) { printf("%d %s\\n", @y[cgroup], "@y"); } } END { print(@y); clear(@x); zero(@y); }',
    );
  });

  it('leaves comments, strings, other maps with a shared prefix, and maps already keyed by cgroup alone', () => {
    const source = '// @a = count()\nk:f { @a[pid] = count(); @ab = count(); /* @a */ @c[cgroup, comm] = count(); }';
    const out = addCgroupKey(source, ['@a', '@c']);
    expect(out.source).toBe(
      '// @a = count()\nk:f { @a[pid, cgroup] = count(); @ab = count(); /* @a */ @c[cgroup, comm] = count(); }',
    );
    expect(out.rewritten).toEqual(['@a']);
  });

  it('names the map a spec asks for that the program does not have', () => {
    expect(() => addCgroupKey('k:f { @a = count(); }', ['@b'])).toThrow(
      'maps.@b.podLabels: the program assigns no map @b (its maps: @a)',
    );
  });

  it('reads podLabels from a trace spec', () => {
    const spec = parseTraceSpec({
      program: 'k:f { @a[comm] = count(); @b = count(); }',
      maps: { '@a': { podLabels: true }, '@b': { metric: 'b' } },
    });
    expect(podLabelsMaps(spec.maps)).toEqual(['@a']);
    expect(() => parseTraceSpec({ program: 'k:f { @a = count(); }', maps: { '@a': { podLabels: 'yes' } } })).toThrow(
      /podLabels/,
    );
  });
});

describe('rewritten programs run on real bpftrace', () => {
  let sandbox: CgroupSandbox | undefined;
  afterEach(() => {
    cleanupReadiness();
    sandbox?.cleanup();
    sandbox = undefined;
  });

  for (const { version, path } of bpftraceBinaries()) {
    it(`bpftrace ${version} compiles them and keys the counts by the workload's cgroup`, async () => {
      sandbox = new CgroupSandbox('ktrace-test-pods-');
      const container = sandbox.container({
        driver: 'cgroupfs',
        podUid: '5d7c1a2e-8f3b-4c6d-9e0a-1b2c3d4e5f60',
        containerId: 'f00d'.repeat(16),
        qosClass: 'burstable',
      });
      const binDir = mkdtempSync(join(tmpdir(), 'ktrace-test-pods-bin-'));
      const name = `ktkey${process.pid % 10000}`;
      copyFileSync('/bin/true', join(binDir, name));
      const user = [
        `tracepoint:sched:sched_process_exit /comm == "${name}"/ { @exits[comm] = count(); @all = count(); @last = pid; }`,
        'interval:ms:200 { print(@all); }',
        'END { clear(@last); }',
      ].join('\n');
      const { source } = addCgroupKey(user, ['@exits', '@all']);
      const ready = exitReadiness();
      try {
        const run = await runBpftrace(
          `${source}\n${ready.probe}`,
          async () => {
            for (let i = 0; i < 3; i++) {
              const child = sandbox?.spawnIn(container.dir, join(binDir, name));
              await new Promise((r) => child?.on('close', r));
            }
          },
          { bpftrace: path, attachTimeoutMillis: 180_000, ready },
        );
        const finals = new Map(
          parseOutput(run.stdout)
            .filter((e): e is MapSample => e.type === 'map')
            .map((s) => [s.name, s]),
        );
        const tree = new CgroupTree();
        const exits = finals.get('@exits')?.entries ?? [];
        expect(exits.map((e) => [e.key[0], tree.pathOf(e.key[1] ?? -1), e.value])).toEqual([[name, container.path, 3]]);
        const all = finals.get('@all')?.entries ?? [];
        expect(all.map((e) => [tree.pathOf(e.key[0] ?? -1), e.value])).toEqual([[container.path, 3]]);
      } finally {
        ready.cleanup();
        rmSync(binDir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
