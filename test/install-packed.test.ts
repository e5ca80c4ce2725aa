// `npm run pack` makes tarballs of the four packages that install together into an empty prefix, locally and
// globally, and run from there: the installed `ktrace` traces with the real bpftrace, and a plain .mjs script
// uses @ktrace/core from the install. Third-party dependencies come from a loopback registry (support/npm-registry).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ktraceVersion } from '@ktrace/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLockfileRegistry } from './support/npm-registry.js';
import type { LockfileRegistry } from './support/npm-registry.js';
import { ROOT, eventually, requireBuiltCli } from './support/ktrace-process.js';
import { namedBinary, readsFromStdin, uniqueName } from './support/workload.js';

const PACKAGES = ['parser', 'exporter', 'core', 'cli'] as const;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; `onStderr` sees stderr as it comes. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (all: string) => void } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a user's shell: none of the npm_* variables that `npm test` passes down. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  delete env['FORCE_COLOR'];
  return { ...env, ...extra };
}

let work = '';
let registry: LockfileRegistry | undefined;
let tarballs: string[] = [];

async function npmInstall(args: string[]): Promise<void> {
  const env = userEnv({ npm_config_registry: registry?.url, npm_config_update_notifier: 'false' });
  const { code, stderr } = await run('npm', ['install', '--no-audit', '--no-fund', ...args, ...tarballs], { env });
  expect(code, `npm install ${args.join(' ')}: ${stderr}`).toBe(0);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ktrace-packed-'));
  const packed = await run('npm', ['run', '--silent', 'pack', '--', join(work, 'packs')]);
  expect(packed.code, packed.stderr).toBe(0);
  tarballs = packed.stdout.trim().split('\n');
  registry = await startLockfileRegistry(join(ROOT, 'package-lock.json'));
});

afterAll(async () => {
  await registry?.close();
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('npm run pack', () => {
  it('packs each package with its built code, README and package.json, pinned to the others at their version', async () => {
    expect(tarballs.map((t) => relative(work, t))).toEqual(
      PACKAGES.map((p) => join('packs', `ktrace-${p}-${ktraceVersion}.tgz`)),
    );
    for (const [i, name] of PACKAGES.entries()) {
      const dir = join(work, 'unpacked', name);
      mkdirSync(dir, { recursive: true });
      expect((await run('tar', ['xzf', tarballs[i] ?? '', '-C', dir])).code).toBe(0);
      const root = join(dir, 'package');
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        version: string;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      expect(manifest.version).toBe(ktraceVersion);
      const files = filesUnder(root).map((f) => relative(root, f));
      expect(files).toContain('README.md');
      expect(files).toContain('dist/index.js');
      expect(
        files.filter((f) => !/^(package\.json|README\.md|dist\/.+\.(js|d\.ts)(\.map)?|bin\/ktrace\.js)$/.test(f)),
      ).toEqual([]);
      expect(files.filter((f) => f.includes('.test.'))).toEqual([]);
      const declared: Record<string, string> = { ...manifest.dependencies, ...manifest.peerDependencies };
      for (const [dependency, range] of Object.entries(declared)) {
        if (dependency.startsWith('@ktrace/')) expect(range, `${name} → ${dependency}`).toBe(ktraceVersion);
      }
      // Every package the code imports is one it declares: hoisting in the repository would hide a missing one.
      const imported = new Set<string>();
      for (const file of files.filter((f) => f.endsWith('.js'))) {
        const code = readFileSync(join(root, file), 'utf8');
        for (const [, specifier = ''] of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'".][^'"]*)['"]/g)) {
          if (!specifier.startsWith('node:'))
            imported.add(
              specifier
                .split('/')
                .slice(0, specifier.startsWith('@') ? 2 : 1)
                .join('/'),
            );
        }
      }
      expect(
        [...imported].filter((p) => declared[p] === undefined),
        `undeclared imports of @ktrace/${name}`,
      ).toEqual([]);
    }
  });
});

