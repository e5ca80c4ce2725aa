// Base units from the command line: `ktrace export` of a stored real bpftrace 0.17 capture (a hist() of
// microseconds, packages/exporter/testdata) serves it in seconds, and `--no-base-units` serves it as printed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli } from './support/ktrace-process.js';

const cli = requireBuiltCli();
const testdata = join(ROOT, 'packages', 'exporter', 'testdata');
const exportArgs = [
  'export',
  '--program',
  join(testdata, '27-real-syscall-latency-json.prog'),
  join(testdata, '27-real-syscall-latency-json.stdout'),
];

async function exposition(extra: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...exportArgs, ...extra], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

describe('ktrace export and base units', () => {
  it('serves @lat_us as bpftrace_lat_seconds, le bounds in seconds', async () => {
    const text = await exposition([]);
    expect(text).toContain('# UNIT bpftrace_lat_seconds seconds\n');
    expect(text).toMatch(/^bpftrace_lat_seconds_bucket\{key0="[^"]*",le="0\.000001"\} \d+$/m);
    expect(text).toMatch(/^bpftrace_lat_seconds_bucket\{key0="[^"]*",le="0\.000003"\} \d+$/m);
    expect(text).not.toMatch(/^bpftrace_lat_us/m);
  });

  it('serves it as bpftrace printed it with --no-base-units', async () => {
    const text = await exposition(['--no-base-units']);
    expect(text).toMatch(/^bpftrace_lat_us_bucket\{key0="[^"]*",le="3"\} \d+$/m);
    expect(text).not.toMatch(/^bpftrace_lat_seconds/m);
  });
});
