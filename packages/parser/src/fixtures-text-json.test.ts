// The table test over every live capture in testdata/text (0.17, 0.23, 0.27): for each deterministic program, the
// text run and the -f json run of the same bpftrace version parse to the same map samples. What a version's own
// output loses is listed here with the reason and asserted as a difference; what the reader repairs is not.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonFormatReader } from './json-format.js';
import { readProgram } from './program.js';
import { TextFormatReader } from './text-format.js';
import type { FormatReader, FormatReaderOptions } from './format-reader.js';
import type { MapSample, ParseEvent, ProgramInfo } from './types.js';

const TESTDATA = join(import.meta.dirname, '..', 'testdata', 'text');

interface Capture {
  id: string;
  version: string;
  base: string;
  program: ProgramInfo;
  /** `0.23.2`, from the capture's meta.json. */
  bpftraceVersion: string;
}

function captures(): Capture[] {
  const out: Capture[] = [];
  for (const version of readdirSync(TESTDATA)
    .filter((d) => /^\d+\.\d+$/.test(d))
    .sort()) {
    for (const file of readdirSync(join(TESTDATA, version)).filter(
      (f) => f.endsWith('.json') && !f.endsWith('.meta.json') && !f.endsWith('.expected.json'),
    )) {
      const base = join(TESTDATA, version, file.slice(0, -'.json'.length));
      if (!existsSync(`${base}.txt`)) continue;
      const meta = JSON.parse(readFileSync(`${base}.meta.json`, 'utf8')) as { bpftrace: string };
      out.push({
        id: `${version}/${file.slice(0, -'.json'.length)}`,
        version,
        base,
        program: readProgram(readFileSync(`${base}.bt`, 'utf8')),
        bpftraceVersion: meta.bpftrace.replace(/^bpftrace v/, ''),
      });
    }
  }
  return out;
}

function read(
  path: string,
  Reader: new (o: FormatReaderOptions) => FormatReader,
  options: Omit<FormatReaderOptions, 'emit'>,
): MapSample[] {
  const events: ParseEvent[] = [];
  const reader = new Reader({ ...options, emit: (e) => events.push(e) });
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  return events.filter((e): e is MapSample => e.type === 'map');
}

/** Maps whose text and JSON differ by nature, per capture, with the reason. */
const lossy: Record<string, Array<{ map: string; why: string }>> = {};
for (const version of ['0.17', '0.23', '0.27']) {
  // Two separate runs: user-space addresses move (ASLR), so the ustack keys differ by nature.
  lossy[`${version}/stacks`] = [{ map: '@us', why: 'ASLR: the text and json runs load sh at different addresses' }];
  // A tuple value element "y, z" cannot be told from two elements in text.
  lossy[`${version}/keys`] = [
    { map: '@tv', why: 'a tuple value element "y, z" cannot be told from two elements in text' },
  ];
}

/**
 * 0.24+ JSON loses what text keeps (bpftrace's loss, not the reader's): every space of a key (keys go through the
 * text formatter, then spaces are deleted), and the blank lines that mark the exit-time dump, so no sample is
 * `final`. Text is brought down to what that JSON can say; everything else must match exactly.
 */
function asJsonCanSay(version: string, samples: MapSample[]): MapSample[] {
  if (!['0.27'].includes(version)) return samples;
  return samples.map(({ final: _final, ...sample }) => ({
    ...sample,
    entries: sample.entries.map((e) => ({
      ...e,
      key: e.key.map((k) => (typeof k === 'string' ? k.replaceAll(' ', '') : k)),
    })),
  }));
}

const ALL = captures();

describe('text and -f json captures of the same program and version give the same samples', () => {
  it('covers the live captures of every version that runs here', () => {
    const versions = new Set(ALL.map((c) => c.version));
    for (const v of ['0.17', '0.23', '0.27']) expect(versions, v).toContain(v);
    for (const c of ALL.filter((x) => x.version !== '0.17')) expect(c.bpftraceVersion, c.id).toMatch(/^0\.2[37]\.\d+$/);
  });

  it.each(ALL.map((c) => [c.id, c] as const))('%s', (id, c) => {
    const text = asJsonCanSay(c.version, read(`${c.base}.txt`, TextFormatReader, { program: c.program }));
    // The version, as `ktrace run` passes it: the reader repairs 0.22–0.23 keys escaped twice (`q\"uote`).
    const json = asJsonCanSay(
      c.version,
      read(`${c.base}.json`, JsonFormatReader, { program: c.program, bpftraceVersion: c.bpftraceVersion }),
    );
    const skip = new Set((lossy[id] ?? []).map((l) => l.map));
    const keep = (samples: MapSample[]): MapSample[] => samples.filter((s) => !skip.has(s.name));
    expect(json.length).toBeGreaterThan(0);
    // 0.17 text prints a blank line for an empty (cleared) map where JSON prints nothing: maps with entries count.
    const nonEmpty = (samples: MapSample[]): MapSample[] => samples.filter((s) => s.entries.length > 0);
    expect(nonEmpty(keep(text))).toEqual(nonEmpty(keep(json)));
    for (const name of skip) {
      const inText = text.find((s) => s.name === name);
      if (inText !== undefined)
        expect(inText, `${name} is lossy in text, so it must differ`).not.toEqual(json.find((s) => s.name === name));
    }
  });

  it('repairs 0.23 JSON keys escaped twice only when told the version: q\\"uote without it, q"uote with it', () => {
    const c = ALL.find((x) => x.id === '0.23/keys');
    expect(c).toBeDefined();
    if (c === undefined) return;
    const keysOf = (samples: MapSample[]): unknown[] =>
      samples.find((s) => s.name === '@cnt')?.entries.map((e) => e.key[0]) ?? [];
    const given = keysOf(read(`${c.base}.json`, JsonFormatReader, { program: c.program }));
    const repaired = keysOf(
      read(`${c.base}.json`, JsonFormatReader, { program: c.program, bpftraceVersion: c.bpftraceVersion }),
    );
    expect(given).toContain('quote\\"d');
    expect(repaired).toContain('quote"d');
    expect(repaired).toEqual(keysOf(read(`${c.base}.txt`, TextFormatReader, { program: c.program })));
  });
});
