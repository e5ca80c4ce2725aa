// The examples in the READMEs run as written, against the built packages as a user's script would (the core one as
// a plain .mjs on Node 20, with only its listen port changed to a free one), and print what the READMEs say they
// print; the root README's "What you get" commands print what a real `ktrace run` serves.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { ROOT, eventually, requireBuiltCli, startKtrace } from './support/ktrace-process.js';

/** The first ```ts block of a package README. */
function readmeExample(pkg: string): string {
  const readme = readFileSync(join(ROOT, 'packages', pkg, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, `a \`\`\`ts block in packages/${pkg}/README.md`).toBeDefined();
  return block ?? '';
}

/** The test runner may set FORCE_COLOR; a user's piped script would print plain text. */
function withoutForcedColor(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['FORCE_COLOR'];
  return env;
}

/** Runs a script as a user would: a folder of its own that sees this repository's node_modules; .ts through tsx. */
async function runScript(
  script: string,
  file = 'example.ts',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-readme-'));
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, file), script);
    return await new Promise((resolve) => {
      const child = spawn(process.execPath, file.endsWith('.ts') ? ['--import', 'tsx', file] : [file], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: withoutForcedColor(),
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('packages/core/README.md', () => {
  it('its startTrace example runs as trace.mjs on Node 20: periodic samples, the final dump, then the final exposition', async () => {
    requireBuiltCli();
    const block = readmeExample('core');
    const port = await freePort();
    expect(block).toContain("listen: '127.0.0.1:9464'");
    const script = block.replace("'127.0.0.1:9464'", `'127.0.0.1:${port}'`);
    const { code, stdout, stderr } = await runScript(script, 'trace.mjs');
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^serving http://127\\.0\\.0\\.1:${port}/metrics, bpftrace \\d+\\.\\d+`));
    const periodic = lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+$/.test(l));
    expect(periodic.length).toBeGreaterThan(0);
    const finals = lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+ \(final dump\)$/.test(l));
    expect(finals).toHaveLength(1);
    expect(lines.at(-2)).toMatch(/^stopped \(stopped\) after \d+ samples and 0 restarts$/);
    // After the trace, prometheusText() serves the final state: one series per key of the final dump.
    const keys = /^@syscalls: (\d+) keys/.exec(finals[0] ?? '')?.[1];
    expect(lines.at(-1)).toMatch(
      new RegExp(`^final exposition: ${keys} series, e\\.g\\. bpftrace_syscalls_total\\{comm=".+"\\} \\d+$`),
    );
  });
});

describe('packages/parser/README.md', () => {
  it('its example parses a live bpftrace run: periodic prints of @syscalls and the final dump', async () => {
    requireBuiltCli();
    const { code, stdout, stderr } = await runScript(readmeExample('parser'));
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    // Three interval prints (a fourth may land before SIGINT does), then the exit-time dump after SIGINT.
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeLessThanOrEqual(5);
    for (const line of lines) expect(line).toMatch(/^@syscalls count \d+ keys$/);
  });
});

describe('packages/exporter/README.md', () => {
  it('its example serves the exact series its comments name', async () => {
    requireBuiltCli();
    const { code, stdout, stderr } = await runScript(readmeExample('exporter'));
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+ /);
    expect(stdout).toContain('\nbpftrace_calls_total{key0="read"} 2\n');
    expect(stdout).toContain('\nbpftrace_lat_bucket{le="63"} 1\n');
    expect(stdout).toContain('\nbpftrace_lat_count 1\n');
    expect(stdout).not.toContain('bpftrace_lat_sum');
  });
});

/** The `$ command` lines of the first ```sh block under `heading` in the root README, each with the lines it shows. */
function shownCommands(heading: string): Array<{ command: string; shown: string[] }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(`\n${heading}\n`)))?.[1] ?? '';
  const commands: Array<{ command: string; shown: string[] }> = [];
  for (const line of block.trimEnd().split('\n')) {
    if (line.startsWith('$ ')) commands.push({ command: line.slice(2), shown: [] });
    else commands.at(-1)?.shown.push(line);
  }
  return commands;
}

/** A sample line without its values: the metric name and the label names, what any run prints alike. */
const shape = (line: string): string => line.replace(/="(?:[^"\\]|\\.)*"/g, '=""').replace(/ \S+$/, '');

describe('README.md', () => {
  it("'What you get': each command prints lines of the names and labels shown, from a real ktrace run", async () => {
    requireBuiltCli();
    const commands = shownCommands('## What you get');
    expect(commands.length).toBeGreaterThan(0);
    const port = await freePort();
    const ktrace = startKtrace(['run', '--listen', `127.0.0.1:${port}`]);
    try {
      for (const { command, shown } of commands) {
        expect(command).toContain('127.0.0.1:9464/metrics');
        expect(shown.length, command).toBeGreaterThan(0);
        let got: string[] = [];
        await eventually(
          async () => {
            const { stdout } = await promisify(execFile)('bash', ['-c', command.replace(':9464', `:${port}`)]).catch(
              () => ({ stdout: '' }),
            );
            got = stdout.trimEnd().split('\n');
            return got.map(shape).join('\n') === shown.map(shape).join('\n') ? true : undefined;
          },
          `${command} to print lines like the README's`,
          60_000,
          () => `it printed:\n${got.join('\n')}\n${ktrace.output().slice(-2000)}`,
        );
      }
    } finally {
      await ktrace.stop('SIGINT');
    }
  });
});
