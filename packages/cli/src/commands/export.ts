// `ktrace export`: bpftrace output (a pipe or a file, text or -f json) in, metrics out: served at /metrics
// (--listen), pushed over OTLP (--otlp-endpoint), or, with neither, the final exposition printed to stdout.
// @ktrace/core and the exporter (OTel) load in the action, so `ktrace export --help` loads neither.
import type { onTerminatingSignal as OnTerminatingSignal } from '@ktrace/core';
import type { Exporter } from '@ktrace/exporter';
import { OutputParser } from '@ktrace/parser';
import type { Command } from 'commander';
import {
  MAX_LINE_BYTES_HELP,
  BASE_UNITS_HELP,
  MAX_SERIES_HELP,
  MAX_SERIES_PER_MAP_HELP,
  feedParser,
  formatOption,
  loadProgram,
  openOutput,
  seriesCountOption,
  sizeOption,
  writeOut,
} from '../io.js';
import { LOG_FORMAT_HELP, createLogWriter, logFormatOption, problemRecord } from '../log.js';

interface ExportOptions {
  program?: string;
  bpftraceVersion?: string;
  format: string;
  listen?: string;
  otlpEndpoint?: string;
  prefix?: string;
  baseUnits?: boolean;
  maxLineBytes?: string;
  maxSeriesPerMap?: string;
  maxSeries?: string;
  logFormat?: string;
}

/** Resolves on the first terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2). */
function untilSignal(onTerminatingSignal: typeof OnTerminatingSignal): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const remove = onTerminatingSignal((signal) => {
      remove();
      resolve(signal);
    });
  });
}

export function defineExport(command: Command): void {
  command
    .argument('[file]', 'bpftrace output to read; "-" or nothing for stdin')
    .option(
      '--bpftrace-version <version>',
      'the bpftrace version that wrote the output (e.g. 0.23.2): repairs what that version gets wrong (0.22-0.23 JSON keys escaped twice)',
    )
    .option(
      '--program <file.bt>',
      'the program that produced the output: real map kinds, key label names, histogram layouts, clear()ed maps',
    )
    .option('--format <format>', 'auto | text | json', 'auto')
    .option('--listen <host:port>', 'serve GET /metrics and GET /healthz here (e.g. 127.0.0.1:9464)')
    .option(
      '--otlp-endpoint <url>',
      'push metrics over OTLP to this collector (e.g. http://127.0.0.1:4318); OTEL_EXPORTER_OTLP_PROTOCOL chooses http/protobuf (default), http/json or grpc',
    )
    .option('--prefix <prefix>', 'metric name prefix', 'bpftrace')
    .option('--no-base-units', BASE_UNITS_HELP)
    .option('--max-line-bytes <size>', `${MAX_LINE_BYTES_HELP} (default 256MiB)`)
    .option('--max-series-per-map <n>', MAX_SERIES_PER_MAP_HELP)
    .option('--max-series <n>', MAX_SERIES_HELP)
    .option('--log-format <format>', LOG_FORMAT_HELP)
    .action(async (file: string | undefined, options: ExportOptions) => {
      const format = formatOption(options.format);
      const log = createLogWriter({ format: logFormatOption(options.logFormat) });
      const maxLineLength =
        options.maxLineBytes === undefined ? undefined : sizeOption(options.maxLineBytes, '--max-line-bytes');
      const limits = {
        ...(options.maxSeriesPerMap === undefined
          ? {}
          : { maxSeriesPerMap: seriesCountOption(options.maxSeriesPerMap, '--max-series-per-map') }),
        ...(options.maxSeries === undefined ? {} : { maxSeries: seriesCountOption(options.maxSeries, '--max-series') }),
      };
      const programInfo = options.program === undefined ? undefined : await loadProgram(options.program);
      const handle = await openOutput(file === '-' ? undefined : file);
      const { exporterOptionsFor, onTerminatingSignal } = await import('@ktrace/core');
      const { createExporter } = await import('@ktrace/exporter');
      const exporter: Exporter = createExporter({
        ...exporterOptionsFor({
          ...(programInfo === undefined ? {} : { program: programInfo }),
          limits,
          metrics: {
            ...(options.listen === undefined ? {} : { listen: options.listen }),
            ...(options.otlpEndpoint === undefined ? {} : { otlpEndpoint: options.otlpEndpoint }),
            ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
            ...(options.baseUnits === false ? { baseUnits: false } : {}),
          },
        }),
        onWarning: (message) => log({ level: 'warn', msg: message }),
      });
      try {
        const { url } = await exporter.start();
        if (url !== undefined) log({ level: 'info', msg: 'serving', metrics: `${url}/metrics` });
        const parser = new OutputParser({
          ...(options.bpftraceVersion === undefined ? {} : { bpftraceVersion: options.bpftraceVersion }),
          format,
          ...(programInfo === undefined ? {} : { program: programInfo }),
          ...(maxLineLength === undefined ? {} : { maxLineLength }),
          onEvent: (event) => {
            exporter.handle(event);
            // a line cut by the limit is warned by the exporter, with the option to raise it
            if (event.type === 'problem' && event.cause === undefined) log(problemRecord(event));
          },
        });
        exporter.setUp(true);
        await feedParser(parser, handle, file ?? 'stdin');
        exporter.setUp(false);
        if (options.listen !== undefined) {
          log({ level: 'info', msg: 'end of input; still serving the final state until SIGINT/SIGTERM' });
          await untilSignal(onTerminatingSignal);
        } else if (options.otlpEndpoint === undefined) {
          for (const chunk of await exporter.prometheusChunks()) await writeOut(chunk);
        }
      } finally {
        const { otlp } = await exporter.shutdown();
        if (otlp !== undefined) {
          log(
            otlp.delivered
              ? { level: 'info', msg: `the final state reached the OTLP collector at ${otlp.url}`, otlp: 'delivered' }
              : {
                  level: 'warn',
                  msg: `the final state did not reach the OTLP collector at ${otlp.url}: ${otlp.error ?? 'unknown error'}`,
                  otlp: 'not delivered',
                },
          );
        }
      }
    });
}
