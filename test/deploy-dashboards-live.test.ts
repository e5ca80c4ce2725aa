// The Grafana dashboards in deploy/grafana, live: every query of every panel returns data from a real Prometheus
// scraping real `ktrace run` processes, one per example program, while a workload feeds each example. The rules of deploy/prometheus are loaded too: recording rules must record data,
// and every rule must evaluate without error on the live series.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OF, GENERIC, isPanelWithQueries, loadDashboards } from './support/dashboards.js';
import type { Dashboard } from './support/dashboards.js';
import { freePort, startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';
import { prometheusReleases } from './support/versions.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const RECORDING_RULES = join(ROOT, 'deploy', 'prometheus', 'ktrace-recording-rules.yml');
const ALERT_RULES = join(ROOT, 'deploy', 'prometheus', 'ktrace-alerts.yml');

/**
 * No example program has min()/max()/avg()/stats() maps, so the generic dashboard's gauge panels are fed by one more
 * `ktrace run` of this program, keyed like the examples (comm, uid, dport).
 */
const GAUGE_PROGRAM = `
tracepoint:syscalls:sys_exit_read /args->ret > 0/ {
  @read_max_bytes[comm] = max(args->ret);
  @read_stats_bytes[comm] = stats(args->ret);
  @read_min_bytes[uid] = min(args->ret);
}
tracepoint:tcp:tcp_retransmit_skb {
  @retransmit_avg_sport[args->dport] = avg(args->sport);
}
`;
const GAUGE_RUN = 'gauges (ktrace run -e GAUGE_PROGRAM)';
/** Choices a user makes in the generic dashboard, each one checked against the real series. */
const GENERIC_CHOICES: Array<{ histogram: string; counter: string; gauge: string; key: string }> = [
  {
    histogram: 'bpftrace_syscall_latency_seconds',
    counter: 'bpftrace_syscalls_total',
    gauge: 'bpftrace_read_max_bytes',
    key: 'comm',
  },
  {
    histogram: 'bpftrace_runq_latency_seconds',
    counter: 'bpftrace_tcp_retransmits_total',
    gauge: 'bpftrace_retransmit_avg_sport',
    key: 'dport',
  },
  {
    histogram: 'bpftrace_write_bytes',
    counter: 'bpftrace_read_stats_bytes_count_total',
    gauge: 'bpftrace_read_stats_bytes_average',
    key: 'comm',
  },
  {
    histogram: 'bpftrace_block_io_latency_seconds',
    counter: 'bpftrace_bash_readline_total',
    gauge: 'bpftrace_read_min_bytes',
    key: 'uid',
  },
];

// One loop per kind of event the examples trace. Files live under /var/tmp: O_DIRECT I/O (which reaches the
// block layer) fails on tmpfs, and /tmp often is one.
const WORKLOAD = String.raw`
set -u
dir="$1"
# Opens (some failing), reads, writes, direct block I/O, and short sleeps that wake tasks up (run queue).
( while :; do
    cat /etc/hostname /etc/os-release > /dev/null
    cat "$dir/does-not-exist" 2> /dev/null
    head -c 200000 /dev/urandom > "$dir/written"
    dd if=/dev/zero of="$dir/direct" bs=64k count=8 oflag=direct,sync status=none
    dd if="$dir/direct" of=/dev/null bs=64k iflag=direct status=none
    sleep 0.05
  done ) &
# TCP retransmits, on loopback only: a listener that never accepts, with a backlog of 0, drops the SYNs of
# further clients once its accept queue is full, so the kernel retransmits them (after 1 s, then 3 s).
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
open("'"$dir"'/syn-port", "w").write(str(s.getsockname()[1])); time.sleep(3600)' &
while [ ! -s "$dir/syn-port" ]; do sleep 0.05; done
port=$(cat "$dir/syn-port")
( while :; do
    for i in 1 2 3 4; do timeout 4 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; sleep 5" > /dev/null 2>&1 & done
    wait
  done ) &
# Interactive bash on a pseudo-terminal (script), so readline() runs for each line.
( while :; do
    printf 'true\ntrue\nexit\n' | timeout 5 script -qfec 'bash --norc --noprofile -i' /dev/null > /dev/null 2>&1
    sleep 0.5
  done ) &
wait
`;
const WORKLOAD_TOOLS = ['bash', 'cat', 'head', 'dd', 'sleep', 'python3', 'timeout', 'script'];

/** What Grafana would send for this expr with these variable values. */
function substitute(expr: string, values: Record<string, string>): string {
  let out = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1m').replaceAll('$__interval', '1s');
  for (const [name, value] of Object.entries(values)) {
    out = out.replaceAll(`\${${name}}`, value).replaceAll(`$${name}`, value);
  }
  return out;
}

interface Agent {
  example: string;
  instance: string;
  child: ChildProcess;
  output: () => string;
  exited: () => string | undefined;
}

describe('deploy/grafana dashboards: every query returns data from a live ktrace run', () => {
  const agents: Agent[] = [];
  // One Prometheus per release (2.42 and 3.5), all scraping the same agents: 3.x writes `le` as floats and leaves
  // out the sample at a range's start, so a query that works on one may find nothing on the other.
  const servers = new Map<string, RunningPrometheus>();
  let workload: ChildProcess | undefined;
  let workDir: string | undefined;
  let dashboards = new Map<string, Dashboard>();

  function diagnostics(): string {
    return agents
      .map(
        (agent) => `--- ktrace run ${agent.example} (${agent.exited() ?? 'running'}):\n${agent.output().slice(-3000)}`,
      )
      .join('\n');
  }

  function agentFor(example: string): Agent {
    const agent = agents.find((candidate) => candidate.example === example);
    if (agent === undefined) throw new Error(`no ktrace run for ${example}`);
    return agent;
  }

  /** Runs every query; returns one line per query that returned no usable series within the time allowed. */
  async function emptyQueries(
    running: RunningPrometheus,
    file: string,
    values: Record<string, string>,
  ): Promise<string[]> {
    const dashboard = dashboards.get(file);
    if (dashboard === undefined) throw new Error(`${file} not found`);
    const problems: string[] = [];
    for (const panel of dashboard.panels.filter(isPanelWithQueries)) {
      for (const target of panel.targets ?? []) {
        const expr = substitute(target.expr, values);
        try {
          // At least one series with a number: NaN (a quantile over no events) draws nothing in Grafana.
          await running.waitFor(expr, (rows) => rows.some((row) => !Number.isNaN(row.value)), 45_000);
        } catch (error) {
          problems.push(`${file} "${panel.title}" ${target.refId}: ${expr}\n    ${(error as Error).message}`);
        }
      }
    }
    return problems;
  }

  beforeAll(async () => {
    dashboards = await loadDashboards();
    try {
      await access(CLI, constants.R_OK);
    } catch {
      throw new Error(
        `${CLI} is missing: build the CLI first (cd ${ROOT} && NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false ` +
          'npx nx run @ktrace/cli:build --outputStyle=static).',
      );
    }
    const missing: string[] = [];
    for (const tool of WORKLOAD_TOOLS) {
      const found = await new Promise<boolean>((resolve) => {
        const probe = spawn('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
        probe.on('exit', (code) => resolve(code === 0));
      });
      if (!found) missing.push(tool);
    }
    if (missing.length > 0) {
      throw new Error(
        `The workload that feeds the examples needs ${missing.join(', ')} (Debian: coreutils, util-linux, ` +
          'iproute2, bsdutils); install them.',
      );
    }

    workDir = await mkdtemp('/var/tmp/ktrace-deploy-');
    const runs = [...new Set(Object.values(EXAMPLE_OF))].map((example) => ({
      example,
      program: ['-f', join(ROOT, 'examples', example)],
    }));
    runs.push({ example: GAUGE_RUN, program: ['-e', GAUGE_PROGRAM] });
    for (const { example, program } of runs) {
      const port = await freePort();
      let output = '';
      let exit: string | undefined;
      const child = spawn(
        process.execPath,
        [CLI, 'run', ...program, '--interval', '1s', '--listen', `127.0.0.1:${port}`],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const collect = (chunk: Buffer): void => {
        output = (output + chunk.toString('utf8')).slice(-20_000);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.on('exit', (code, signal) => {
        exit = `exited with ${signal ?? `code ${String(code)}`}`;
      });
      agents.push({ example, instance: `127.0.0.1:${port}`, child, output: () => output, exited: () => exit });
    }
    workload = spawn('bash', ['-c', WORKLOAD, 'workload', workDir], { stdio: 'ignore', detached: true });

    for (const release of prometheusReleases()) {
      const server = await startPrometheus({
        targets: agents.map((agent) => agent.instance),
        scrapeInterval: '1s',
        ruleFiles: [RECORDING_RULES, ALERT_RULES],
        binary: release.prometheus,
      });
      servers.set(release.name, server);
      try {
        await server.waitFor('ktrace_up == 1', (rows) => rows.length === agents.length, 90_000);
      } catch (error) {
        throw new Error(
          `Not every ktrace run came up in Prometheus ${release.name} (ktrace_up == 1): ${(error as Error).message}\n${diagnostics()}`,
        );
      }
    }
  });

  afterAll(async () => {
    if (workload?.pid !== undefined) {
      try {
        process.kill(-workload.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await Promise.all(
      agents.map(
        (agent) =>
          new Promise<void>((resolve) => {
            if (agent.exited() !== undefined) {
              resolve();
              return;
            }
            const timer = setTimeout(() => agent.child.kill('SIGKILL'), 15_000);
            agent.child.on('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            agent.child.kill('SIGTERM');
          }),
      ),
    );
    for (const server of servers.values()) await server.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  for (const release of prometheusReleases()) {
    const running = (): RunningPrometheus => {
      const server = servers.get(release.name);
      if (server === undefined) throw new Error(`Prometheus ${release.name} is not running`);
      return server;
    };

    for (const [file, example] of Object.entries(EXAMPLE_OF)) {
      it(`Prometheus ${release.name}, ${file}: every query returns data for examples/${example}`, async () => {
        const { instance } = agentFor(example);
        const problems = await emptyQueries(running(), file, { job: 'ktrace', instance, datasource: 'prometheus' });
        expect(problems, `${problems.join('\n')}\n${diagnostics()}`).toEqual([]);
      });
    }

    it(`Prometheus ${release.name}, ${GENERIC}: every query returns data for each histogram/counter/gauge/key a user can pick`, async () => {
      const problems: string[] = [];
      for (const choice of GENERIC_CHOICES) {
        problems.push(
          ...(await emptyQueries(running(), GENERIC, {
            job: 'ktrace',
            instance: '.*',
            datasource: 'prometheus',
            ...choice,
          })),
        );
      }
      expect(problems, `${problems.join('\n')}\n${diagnostics()}`).toEqual([]);
    });

    it(`Prometheus ${release.name}: template variable queries offer the jobs, instances, histograms and counters that exist`, async () => {
      const server = running();
      const offered = new Map<string, Set<string>>();
      for (const dashboard of dashboards.values()) {
        for (const variable of dashboard.templating.list) {
          if (variable.type !== 'query' || variable.definition === undefined) continue;
          // label_values(SELECTOR, LABEL) as Grafana runs it: the LABEL values of the series SELECTOR matches.
          const match = /^label_values\((.*), (\w+)\)$/.exec(substitute(variable.definition, { job: 'ktrace' }));
          expect(match, `${dashboard.uid} $${variable.name}: ${variable.definition}`).not.toBeNull();
          const [, selector = '', label = ''] = match ?? [];
          const rows = await server.query(`group by (${label}) (${selector})`);
          let values = rows.map((row) => row.metric[label] ?? '');
          const regex = /^\/(.*)\/$/.exec(variable.regex ?? '');
          if (regex !== null) {
            const pattern = new RegExp(regex[1] ?? '');
            values = values.flatMap((value) => {
              const found = pattern.exec(value);
              return found === null ? [] : [found[1] ?? found[0]];
            });
          }
          offered.set(`${dashboard.uid}:${variable.name}`, new Set(values));
        }
      }
      for (const dashboard of dashboards.values()) {
        expect([...(offered.get(`${dashboard.uid}:job`) ?? [])], dashboard.uid).toEqual(['ktrace']);
        expect([...(offered.get(`${dashboard.uid}:instance`) ?? [])].sort(), dashboard.uid).toEqual(
          agents.map((agent) => agent.instance).sort(),
        );
      }
      const gauges = [...(offered.get('ktrace-maps:gauge') ?? [])];
      for (const choice of GENERIC_CHOICES) {
        expect([...(offered.get('ktrace-maps:histogram') ?? [])]).toContain(choice.histogram);
        expect([...(offered.get('ktrace-maps:counter') ?? [])]).toContain(choice.counter);
        expect(gauges).toContain(choice.gauge);
      }
      // Counters and histogram series are not offered as gauges.
      expect(gauges.filter((name) => /_(total|bucket|count)$/.test(name))).toEqual([]);
    });

    it(`Prometheus ${release.name}: every recording rule of deploy/prometheus records series`, async () => {
      const server = running();
      const rules = parse(await readFile(RECORDING_RULES, 'utf8')) as {
        groups: Array<{ rules: Array<{ record?: string }> }>;
      };
      const records = rules.groups.flatMap((group) =>
        group.rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record])),
      );
      expect(records.length).toBeGreaterThan(0);
      const empty: string[] = [];
      for (const record of records) {
        try {
          // The group evaluates every 30 s, so the first result can take that long.
          await server.waitFor(record, (rows) => rows.length >= 1, 75_000);
        } catch (error) {
          empty.push(`${record}: ${(error as Error).message}`);
        }
      }
      expect(empty, `${empty.join('\n')}\n${diagnostics()}`).toEqual([]);
    });

    it(`Prometheus ${release.name}: every rule of deploy/prometheus evaluates without error on the live series`, async () => {
      const server = running();
      interface RuleState {
        name: string;
        health: string;
        lastError?: string;
        lastEvaluation: string;
      }
      const fetchRules = async (): Promise<RuleState[]> => {
        const response = await fetch(`${server.url}/api/v1/rules`);
        const body = (await response.json()) as { data: { groups: Array<{ file: string; rules: RuleState[] }> } };
        return body.data.groups.flatMap((group) => group.rules);
      };
      // Wait until every rule has been evaluated at least once (groups evaluate every 30 s or at the global 1 s).
      const until = Date.now() + 75_000;
      let rules = await fetchRules();
      while (rules.some((rule) => rule.lastEvaluation.startsWith('0001-')) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        rules = await fetchRules();
      }
      expect(rules.length).toBeGreaterThan(10);
      const unhealthy = rules
        .filter((rule) => rule.health !== 'ok')
        .map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
      expect(unhealthy).toEqual([]);
    });
  }
});
