// Real bpftrace: a cluster trace runs, a changed document restarts bpftrace with its counters carried, a deleted one
// leaves nothing exported; a changed pod selection applies without a restart; a failure the machine may heal is
// retried, a compile error is not.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AgentTrace } from './agent-trace.js';
import { CgroupTree } from './cgroup-tree.js';
import { PodCache } from './pod-cache.js';
import { parseTraceDocument } from './trace-document.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-agent-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function namedDd(name: string): string {
  const path = join(dir, name);
  copyFileSync('/bin/dd', path);
  return path;
}

function reads(dd: string, count: number): void {
  const result = spawnSync(dd, ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`, 'status=none']);
  if (result.status !== 0) throw new Error(`dd failed: ${String(result.stderr)}`);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function value(text: string | undefined, line: RegExp): number | undefined {
  const match = text === undefined ? null : line.exec(text);
  return match === null ? undefined : Number(match[1]);
}

describe('AgentTrace with the real bpftrace', () => {
  test('a changed document restarts bpftrace and the counter carries on, exact; stopped, nothing is exported', async () => {
    const suffix = `${process.pid % 1000}${Math.floor(Math.random() * 1e4)}`;
    const work = namedDd(`kcw${suffix}`.slice(0, 15));
    const ping = namedDd(`kcp${suffix}`.slice(0, 15));
    const workName = `kcw${suffix}`.slice(0, 15);
    const pingName = `kcp${suffix}`.slice(0, 15);
    const document = (interval: string) =>
      parseTraceDocument({
        apiVersion: 'ktrace.dev/v1alpha1',
        kind: 'Trace',
        metadata: { name: 'reads' },
        spec: { program: 'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }', interval },
      });
    const logs: string[] = [];
    const trace = new AgentTrace('reads', {
      bpftrace: '/usr/bin/bpftrace',
      resourceAttributes: { 'k8s.node.name': 'n1' },
      onLog: (r) => logs.push(r.msg),
      onChange: () => undefined,
    });
    const count = (comm: string) => async () =>
      value(await trace.prometheusText(), new RegExp(`^bpftrace_reads_total\\{comm="${comm}"\\} (\\d+)$`, 'm'));
    const attached = async (): Promise<void> => {
      const before = (await count(pingName)()) ?? 0;
      await until(
        async () => {
          reads(ping, 1);
          const now = await count(pingName)();
          return now !== undefined && now > before ? true : undefined;
        },
        `bpftrace attached (${logs.slice(-5).join(' | ')})`,
      );
    };
    try {
      trace.want(document('500ms'));
      await attached();
      reads(work, 300);
      await until(async () => ((await count(workName)()) === 300 ? true : undefined), 'the first 300 reads');
      // the tracepoint and the interval probe ktrace adds to print the map
      expect(trace.status()).toMatchObject({ state: 'running', attachedProbes: 2 });

      trace.want(document('700ms'));
      await until(
        () =>
          Promise.resolve(
            trace.status().digest === document('700ms').digest && trace.status().state === 'running' ? true : undefined,
          ),
        'the restart',
      );
      await attached();
      // carried: the new bpftrace counts from zero, the exported counter goes on from 300
      expect(await count(workName)()).toBe(300);
      reads(work, 200);
      await until(async () => ((await count(workName)()) === 500 ? true : undefined), '300 + 200 reads');
      expect(value(await trace.prometheusText(), /^ktrace_bpftrace_restarts_total (\d+)$/m)).toBe(1);
    } finally {
      await trace.stop();
    }
    expect(await trace.prometheusText()).toBeUndefined();
  }, 120_000);

  test('a probe whose binary is missing is retried until it attaches; a compile error waits for a new document', async () => {
    const lib = join(dir, 'late', 'libc.so.6');
    const document = (name: string, program: string) =>
      parseTraceDocument({
        apiVersion: 'ktrace.dev/v1alpha1',
        kind: 'Trace',
        metadata: { name },
        spec: { program, interval: '500ms' },
      });
    const logs: Array<{ trace: string; msg: string }> = [];
    const make = (name: string) =>
      new AgentTrace(name, {
        bpftrace: '/usr/bin/bpftrace',
        resourceAttributes: { 'k8s.node.name': 'n1' },
        onLog: (r) => logs.push({ trace: name, msg: r.msg }),
        onChange: () => undefined,
        retry: { initialMillis: 200, maxMillis: 400 },
      });
    const late = make('late');
    const typo = make('typo');
    const retries = (name: string) =>
      logs.filter((l) => l.trace === name && l.msg === 'retrying the failed trace').length;
    try {
      late.want(document('late', `uprobe:${lib}:getpid { @calls = count(); }`));
      typo.want(document('typo', 'tracepoint:syscalls:sys_enter_read { @x = count() }}'));
      await until(
        () => Promise.resolve(retries('late') >= 2 && late.status().state === 'failed' ? true : undefined),
        'two retries of the missing binary',
      );
      expect(late.status().error).toMatch(/does not exist.*\(retrying in 400 ms\)$/s);
      expect(typo.status()).toMatchObject({ state: 'failed' });
      expect(typo.status().error).toMatch(
        /line 1, column 52: unexpected '\}'.*\(the program text is rejected: not retried until the document changes\)$/s,
      );
      expect(retries('typo')).toBe(0);

      mkdirSync(join(dir, 'late'));
      copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', lib);
      await until(
        () => Promise.resolve(late.status().state === 'running' ? true : undefined),
        `the retried trace to run (${logs
          .slice(-3)
          .map((l) => l.msg)
          .join(' | ')})`,
      );
      expect(late.status()).toMatchObject({ attachedProbes: 2 });
      expect(retries('typo')).toBe(0);
    } finally {
      await Promise.all([late.stop(), typo.stop()]);
    }
  }, 120_000);

  test('a document that changes only its pod selection keeps the same bpftrace running', async () => {
    const document = (app: string) =>
      parseTraceDocument({
        apiVersion: 'ktrace.dev/v1alpha1',
        kind: 'Trace',
        metadata: { name: 'web' },
        spec: {
          program: 'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }',
          interval: '500ms',
          podSelector: { matchLabels: { app } },
        },
      });
    const logs: string[] = [];
    const trace = new AgentTrace('web', {
      bpftrace: '/usr/bin/bpftrace',
      resourceAttributes: { 'k8s.node.name': 'n1' },
      onLog: (r) => logs.push(r.msg),
      onChange: () => undefined,
      pods: { tree: new CgroupTree(), cache: new PodCache({ nodeName: 'n1' }) },
      selects: (t, pod) => t.podSelector?.matchLabels?.['app'] === pod.labels['app'],
    });
    try {
      trace.want(document('web'));
      await until(() => Promise.resolve(trace.status().state === 'running' ? true : undefined), 'the trace to run');
      const pid = trace.pid();
      trace.want(document('api'));
      await until(
        () => Promise.resolve(trace.status().digest === document('api').digest ? true : undefined),
        'the new selection',
      );
      expect(trace.pid()).toBe(pid);
      expect(trace.status()).toMatchObject({ state: 'running', restarts: 0 });
      expect(logs).toContain('the pod selection changed: applied without restarting bpftrace');
    } finally {
      await trace.stop();
    }
  }, 60_000);
});
