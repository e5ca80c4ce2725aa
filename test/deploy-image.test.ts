// deploy/image/Dockerfile, tested without a container engine: every file it copies exists after `npm run build`
// and none is kept out by its .dockerignore; nothing in it names an architecture; it carries the OCI labels; its
// exec-form entrypoint, mapped through its COPY lines onto this checkout, is a CLI that takes the arguments the
// DaemonSet gives it; and the bpftrace it installs from Debian trixie runs here (in the trixie root of
// scripts/versions.sh) and prints maps ktrace reads exactly.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { agentArgs, KTRACE_VERSION, resolveInstallOptions } from '@ktrace/core/kubernetes';
import { OutputParser } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCKERFILE = join(ROOT, 'deploy', 'image', 'Dockerfile');
const TRIXIE_BPFTRACE = '/var/cache/ktrace/bin/bpftrace-trixie';
const TRIXIE_ROOT = '/var/cache/ktrace/roots/trixie';

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions: comments dropped, continuation lines joined, each tagged with its stage. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  /** The destination as written (a trailing `/` makes it a directory), and resolved against WORKDIR. */
  rawDest: string;
  dest: string;
  stage: number;
  workdir: string;
}

function copies(list: readonly Instruction[]): Copy[] {
  const out: Copy[] = [];
  let workdir = '/';
  let stage = -1;
  for (const item of list) {
    if (item.stage !== stage) {
      stage = item.stage;
      workdir = '/';
    }
    if (item.keyword === 'WORKDIR') workdir = posix.resolve(workdir, item.args);
    if (item.keyword !== 'COPY') continue;
    const words = item.args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    out.push({
      from,
      sources: paths.slice(0, -1),
      rawDest: paths.at(-1) ?? '',
      dest: posix.resolve(workdir, paths.at(-1) ?? ''),
      stage,
      workdir,
    });
  }
  return out;
}

const dockerfile = readFileSync(DOCKERFILE, 'utf8');
const list = instructions(dockerfile);
const finalStage = Math.max(...list.map((i) => i.stage));

/** An image path, mapped back through the final stage's COPY lines onto this checkout (Docker's rules: a
 *  directory's contents land in the destination; a file lands in it when it ends with `/`, else becomes it). */
function repoPathOf(imagePath: string): string | undefined {
  for (const copy of copies(list).filter((c) => c.stage === finalStage && c.from === undefined)) {
    for (const source of copy.sources) {
      const local = join(ROOT, source);
      if (existsSync(local) && statSync(local).isDirectory()) {
        if (imagePath.startsWith(`${copy.dest}/`)) return join(local, imagePath.slice(copy.dest.length + 1));
        continue;
      }
      const target =
        copy.rawDest.endsWith('/') || copy.rawDest === '.' ? posix.join(copy.dest, posix.basename(source)) : copy.dest;
      if (imagePath === target) return local;
    }
  }
  return undefined;
}

function execForm(keyword: string): string[] {
  const item = list.filter((i) => i.stage === finalStage && i.keyword === keyword).at(-1);
  if (item === undefined) throw new Error(`no ${keyword}`);
  const parsed = JSON.parse(item.args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === 'string'))
    throw new Error(`${keyword} is not in exec form`);
  return parsed;
}

