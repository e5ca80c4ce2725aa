// The one list of which bpftrace and which Prometheus/promtool binaries the live tests run: every release users
// run (bpftrace 0.17 from Debian 12, 0.23.2 from Debian 13, 0.27.1 from sid; Prometheus 2.42 and 3.5), as installed
// by scripts/versions.sh. Outside CI a missing one is left out (and named once); with CI=true it is a failure.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CACHE_BIN = process.env['KTRACE_VERSIONS_BIN'] ?? '/var/cache/ktrace/bin';

export interface BpftraceRelease {
  /** `0.17`, `0.23`, `0.27`: the name tests print. */
  name: string;
  /** What `--version` must say (`0.23.2`): a binary that says otherwise is not this release. */
  version: string;
  /** The binary or the scripts/versions.sh chroot wrapper. */
  path: string;
}

export interface PrometheusRelease {
  name: string;
  version: string;
  prometheus: string;
  promtool: string;
}

const bpftraceCandidates: BpftraceRelease[] = [
  { name: '0.17', version: '0.17.0', path: process.env['KTRACE_BPFTRACE'] ?? '/usr/bin/bpftrace' },
  { name: '0.23', version: '0.23.2', path: `${CACHE_BIN}/bpftrace-trixie` },
  { name: '0.27', version: '0.27.1', path: `${CACHE_BIN}/bpftrace-sid` },
];

const prometheusCandidates: PrometheusRelease[] = [
  {
    name: '2.42',
    version: '2.42.0',
    prometheus: process.env['KTRACE_PROMETHEUS'] ?? '/usr/bin/prometheus',
    promtool: process.env['KTRACE_PROMTOOL'] ?? '/usr/bin/promtool',
  },
  { name: '3.5', version: '3.5.3', prometheus: `${CACHE_BIN}/prometheus-3`, promtool: `${CACHE_BIN}/promtool-3` },
];

const required = process.env['CI'] === 'true';
const install = 'install them with `bash scripts/versions.sh` (root; `npm test` does it through scripts/setup.sh test)';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The release's version if `path --version` names it, else why not. */
function answers(path: string, pattern: RegExp, version: string): string | undefined {
  if (!executable(path)) return `${path} is missing`;
  const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const said = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  const found = pattern.exec(said)?.[1];
  return found === version
    ? undefined
    : `${path} --version says ${JSON.stringify(said.split('\n')[0] ?? '')}, not ${version}`;
}

function select<T extends { name: string }>(what: string, candidates: T[], problem: (c: T) => string | undefined): T[] {
  const found: T[] = [];
  const missing: string[] = [];
  for (const candidate of candidates) {
    const why = problem(candidate);
    if (why === undefined) found.push(candidate);
    else missing.push(`${what} ${candidate.name} (${why})`);
  }
  if (missing.length > 0) {
    const message = `${missing.join('; ')}: ${install}`;
    if (required) throw new Error(`CI runs every ${what} release and these are missing: ${message}`);
    process.stderr.write(`ktrace tests: not run on ${message}\n`);
  }
  if (found.length === 0) throw new Error(`no ${what} to test with: ${install}`);
  return found;
}

let bpftraceCache: BpftraceRelease[] | undefined;
let prometheusCache: PrometheusRelease[] | undefined;

/** Every installed bpftrace release (all three in CI), oldest first: the matrix of the live bpftrace tests. */
export function bpftraceReleases(): BpftraceRelease[] {
  bpftraceCache ??= select('bpftrace', bpftraceCandidates, (c) =>
    answers(c.path, /^bpftrace v?(\d+\.\d+\.\d+)/m, c.version),
  );
  return bpftraceCache;
}

/** Every installed Prometheus release with its promtool (both in CI), oldest first: the matrix of the scrape tests. */
export function prometheusReleases(): PrometheusRelease[] {
  prometheusCache ??= select('Prometheus', prometheusCandidates, (c) => {
    return (
      answers(c.prometheus, /^prometheus, version (\d+\.\d+\.\d+)/m, c.version) ??
      answers(c.promtool, /^promtool, version (\d+\.\d+\.\d+)/m, c.version)
    );
  });
  return prometheusCache;
}

/** The system bpftrace (Debian 12's 0.17): for tests about ktrace itself, where the version changes nothing. */
export function defaultBpftrace(): BpftraceRelease {
  const [first] = bpftraceReleases();
  if (first === undefined) throw new Error(`no bpftrace to test with: ${install}`);
  return first;
}

/** The newest installed bpftrace: tests that need one release but should not age with Debian 12. */
export function newestBpftrace(): BpftraceRelease {
  const list = bpftraceReleases();
  const last = list[list.length - 1];
  if (last === undefined) throw new Error(`no bpftrace to test with: ${install}`);
  return last;
}
