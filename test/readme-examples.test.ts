// The examples in the package READMEs run as written, against the built packages as a user's script would
// (the core one with only its listen port changed to a free one), and print what the READMEs say they print.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { ROOT, requireBuiltCli } from './support/workload.js';

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

/** Runs a script as a user would: a folder of its own that sees this repository's node_modules. */
async function runScript(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ktrace-readme-'));
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'example.ts'), script);
    return await new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'example.ts'], {
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
  it('its startTrace example runs, prints periodic samples and the final dump, and exits 0', async () => {
    requireBuiltCli();
    const block = readmeExample('core');
    const port = await freePort();
    expect(block).toContain("listen: '127.0.0.1:9464'");
    const { code, stdout, stderr } = await runScript(block.replace("'127.0.0.1:9464'", `'127.0.0.1:${port}'`));
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^serving http://127\\.0\\.0\\.1:${port}/metrics, bpftrace \\d+\\.\\d+`));
    const periodic = lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+$/.test(l));
    expect(periodic.length).toBeGreaterThan(0);
    expect(lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+ \(final dump\)$/.test(l))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^stopped \(stopped\) after \d+ samples and 0 restarts$/);
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
