// `ktrace parse`: bpftrace output (a file or stdin, text or -f json) in, NDJSON out, one object per event,
// streamed. Lines it cannot read become warnings in the log (stderr, log.ts) naming the line; they are not written to stdout.
import { OutputParser } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import type { Command } from 'commander';
import { MAX_LINE_BYTES_HELP, feedParser, formatOption, loadProgram, openOutput, sizeOption, writeOut } from '../io.js';
import { LOG_FORMAT_HELP, createLogWriter, logFormatOption, problemRecord } from '../log.js';

interface ParseOptions {
  bpftraceVersion?: string;
  format: string;
  program?: string;
  maxLineBytes?: string;
  logFormat?: string;
}

export function defineParse(command: Command): void {
  command
    .argument('[file]', 'bpftrace output to read (default: stdin)')
    .option(
      '--bpftrace-version <version>',
      'the bpftrace version that wrote the output (e.g. 0.23.2): repairs what that version gets wrong (0.22-0.23 JSON keys escaped twice)',
    )
    .option(
      '--format <format>',
      'auto | text | json (auto: JSON when the first non-blank line starts with "{")',
      'auto',
    )
    .option(
      '--program <file.bt>',
      'the program that produced the output: gives each map its real kind (count, sum…) and splits keys exactly',
    )
    .option('--max-line-bytes <size>', `${MAX_LINE_BYTES_HELP} (default 256MiB)`)
    .option('--log-format <format>', LOG_FORMAT_HELP)
    .action(async (file: string | undefined, options: ParseOptions) => {
      const format = formatOption(options.format);
      const log = createLogWriter({ format: logFormatOption(options.logFormat) });
      const maxLineLength =
        options.maxLineBytes === undefined ? undefined : sizeOption(options.maxLineBytes, '--max-line-bytes');
      const programInfo = options.program === undefined ? undefined : await loadProgram(options.program);
      const handle = await openOutput(file);

      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        // The reader went away (`ktrace parse | head`): nothing left to do.
        if (error.code === 'EPIPE') process.exit(0);
        throw error;
      });

      let out = '';
      const onEvent = (event: ParseEvent): void => {
        if (event.type === 'problem') {
          log(problemRecord(event));
          return;
        }
        out += `${JSON.stringify(event)}\n`;
      };
      const parser = new OutputParser({
        onEvent,
        format,
        ...(programInfo === undefined ? {} : { program: programInfo }),
        ...(options.bpftraceVersion === undefined ? {} : { bpftraceVersion: options.bpftraceVersion }),
        ...(maxLineLength === undefined ? {} : { maxLineLength }),
      });
      const flush = async (): Promise<void> => {
        if (out.length === 0) return;
        const text = out;
        out = '';
        await writeOut(text);
      };
      await feedParser(parser, handle, file ?? 'stdin', flush);
      await flush();
    });
}