describe('the packed packages installed into an empty directory (npm install --prefix DIR)', () => {
  it('give a ktrace that says its version, and a plain .mjs script runs a trace through @ktrace/core', async () => {
    requireBuiltCli();
    const prefix = join(work, 'local');
    mkdirSync(prefix);
    await npmInstall(['--prefix', prefix]);
    const version = await run(join(prefix, 'node_modules', '.bin', 'ktrace'), ['--version'], { cwd: prefix });
    expect(version.stdout).toBe(`${ktraceVersion}\n`);

    writeFileSync(
      join(prefix, 'trace.mjs'),
      `import { KtraceError, startTrace } from '@ktrace/core';

try {
  await startTrace({ spec: { program: 'interval:ms:100 { @ticks = count(); }', interval: 'often' } });
} catch (error) {
  console.log(\`rejected: \${error instanceof KtraceError} \${error.code}\`);
}
const trace = await startTrace({ spec: { program: 'interval:ms:100 { @ticks = count(); }' }, durationMillis: 1500 });
let last;
for await (const sample of trace.samples()) last = sample;
console.log(\`\${(await trace.done).reason}: \${last.name} \${last.entries[0].value}\${last.final ? ' final' : ''}\`);
console.log(await trace.exporter.prometheusText());
`,
    );
    const script = await run(process.execPath, ['trace.mjs'], { cwd: prefix, env: userEnv() });
    expect(script.code, script.stderr).toBe(0);
    const [rejected, stopped, ...exposition] = script.stdout.split('\n');
    expect(rejected).toBe('rejected: true KTRACE_BAD_SPEC');
    const ticks = /^stopped: @ticks (\d+) final$/.exec(stopped ?? '')?.[1];
    expect(ticks, script.stdout).toBeDefined();
    // After the trace, the exporter still answers: its final state, the final dump's value included.
    expect(exposition).toContain(`bpftrace_ticks_total ${ticks}`);
    expect(exposition).toContain('ktrace_up 0');
  });
});

describe('the packed packages installed globally (npm install -g --prefix DIR)', () => {
  it('put ktrace on PATH, and ktrace run --duration counts exactly with the real bpftrace and exits 0', async () => {
    requireBuiltCli();
    const prefix = join(work, 'global');
    mkdirSync(prefix);
    await npmInstall(['--global', '--prefix', prefix]);
    const env = userEnv({ PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` });
    const elsewhere = mkdtempSync(join(work, 'cwd-'));
    expect((await run('ktrace', ['--version'], { cwd: elsewhere, env })).stdout).toBe(`${ktraceVersion}\n`);

    const name = uniqueName('ktg');
    const ping = uniqueName('ktq');
    const dd = namedBinary('/bin/dd', name);
    const pingBinary = namedBinary('/bin/dd', ping);
    const program = [
      `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${name}"/ { @reads[comm] = count(); }`,
      `tracepoint:syscalls:sys_enter_read /args->fd == 0 && comm == "${ping}"/ { printf("ktrace-ping\\n"); }`,
    ].join('\n');
    let stderr = '';
    const ktrace = run('ktrace', ['run', '-e', program, '--duration', '20s', '--no-listen', '--output', 'json'], {
      cwd: elsewhere,
      env,
      onStderr: (all) => (stderr = all),
    });
    // Attached once a ping read is logged; then the workload's reads are all counted.
    await eventually(
      async () => {
        await readsFromStdin(pingBinary, 1);
        return stderr.includes('"msg":"ktrace-ping"') ? true : undefined;
      },
      'bpftrace to attach (a ping read logged by ktrace)',
      18_000,
      () => stderr.slice(-3000),
    );
    await readsFromStdin(dd, 1234);
    const { code, stdout } = await ktrace;
    expect(code, stderr.slice(-3000)).toBe(0);
    const samples = stdout
      .trim()
      .split('\n')
      .map((l): unknown => JSON.parse(l));
    expect(samples.at(-1)).toEqual({
      type: 'map',
      name: '@reads',
      kind: 'count',
      entries: [{ key: [name], value: 1234 }],
      final: true,
    });
  });
});
