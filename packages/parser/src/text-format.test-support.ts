// Shared by the text reader's tests: bpftrace output fed to a reader line by line as the stream hands it over, and
// the fixtures of testdata/text (each captured or rendered output with the program that produced it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProgram } from './program.js';
import { TextFormatReader } from './text-format.js';
import type { FormatReader, FormatReaderOptions } from './format-reader.js';
import type { MapSample, ParseEvent, ProgramInfo } from './types.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata', 'text');

/** bpftrace output as the stream hands it over: one line at a time, no `\n`, numbered from 1. */
export function toLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function read(
  text: string,
  program?: ProgramInfo,
  Reader: new (o: FormatReaderOptions) => FormatReader = TextFormatReader,
): ParseEvent[] {
  const events: ParseEvent[] = [];
  const reader = new Reader({ emit: (e) => events.push(e), program });
  toLines(text).forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  return events;
}

export const maps = (events: ParseEvent[]): MapSample[] => events.filter((e): e is MapSample => e.type === 'map');

export interface Fixture {
  id: string;
  base: string;
  text: string;
  program: ProgramInfo | undefined;
}

function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const version of readdirSync(TESTDATA)
    .filter((d) => /^\d+\.\d+$/.test(d))
    .sort()) {
    for (const file of readdirSync(join(TESTDATA, version))
      .filter((f) => f.endsWith('.txt'))
      .sort()) {
      const base = join(TESTDATA, version, file.slice(0, -4));
      const programPath = `${base}.bt`;
      out.push({
        id: `${version}/${file.slice(0, -4)}`,
        base,
        text: readFileSync(`${base}.txt`, 'utf8'),
        program: existsSync(programPath) ? readProgram(readFileSync(programPath, 'utf8')) : undefined,
      });
    }
  }
  return out;
}

/** Every fixture of testdata/text, by version. */
export const FIXTURES = fixtures();

/** The fixture `version/name`; throws when there is none, so a renamed fixture fails loudly. */
export function fixture(id: string): Fixture {
  const found = FIXTURES.find((f) => f.id === id);
  if (found === undefined) throw new Error(`no text fixture ${id}`);
  return found;
}

/** The smallest line splitter that honours the FormatReader contract (the real one is the stream's). */
export function feedChunks(reader: FormatReader, chunks: Buffer[]): void {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;
  for (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      reader.line(pending.slice(0, nl), ++lineNumber);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) reader.line(pending, ++lineNumber);
  reader.end();
}
