// `ktrace parse`: bpftrace output (a file or stdin, text or -f json) in, NDJSON out, one object per event,
// streamed. Lines it cannot read become warnings on stderr naming the line; they are not written to stdout.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KtraceError, OutputParser, readProgram } from '@ktrace/parser';
import type { ParseEvent, ProgramInfo } from '@ktrace/parser';
import type { Command } from 'commander';

interface ParseOptions {
  format: string;
  program?: string;
}

const FORMATS = ['auto', 'text', 'json'] as const;
type Format = (typeof FORMATS)[number];

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
    throw new KtraceError({ code: 'KTRACE_BAD_INPUT', message: `cannot read ${what} "${path}": ${ioReason(error)}. ${hint}`, cause: error });
  }
}

async function loadProgram(path: string): Promise<ProgramInfo> {
  const handle = await openInput(path, 'program file', 'Give the .bt file that produced the output, or leave out --program.');
  let source: string;
  try {
    source = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  try {
    return readProgram(source);
  } catch (error) {
    if (error instanceof KtraceError) throw new KtraceError({ code: error.code, message: `${path}: ${error.message}`, cause: error, ...(error.line === undefined ? {} : { line: error.line }), ...(error.column === undefined ? {} : { column: error.column }) });
    throw error;
  }
}

/** Writes to stdout, waiting when the pipe is full so a slow reader never makes us buffer the whole input. */
async function writeOut(text: string): Promise<void> {
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description(
      'Read bpftrace output (text or -f json, any version 0.17-0.26) and write NDJSON: one object per map print, printf/time/cat line, attach count, lost-events report and runtime error. Lines that cannot be read are reported on stderr as "ktrace: line N: reason" and skipped (exit status stays 0).',
    )
    .argument('[file]', 'bpftrace output to read (default: stdin)')
    .option('--format <format>', 'auto | text | json (auto: JSON when the first non-blank line starts with "{")', 'auto')
    .option('--program <file.bt>', 'the program that produced the output: gives each map its real kind (count, sum…) and splits keys exactly')
    .action(async (file: string | undefined, options: ParseOptions) => {
      if (!(FORMATS as readonly string[]).includes(options.format)) {
        throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: `--format must be auto, text or json, not "${options.format}"` });
      }
      const format = options.format as Format;
      const programInfo = options.program === undefined ? undefined : await loadProgram(options.program);
      const handle = file === undefined ? undefined : await openInput(file, 'bpftrace output file', 'Give a file bpftrace wrote (bpftrace ... > out.txt), or pipe its output to stdin.');
      const input: Readable = handle === undefined ? process.stdin : handle.createReadStream({ autoClose: false });

      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        // The reader went away (`ktrace parse | head`): nothing left to do.
        if (error.code === 'EPIPE') process.exit(0);
        throw error;
      });

      let out = '';
      const onEvent = (event: ParseEvent): void => {
        if (event.type === 'problem') {
          process.stderr.write(`ktrace: line ${event.line}: ${event.reason}${event.text === '' ? '' : `: ${JSON.stringify(event.text)}`}\n`);
          return;
        }
        out += `${JSON.stringify(event)}\n`;
      };
      const parser = new OutputParser({ onEvent, format, ...(programInfo === undefined ? {} : { program: programInfo }) });
      try {
        for await (const chunk of input) {
          parser.write(chunk as Uint8Array);
          if (out.length > 0) {
            const text = out;
            out = '';
            await writeOut(text);
          }
        }
      } catch (error) {
        throw new KtraceError({ code: 'KTRACE_IO', message: `reading ${file ?? 'stdin'} failed: ${ioReason(error)}`, cause: error });
      } finally {
        await handle?.close();
      }
      parser.end();
      if (out.length > 0) await writeOut(out);
    });
}