describe('deploy/image/Dockerfile', () => {
  it('copies only files that exist after npm run build, none of them excluded by its .dockerignore', () => {
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const local = copies(list).filter((c) => c.from === undefined);
    expect(local.length).toBeGreaterThan(10);
    for (const copy of local) {
      for (const source of copy.sources) {
        const path = join(ROOT, source);
        expect(existsSync(path), `${source} (run npm run build first)`).toBe(true);
        if (statSync(path).isDirectory())
          expect(existsSync(join(path, source.endsWith('dist') ? 'index.js' : 'ktrace.js')), source).toBe(true);
        for (const pattern of ignore) {
          const bare = pattern.replace(/^\*\*\//, '');
          expect(
            source === bare || source.startsWith(`${bare}/`) || source.split('/').includes(bare),
            `${source} is excluded by ${pattern}`,
          ).toBe(false);
        }
      }
    }
  });

  it('is Debian trixie with bpftrace and Node.js from Debian, naming no architecture', () => {
    expect(list.filter((i) => i.keyword === 'ARG' && i.stage === -1).map((i) => i.args)).toContain(
      'DEBIAN=debian:trixie-slim',
    );
    for (const from of list.filter((i) => i.keyword === 'FROM')) expect(from.args).toMatch(/^\$\{DEBIAN\}/);
    const installs = list.filter((i) => i.stage === finalStage && i.keyword === 'RUN').map((i) => i.args);
    expect(installs.some((r) => /apt-get install .*\bbpftrace\b.*\bnodejs\b/.test(r))).toBe(true);
    for (const item of list) {
      expect(`${item.keyword} ${item.args}`).not.toMatch(
        /amd64|x86_64|arm64|aarch64|armhf|i386|TARGETARCH|https?:\/\//,
      );
      expect(item.keyword).not.toBe('ADD');
    }
  });

  it('carries the OCI labels, with the version of this ktrace', () => {
    const labels = list
      .filter((i) => i.stage === finalStage && i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'licenses'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    expect(list.find((i) => i.stage === finalStage && i.keyword === 'ARG' && i.args.startsWith('VERSION='))?.args).toBe(
      `VERSION=${KTRACE_VERSION}`,
    );
    expect(
      (JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version,
    ).toBe(KTRACE_VERSION);
  });

  it('has an exec-form entrypoint running `ktrace agent`, which takes the arguments the DaemonSet gives it', async () => {
    const [node, script, ...entryArgs] = execForm('ENTRYPOINT');
    const cmd = execForm('CMD');
    expect(node).toBe('/usr/bin/node');
    expect([...entryArgs, ...cmd]).toEqual(['agent']);
    const cli = repoPathOf(script ?? '');
    expect(cli, `${script} is copied from this checkout`).toBe(join(ROOT, 'packages', 'cli', 'bin', 'ktrace.js'));
    const { stdout } = await run(process.execPath, [cli!, ...entryArgs, ...cmd, '--help']);
    expect(stdout).toMatch(/^Usage: ktrace agent/m);
    const daemonSetFlags = agentArgs(resolveInstallOptions({ clusterName: 'prod' })).filter((a) => a.startsWith('--'));
    expect(daemonSetFlags).toEqual(['--listen', '--cluster-name']);
    for (const flag of daemonSetFlags) expect(stdout, flag).toContain(flag);
  });

  it('installs a bpftrace that runs on this kernel and prints maps ktrace reads exactly (the trixie root)', async () => {
    expect(existsSync(join(TRIXIE_ROOT, '.ktrace-complete')), 'scripts/versions.sh builds the trixie root').toBe(true);
    const { stdout: version } = await run(TRIXIE_BPFTRACE, ['--version']);
    const [, major, minor] = /v(\d+)\.(\d+)/.exec(version) ?? [];
    expect(Number(major) * 100 + Number(minor), version).toBeGreaterThanOrEqual(23);
    const program =
      'BEGIN { @calls["open"] = count(); @calls["open"] = count(); @calls["read"] = count(); @size = hist(5); @size = hist(100); exit(); }\n' +
      'tracepoint:sched:sched_process_exit { @exits = count(); }';
    const { stdout } = await run(TRIXIE_BPFTRACE, ['-f', 'json', '-e', program], { timeout: 60_000 });
    const events: ParseEvent[] = [];
    const parser = new OutputParser({ format: 'json', onEvent: (event) => events.push(event) });
    parser.write(Buffer.from(stdout));
    parser.end();
    expect(events.find((e) => e.type === 'attached')).toEqual({ type: 'attached', probes: 2 });
    const calls = events.find((e) => e.type === 'map' && e.name === '@calls');
    expect(calls?.type === 'map' ? calls.entries.map((e) => [e.key, e.value]).sort() : undefined).toEqual([
      [['open'], 2],
      [['read'], 1],
    ]);
    const size = events.find((e) => e.type === 'map' && e.name === '@size');
    expect(
      size?.type === 'map'
        ? size.entries[0]?.buckets?.filter((b) => b.count > 0).map((b) => [b.min, b.max, b.count])
        : undefined,
    ).toEqual([
      [4, 7, 1],
      [64, 127, 1],
    ]);
  });

  it('gets a Node.js from trixie that satisfies the engines of the packages it ships', async () => {
    const { stdout } = await run('chroot', [TRIXIE_ROOT, 'apt-cache', 'policy', 'nodejs']);
    const candidate = /Candidate:\s*(\d+)\.(\d+)\.(\d+)/.exec(stdout);
    expect(candidate, stdout).not.toBeNull();
    const [major, minor] = [Number(candidate![1]), Number(candidate![2])];
    for (const pkg of ['parser', 'exporter', 'core', 'cli']) {
      const engines = (
        JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { engines: { node: string } }
      ).engines.node;
      expect(engines, pkg).toBe('>=20.19 <21 || >=22.12');
    }
    expect((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22, stdout).toBe(true);
  });
});
