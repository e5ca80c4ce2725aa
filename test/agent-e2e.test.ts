// `ktrace agent` as a plain process against the loopback API server, with the real bpftrace: a trace applied with
// `ktrace apply` starts, exports exact counts labelled trace="…" with the node's resource attributes, and shows in
// `ktrace get`; a bad program, an invalid document and a trace for other nodes are reported without stopping it; the
// API server goes away and comes back with no count lost; a changed document carries the counter; a deleted trace's
// series go; SIGTERM stops the agent cleanly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leaseType, runCli, startAgent } from './support/cluster.js';
import type { CliResult } from './support/cluster.js';
import { requireBuiltCli, sampleValue } from './support/ktrace-process.js';
import { kubeApiServerPerFile } from './support/kube-api-server-per-file.js';
import { namedBinary, readsFromStdin, uniqueName } from './support/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'ktrace-cluster-agent-'));
let kubeconfig: string;
const api = kubeApiServerPerFile({
  namespaces: ['ktrace'],
  resources: [leaseType],
  setup: (server) => {
    requireBuiltCli();
    kubeconfig = server.kubeconfigPath({ namespace: 'ktrace' });
    server.seed({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux', pool: 'a' } },
    });
  },
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<CliResult> {
  return runCli([...args, '--kubeconfig', kubeconfig], { HOME: dir });
}

async function applied(file: string, args: string[] = []): Promise<void> {
  const result = await cli(['apply', '-f', file, ...args]);
  if (result.code !== 0) throw new Error(`ktrace apply failed: ${result.stderr}`);
}

function program(file: string, text: string): string {
  const path = join(dir, file);
  writeFileSync(path, text);
  return path;
}

describe('ktrace agent with the real bpftrace and the loopback API server', () => {
  it('runs, reports, survives and stops traces as their documents come and go', async () => {
    const work = uniqueName('kaw');
    const ping = uniqueName('kap');
    const dd = namedBinary('/bin/dd', work);
    const pingDd = namedBinary('/bin/dd', ping);
    const readsFile = program(
      'reads.bt',
      'tracepoint:syscalls:sys_enter_read /args->fd == 0/ { @reads[comm] = count(); }\n',
    );
    const agent = await startAgent(kubeconfig, dir, ['--cluster-name', 'test-cluster', '--heartbeat', '2s']);
    const listen = agent.listen as string;
    const metrics = (): Promise<string> => agent.metrics();
    const value = (name: string, labels: Record<string, string>): Promise<number | undefined> =>
      agent.sample(name, labels);
    const reads = (comm: string): Promise<number | undefined> =>
      value('bpftrace_reads_total', { trace: 'reads', comm });
    const waitFor = <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => agent.waitFor(probe, what);
    /** Reads by the ping process until the trace counts them: bpftrace's probe is attached now. */
    const attached = async (): Promise<void> => {
      const before = (await reads(ping).catch(() => undefined)) ?? 0;
      await waitFor(async () => {
        await readsFromStdin(pingDd, 1);
        const now = await reads(ping);
        return now !== undefined && now > before ? true : undefined;
      }, 'the reads trace to count the ping reads');
    };

    await waitFor(
      async () => ((await value('ktrace_agent_watch_connected', {})) === 1 ? true : undefined),
      'the agent to watch traces',
    );
    await applied(readsFile);
    await attached();
    await readsFromStdin(dd, 1234);
    await waitFor(
      async () => ((await reads(work)) === 1234 ? true : undefined),
      'exactly 1234 reads with trace="reads"',
    );
    const text = await metrics();
    expect(text).toMatch(/^target_info\{trace="reads",[^}]*k8s_node_name="n1"/m);
    expect(text).toMatch(/^target_info\{[^}]*k8s_cluster_name="test-cluster"/m);
    expect(text).toMatch(/^target_info\{[^}]*host_name="n1"/m);
    expect(text).toMatch(/^target_info\{[^}]*service_instance_id="n1"/m);
    expect(sampleValue(text, 'ktrace_up', { trace: 'reads' })).toBe(1);

    // the node's report, through ktrace get
    const report = await waitFor(async () => {
      const got = await cli(['get', 'reads', '-o', 'json']);
      const parsed = JSON.parse(got.stdout) as { nodes: Array<Record<string, unknown>> };
      const node = parsed.nodes.find((n) => n['node'] === 'n1');
      return node?.['state'] === 'running' && node['attachedProbes'] === 2 && node['lastDumpAt'] !== undefined
        ? node
        : undefined;
    }, 'ktrace get to show reads running on n1');
    expect(report).toMatchObject({ stale: false, outdated: false, restarts: 0 });
    const table = await cli(['get', 'reads']);
    expect(table.stdout).toMatch(/^n1\s+running\s+2\s+\d+s ago\s+0\s/m);

    // a program bpftrace rejects, an invalid document, a trace for other nodes: reported, and reads goes on
    await applied(program('bad.bt', 'tracepoint:ktrace_no_such:probe { @x = count(); }\n'), ['--name', 'bad']);
    await applied(readsFile, ['--name', 'gpu-only', '--nodes', 'pool=gpu']);
    api.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'trace-broken',
        namespace: 'ktrace',
        labels: { 'app.kubernetes.io/component': 'trace', 'ktrace.dev/trace': 'broken' },
      },
      data: {
        'trace.yaml':
          'apiVersion: ktrace.dev/v1alpha1\nkind: Trace\nmetadata: {name: broken}\nspec: {program: "x", interval: often}\n',
      },
    });
    await waitFor(async () => {
      const t = await metrics();
      const states = ['bad/failed', 'broken/invalid', 'gpu-only/skipped', 'reads/running'].every((s) => {
        const [trace = '', state = ''] = s.split('/');
        return sampleValue(t, 'ktrace_agent_trace_state', { trace, state }) === 1;
      });
      return states ? true : undefined;
    }, 'bad failed, broken invalid, gpu-only skipped, reads running');
    const listed = await cli(['get']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^bad\s+<all>\s+0\/1\s+1\s+.*ktrace_no_such/m);
    expect(listed.stdout).toMatch(/^broken\s+-\s+0\/1\s+1\s+trace broken: invalid trace spec:/m);
    expect(listed.stdout).toMatch(/^gpu-only\s+pool=gpu\s+0\/0\s+0/m);
    expect(
      agent
        .logs()
        .some((l) => l['level'] === 'error' && l['trace'] === 'broken' && String(l['msg']).includes('spec.interval')),
    ).toBe(true);
    await readsFromStdin(dd, 100);
    await waitFor(async () => ((await reads(work)) === 1334 ? true : undefined), 'reads still counting exactly (1334)');

    // the API server goes away: the trace keeps counting; it comes back: the watch resumes, nothing was lost
    await api.stop();
    await readsFromStdin(dd, 66);
    await waitFor(
      async () => ((await reads(work)) === 1400 ? true : undefined),
      '1400 reads while the API server is away',
    );
    await waitFor(
      async () => ((await value('ktrace_agent_watch_connected', {})) === 0 ? true : undefined),
      'the agent to notice the outage',
    );
    expect(await (await fetch(`http://${listen}/healthz`)).text()).toMatch(/^ok: /);
    await api.restart();
    await waitFor(
      async () => ((await value('ktrace_agent_watch_connected', {})) === 1 ? true : undefined),
      'the watch to resume',
    );
    expect(await reads(work)).toBe(1400);

    // a changed document restarts bpftrace; the counter carries on, exact
    await applied(readsFile, ['--interval', '700ms']);
    await waitFor(
      async () => ((await value('ktrace_bpftrace_restarts_total', { trace: 'reads' })) === 1 ? true : undefined),
      'the restart for the new interval',
    );
    await attached();
    expect(await reads(work)).toBe(1400);
    await readsFromStdin(dd, 11);
    await waitFor(async () => ((await reads(work)) === 1411 ? true : undefined), '1411 reads after the change');

    // deleted: its series go, the others stay
    const deleted = await cli(['delete', 'reads']);
    expect(deleted.stdout).toBe('trace/reads deleted\n');
    await waitFor(async () => ((await reads(work)) === undefined ? true : undefined), "the reads trace's series to go");
    expect(sampleValue(await metrics(), 'ktrace_agent_trace_state', { trace: 'bad', state: 'failed' })).toBe(1);
    const missing = await cli(['delete', 'reads']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('ktrace: no trace reads in namespace ktrace (ktrace get lists them)\n');

    expect((await agent.stop()).code).toBe(0);
    expect(agent.logs().some((l) => l['msg'] === 'ktrace agent stopped')).toBe(true);
  }, 300_000);
});
