// The SDK example in packages/core/README.md runs as written (against the built @ktrace/core, as a user's script
// would), with only its listen port changed to a free one: it serves /metrics, prints samples, ends on its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/prometheus.js';
import { ROOT, requireBuiltCli } from './support/workload.js';

describe('packages/core/README.md', () => {
  it('its startTrace example runs, prints periodic samples and the final dump, and exits 0', async () => {
    requireBuiltCli();
    const readme = readFileSync(join(ROOT, 'packages', 'core', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'a ```ts block in the README').toBeDefined();
    const port = await freePort();
    expect(block).toContain("listen: '127.0.0.1:9464'");
    const script = (block ?? '').replace("'127.0.0.1:9464'", `'127.0.0.1:${port}'`);

    const dir = mkdtempSync(join(tmpdir(), 'ktrace-readme-'));
    try {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(join(dir, 'example.ts'), script);
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'example.ts'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
        child.on('close', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
      });
      expect(code, stderr).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^serving http://127\\.0\\.0\\.1:${port}/metrics, bpftrace \\d+\\.\\d+`));
      const periodic = lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+$/.test(l));
      expect(periodic.length).toBeGreaterThan(0);
      expect(lines.filter((l) => /^@syscalls: \d+ keys, busiest .+ = \d+ \(final dump\)$/.test(l))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(/^stopped \(stopped\) after \d+ samples and 0 restarts$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
