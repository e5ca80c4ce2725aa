import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCgroupPath, parseProcCgroup, unifiedPathOf } from './cgroup-path.js';
import type { CgroupPathInfo } from './cgroup-path.js';

const dir = join(import.meta.dirname, '../../testdata/cgroup-paths');
const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as {
  file: string;
  source: string;
  expected: CgroupPathInfo | null;
}[];

describe('parseProcCgroup on real /proc/PID/cgroup shapes', () => {
  it('has a golden entry for every fixture file', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cgroup'))
      .sort();
    expect(golden.map((g) => g.file).sort()).toEqual(files);
  });

  for (const { file, source, expected } of golden) {
    it(`${file} (${source.split(':')[0] ?? ''})`, () => {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(parseProcCgroup(text) ?? null).toEqual(expected);
    });
  }
});

describe('parseCgroupPath', () => {
  const cid = 'ab'.repeat(32);
  it('reads a path and a /proc line alike', () => {
    const path = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12345678_aaaa_bbbb_cccc_1234567890ab.slice/cri-containerd-${cid}.scope`;
    const expected = {
      runtime: 'containerd',
      containerId: cid,
      podUid: '12345678-aaaa-bbbb-cccc-1234567890ab',
      qosClass: 'besteffort',
    };
    expect(parseCgroupPath(path)).toEqual(expected);
    expect(parseCgroupPath(`0::${path}`)).toEqual(expected);
    expect(parseCgroupPath(`9:memory:${path}`)).toEqual(expected);
  });

  it('takes the container right below the pod, not a deeper or earlier 64-hex', () => {
    const pod = '/kubepods/burstable/pod12345678-aaaa-bbbb-cccc-1234567890ab';
    expect(parseCgroupPath(`${pod}/${cid}/init`)?.containerId).toBe(cid);
    expect(parseCgroupPath(`/docker/${'cd'.repeat(32)}${pod}/${cid}`)?.containerId).toBe(cid);
  });

  it('rejects pod tokens that are not UIDs or config hashes, and ids that are not 64 hex', () => {
    expect(parseCgroupPath('/kubepods/burstable/podnotauid/x')).toBeUndefined();
    expect(parseCgroupPath(`/kubepods/burstable/pod12345678-aaaa-bbbb-cccc-1234567890ab/${cid.slice(1)}`)).toEqual({
      podUid: '12345678-aaaa-bbbb-cccc-1234567890ab',
      qosClass: 'burstable',
    });
  });

  it('finds the 0:: line of a hybrid host', () => {
    expect(unifiedPathOf('2:cpu:/a\n0::/b/c\n')).toBe('/b/c');
    expect(unifiedPathOf('2:cpu:/a\n')).toBeUndefined();
  });
});
