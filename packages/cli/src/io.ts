// What `ktrace parse` and `ktrace export` read (bpftrace output, the program that produced it) and write.
// A file that cannot be read is a usage error (exit 2) naming the file, the reason and what to give instead.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { KtraceError, readProgram } from '@ktrace/parser';
import type { Readable } from 'node:stream';
import type { OutputParser, ProgramInfo } from '@ktrace/parser';

const FORMATS = ['auto', 'text', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** The --format option, checked. */
export function formatOption(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `--format must be auto, text or json, not "${value}"`,
    });
  }
  return value as Format;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A size option (`--max-line-bytes 64MiB`): bytes, or K/KiB, M/MiB, G/GiB (powers of 1024). */
export function sizeOption(value: string, flag: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match === null || unit === undefined ? NaN : Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `${flag} must be a size such as 67108864, 64MiB or 1GiB, not "${value}"`,
    });
  }
  return bytes;
}

/** A series count flag (--max-series, --max-series-per-map, --max-series-per-trace): a whole number, 1 or more. */
export function seriesCountOption(value: string, flag: string): number {
  const count = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: `${flag} must be a whole number of series (1 or more), not "${value}"`,
    });
  }
  return count;
}

/** The help of --max-series-per-map and --max-series; the defaults are the exporter's. */
export const MAX_SERIES_PER_MAP_HELP =
  'at most this many series per map; keys past it fold into one overflow series, warned and counted (default 50000)';
export const BASE_UNITS_HELP =
  "export every map as bpftrace prints it: no durations in seconds or sizes in bytes (_ns, _us stay; a spec's metrics.baseUnits: false)";
export const MAX_SERIES_HELP = 'at most this many series over all maps (default 200000)';

export const MAX_LINE_BYTES_HELP =
  'the longest output line read (one map dump in -f json is one line); a longer line is dropped, warned and counted in ktrace_output_lines_dropped_total (e.g. 64MiB)';

function ioReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}

async function openInput(path: string, what: string, hint: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    return handle;
  } catch (error) {
    throw new KtraceError({
      code: 'KTRACE_BAD_INPUT',
      message: `cannot read ${what} "${path}": ${ioReason(error)}. ${hint}`,
      cause: error,
    });
  }
}

export async function loadProgram(path: string): Promise<ProgramInfo> {
  const handle = await openInput(
    path,
    'program file',
    'Give the .bt file that produced the output, or leave out --program.',
  );
  let source: string;
  try {
    source = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  try {
    return readProgram(source);
  } catch (error) {
    if (error instanceof KtraceError)
      throw new KtraceError({
        code: error.code,
        message: `${path}: ${error.message}`,
        cause: error,
        ...(error.line === undefined ? {} : { line: error.line }),
        ...(error.column === undefined ? {} : { column: error.column }),
      });
    throw error;
  }
}

/** Writes to stdout, waiting when the pipe is full so a slow reader never makes us buffer the whole input. */
export async function writeOut(text: string): Promise<void> {
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/** Opens the bpftrace output to read: FILE, or stdin without one. Unreadable: a usage error naming it. */
export async function openOutput(file: string | undefined): Promise<FileHandle | undefined> {
  if (file === undefined) return undefined;
  return openInput(
    file,
    'bpftrace output file',
    'Give a file bpftrace wrote (bpftrace ... > out.txt), or pipe its output to stdin.',
  );
}

/**
 * Streams the bpftrace output (a handle from openOutput, or stdin) into the parser and closes it; `afterChunk`
 * runs after each chunk is parsed. Ends the parser at the end of input. A read failure is KTRACE_IO naming it.
 */
export async function feedParser(
  parser: OutputParser,
  handle: FileHandle | undefined,
  name: string,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  const input: Readable = handle === undefined ? process.stdin : handle.createReadStream({ autoClose: false });
  try {
    for await (const chunk of input) {
      parser.write(chunk as Uint8Array);
      if (afterChunk !== undefined) await afterChunk();
    }
  } catch (error) {
    throw new KtraceError({ code: 'KTRACE_IO', message: `reading ${name} failed: ${ioReason(error)}`, cause: error });
  } finally {
    await handle?.close();
  }
  parser.end();
}
