// `ktrace parse`: bpftrace output (a file or stdin, text or -f json) in, NDJSON out, one object per event,
// streamed. Lines it cannot read become warnings on stderr naming the line; they are not written to stdout.
import type { Readable } from 'node:stream';
import { KtraceError, OutputParser } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import type { Command } from 'commander';
import { FORMATS, ioReason, loadProgram, openInput, writeOut } from '../io.js';
import type { Format } from '../io.js';

interface ParseOptions {
  format: string;
  program?: string;
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
