// Every command's --help ends with examples a user can copy: each names its command, and those that contact no
// cluster (--dry-run) run as written, from a shell, with `ktrace` on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli } from './support/ktrace-process.js';

const cli = requireBuiltCli();
const work = mkdtempSync(join(tmpdir(), 'ktrace-help-'));
const bin = join(work, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'ktrace'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} "$@"\n`);
chmodSync(join(bin, 'ktrace'), 0o755);
symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sh(line: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', line], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env['PATH'] ?? ''}`, HOME: work },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function examplesOf(command: string): string[] {
  const help = sh(`ktrace ${command} --help`);
  expect(help.status, help.stderr).toBe(0);
  const [, tail] = help.stdout.split('\nExamples:\n');
  expect(tail, `ktrace ${command} --help has no Examples section`).toBeDefined();
  return (tail ?? '')
    .split('\n')
    .filter((l) => l.startsWith('  $ '))
    .map((l) => l.slice(4));
}

const top = sh('ktrace --help');
const commands = [...top.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help');

describe('--help examples', () => {
  it('lists the commands', () => {
    expect(commands).toEqual(expect.arrayContaining(['run', 'parse', 'export', 'apply', 'get', 'install']));
  });

  it.each(commands)('ktrace %s --help shows examples of that command', (command) => {
    const examples = examplesOf(command);
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.some((line) => line.includes(`ktrace ${command}`))).toBe(true);
  });

  it('the examples that contact no cluster run as written', () => {
    const dryRuns = commands.flatMap((c) => examplesOf(c)).filter((line) => line.includes('--dry-run'));
    expect(dryRuns.length).toBeGreaterThanOrEqual(3);
    for (const line of dryRuns) {
      const run = sh(line);
      expect(run.status, `${line}\n${run.stderr}`).toBe(0);
    }
    // `ktrace install --dry-run -o yaml > ktrace-install.yaml` wrote the manifests a user would apply.
    expect(sh('head -n 2 ktrace-install.yaml').stdout).toContain('apiVersion: v1');
  });
});
