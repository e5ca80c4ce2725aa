import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ktraceVersion } from './version.js';

describe('ktraceVersion', () => {
  it('is the version of every package', () => {
    const packages = join(import.meta.dirname, '..', '..');
    const names = readdirSync(packages);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const manifest = JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8')) as { version: string };
      expect(manifest.version, name).toBe(ktraceVersion);
    }
  });
});
