// Bad inputs to `ktrace run` (the built CLI, the real bpftrace): each fails fast with a message naming what is
// wrong and what to do, and the exit code a script can rely on (2: the input is wrong, 1: the environment).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli, sampleValue, startKtrace, startRun } from './support/ktrace-process.js';
import type { KtraceProcess, LogLine } from './support/ktrace-process.js';
import { alive, descendants } from './support/proc-tree.js';

async function runToExit(
  args: string[],
  options: Parameters<typeof startKtrace>[1] = {},
): Promise<{ code: number | null; output: string; logs: Array<Record<string, unknown>> }> {
  requireBuiltCli();
  const ktrace = startKtrace(['run', '--listen', '127.0.0.1:0', ...args], options);
  const { code } = await ktrace.exited;
  return { code, output: ktrace.output(), logs: ktrace.logs() };
}

/** The first warning log line of a running ktrace that starts with `prefix`. */
function warningFrom(ktrace: KtraceProcess, prefix: string, timeoutMs: number): Promise<LogLine> {
  return ktrace.waitForLog((l) => l['level'] === 'warn' && String(l['msg']).startsWith(prefix), timeoutMs);
}

function lastLine(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.startsWith('ktrace: '))
    .join('\n');
}

describe('ktrace run rejects bad input clearly', () => {
  it('a syntax error: bpftrace’s own message with the line and column, exit 2', async () => {
    const result = await runToExit(['-e', 'tracepoint:raw_syscalls:sys_enter\n{ @calls[comm] = count() }\n}']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toMatch(
      /^ktrace: bpftrace rejected the program at line 3, column 1: syntax error, unexpected }, expecting {/,
    );
  });

  it('a syntax error in a file names the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-bad-'));
    const file = join(dir, 'broken.bt');
    writeFileSync(file, 'profile:hz:99\n{\n  @samples[comm] = count(;\n}\n');
    const result = await runToExit(['-f', file]);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toContain(`ktrace: bpftrace rejected the ${file} at line 3, column`);
  });

  it('a probe that does not exist here (a kprobe) fails fast, not in a restart loop', async () => {
    const result = await runToExit(['-e', 'kprobe:do_sys_openat2 { @opens[comm] = count(); }']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toContain(
      "ktrace: bpftrace could not attach the program's probes: Error attaching probe: 'kprobe:do_sys_openat2'",
    );
    expect(result.output).toContain('kprobes are not available on this kernel');
    expect(result.logs.filter((l) => l['msg'] === 'bpftrace started')).toHaveLength(1);
    expect(result.logs.some((l) => l['msg'] === 'restarting bpftrace')).toBe(false);
  });

  it('a tracepoint that does not exist: bpftrace’s error with its position', async () => {
    const result = await runToExit(['-e', 'BEGIN { }\ntracepoint:nosuch:event { @n = count(); }']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toBe(
      'ktrace: bpftrace rejected the program at line 2, column 1: tracepoint not found: nosuch:event',
    );
  });

  it('#included headers clang cannot compile (as runqlat.bt on Debian): the first error and the BTF way out, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-headers-'));
    writeFileSync(join(dir, 'task.h'), 'struct task_info { __aligned_u64 start; };\n');
    const file = join(dir, 'switches.bt');
    writeFileSync(
      file,
      `#include "${join(dir, 'task.h')}"\ntracepoint:sched:sched_switch { @switches[comm] = count(); }\n`,
    );
    const result = await runToExit(['-f', file]);
    expect(result.code).toBe(2);
    const message = lastLine(result.output);
    expect(message).toContain(
      `ktrace: bpftrace could not compile the kernel headers the ${file} #includes (${join(dir, 'task.h')}:1:20: error: unknown type name '__aligned_u64'): `,
    );
    expect(message).toContain(
      existsSync('/sys/kernel/btf/vmlinux') ? 'drop the #include lines' : 'install the headers of the running kernel',
    );
    expect(result.logs.some((l) => l['msg'] === 'restarting bpftrace')).toBe(false);
  });

  it('no bpftrace installed (not on PATH): exit 1 and how to install it', async () => {
    const result = await runToExit([], { env: { ...process.env, PATH: '/nonexistent/bin' } });
    expect(result.code).toBe(1);
    expect(lastLine(result.output)).toBe(
      'ktrace: bpftrace not found in PATH (/nonexistent/bin); install it (Debian/Ubuntu: apt-get install bpftrace) or point to it with --bpftrace PATH',
    );
  });

  it('not root (uid 65534): exit 1 and what to do', async () => {
    const result = await runToExit([], { uid: 65534, gid: 65534 });
    expect(result.code).toBe(1);
    expect(lastLine(result.output)).toMatch(
      /^ktrace: ktrace runs as uid 65534 without CAP_BPF\+CAP_PERFMON, .*run ktrace as root \(sudo ktrace …\)/,
    );
  });

  it('a program with no map to export: exit 2 and how to aggregate', async () => {
    const result = await runToExit(['-e', 'tracepoint:raw_syscalls:sys_enter { printf("%d\\n", tid); }']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toBe(
      'ktrace: the program has no maps, so there is nothing to export: aggregate into a map, e.g. @calls[comm] = count(); or @latency_us = hist($d);',
    );
  });

  it('a program that prints nothing (its probe never fires): keeps running, says so, exports no series', async () => {
    requireBuiltCli();
    const ktrace = await startRun('tracepoint:syscalls:sys_enter_reboot { @reboots[comm] = count(); }', {
      interval: '1s',
      listen: true,
    });
    try {
      const warning = await warningFrom(ktrace, 'bpftrace has printed no map for', 60_000);
      expect(String(warning['msg'])).toContain(
        'the exported maps (@reboots) are still empty, so their probes have not fired',
      );
      const text = await ktrace.metrics();
      expect(sampleValue(text, 'ktrace_up')).toBe(1);
      expect(text).not.toMatch(/^bpftrace_reboots/m);
    } finally {
      expect((await ktrace.stop()).code).toBe(0);
    }
  });

  it('a program that clear()s an exported map: exported as deltas, with a warning that print-then-clear loses updates', async () => {
    requireBuiltCli();
    const ktrace = await startRun(
      'interval:ms:100 { @ticks = count(); } interval:s:1 { print(@ticks); clear(@ticks); }',
      { interval: '1s', listen: true },
    );
    try {
      const warning = await warningFrom(ktrace, 'the program clears', 30_000);
      expect(String(warning['msg'])).toContain('the program clears @ticks: exported as deltas');
      // Deltas are added up: after a few prints the counter is well past what one 1 s window holds (10).
      await ktrace.waitForSample({ name: 'bpftrace_ticks_total' }, (v) => v > 15, 'accumulated deltas');
    } finally {
      expect((await ktrace.stop()).code).toBe(0);
    }
  });

  it('a program that prints a map every second and clears it apart every 3 s: totals with resets, not deltas, and a warning', async () => {
    requireBuiltCli();
    // @ticks and @all count the same events; the program clears only @ticks, in a probe that does not print it.
    const program =
      'interval:ms:100 { @ticks = count(); @all = count(); } interval:s:1 { print(@ticks); } interval:s:3 { clear(@ticks); }';
    const ktrace = await startRun(program, { interval: '1s', listen: true });
    try {
      const warning = await warningFrom(ktrace, 'the program clears', 30_000);
      expect(String(warning['msg'])).toContain(
        'the program clears @ticks apart from printing it: exported as totals that restart at each clear()',
      );
      // After three clears: taken as deltas, @ticks would add up totals since each clear (about twice @all).
      await ktrace.waitForSample({ name: 'bpftrace_all_total' }, (v) => v >= 100, '@all to reach 100');
      const text = await ktrace.metrics();
      const all = sampleValue(text, 'bpftrace_all_total') ?? 0;
      const ticks = sampleValue(text, 'bpftrace_ticks_total') ?? 0;
      // Up to one print apart (the two maps are printed by different probes), and only the updates between a print
      // and the next clear() are lost.
      expect(ticks).toBeLessThanOrEqual(all + 10);
      expect(ticks).toBeGreaterThan(all / 2);
    } finally {
      expect((await ktrace.stop()).code).toBe(0);
    }
  });

  it('a program that floods its output (printf on every syscall): stopped with a clear message, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-flood-'));
    const spec = join(dir, 'flood.yaml');
    writeFileSync(
      spec,
      [
        'program: |',
        '  tracepoint:raw_syscalls:sys_enter { printf("%s %d flooding the output with one line per syscall\\n", comm, tid); @calls = count(); }',
        'limits:',
        '  maxOutputBytesPerSecond: 20000',
        '',
      ].join('\n'),
    );
    const result = await runToExit(['--spec', spec]);
    expect(result.code).toBe(1);
    expect(lastLine(result.output)).toMatch(
      /^ktrace: bpftrace floods its output: [\d.]+ [KM]iB\/s over the last \d s, above limits.maxOutputBytesPerSecond \(19\.5 KiB\/s\); stopped it\. Aggregate in a map/,
    );
  });

  it('a bpftrace that does not exit after SIGINT: killed with what it started after --stop-timeout, exit 1 and why the final dump is lost', async () => {
    requireBuiltCli();
    // The real bpftrace, run by a shell that does not pass SIGINT on (as if its END or its detach hung); the program
    // comes on stdin, which a background job of sh gets only when given explicitly.
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-deaf-'));
    const wrapper = join(dir, 'bpftrace-deaf');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        'case " $* " in *" --emit-elf "*|*" --version "*) exec bpftrace "$@";; esac',
        "trap '' INT",
        'exec 3<&0',
        'bpftrace "$@" <&3 &',
        'wait',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const map = `@deaf_${process.pid}`;
    const ktrace = await startRun(`profile:hz:99 { ${map} = count(); }`, {
      bpftrace: wrapper,
      interval: '1s',
      listen: true,
      args: ['--stop-timeout', '2s'],
    });
    await ktrace.waitForSample({ name: `bpftrace_${map.slice(1)}_total` }, () => true, 'a first periodic dump', 60_000);
    // The wrapper's bpftrace is a grandchild of ktrace (the program is on its stdin, not in its command line).
    const started = descendants(ktrace.child.pid ?? 0);
    expect(started).toHaveLength(1);
    expect((await ktrace.stop()).code).toBe(1);
    expect(lastLine(ktrace.output())).toMatch(
      /^ktrace: bpftrace did not exit within 2 s of SIGINT, so ktrace killed it: its final dump is lost/,
    );
    // Nothing of the run is left behind: the wrapper's bpftrace went with its process group.
    expect(started.filter(alive)).toEqual([]);
  });

  it('a bad spec field: the path of the field and what is expected, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktrace-spec-'));
    const spec = join(dir, 'trace.yaml');
    writeFileSync(
      spec,
      'program: "profile:hz:99 { @s = count(); }"\ninterval: fast\nbpftrace:\n  flags: ["-c", "/bin/sh"]\n',
    );
    const result = await runToExit(['--spec', spec]);
    expect(result.code).toBe(2);
    expect(result.output).toContain(`ktrace: ${spec}: invalid trace spec:`);
    expect(result.output).toContain('spec.interval: expected a duration such as 500ms, 1s, 10m or 1h');
    expect(result.output).toContain('spec.bpftrace.flags[0]: Invalid option: expected one of "-k"|"-kk"');
  });

  it('an interval below 1ms: names --interval, not a probe of the program, exit 2', async () => {
    const result = await runToExit(['-e', 'profile:hz:99 { @samples = count(); }', '--interval', '0.4ms']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toBe(
      'ktrace: --interval: expected a duration such as 500ms, 1s, 10m or 1h, got "0.4ms" (shorter than 1ms, the smallest interval bpftrace can run)',
    );
  });

  it('a -f file that does not exist: names the option and the path it tried (relative to the working directory), exit 2', async () => {
    const result = await runToExit(['-f', 'no-such-program.bt']);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toBe(
      `ktrace: -f no-such-program.bt: cannot read ${join(ROOT, 'no-such-program.bt')} (ENOENT)`,
    );
  });

  it('an --otlp-endpoint without http:// (localhost:4318): exit 2 and the URL to use, not a run that pushes nothing', async () => {
    const result = await runToExit([
      '-e',
      'profile:hz:99 { @samples = count(); }',
      '--otlp-endpoint',
      'localhost:4318',
      '--duration',
      '2s',
    ]);
    expect(result.code).toBe(2);
    expect(lastLine(result.output)).toBe(
      'ktrace: --otlp-endpoint "localhost:4318" is not an http(s) URL; use e.g. http://127.0.0.1:4318',
    );
  });
});
