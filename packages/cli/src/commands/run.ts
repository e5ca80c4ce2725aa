// `ktrace run`: argument parsing and output over @ktrace/core's startTrace. On a terminal, a live view of the
// maps; without one, one JSON log line per event of note on stderr. Exit 0 after a clean stop (final dump exported).
import { resolve } from 'node:path';
// @ktrace/core (OTel, yaml, zod) and its Kubernetes layer load in the action, so `ktrace run --help` loads neither.
import type * as CoreModule from '@ktrace/core';
import type { LogRecord, TraceSpec } from '@ktrace/core';
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import {
  BASE_UNITS_HELP,
  MAX_LINE_BYTES_HELP,
  MAX_SERIES_HELP,
  MAX_SERIES_PER_MAP_HELP,
  seriesCountOption,
  sizeOption,
} from '../io.js';
import { visible } from '../live-view.js';
import { LOG_FORMAT_HELP, createLogWriter, logFormatOption } from '../log.js';
import { startLiveView } from '../live-view-terminal.js';
import type { LiveView } from '../live-view-terminal.js';

interface RunOptions {
  logFormat?: string;
  program?: string;
  file?: string;
  spec?: string;
  interval?: string;
  listen?: string | false;
  otlpEndpoint?: string;
  duration?: string;
  stopTimeout?: string;
  bpftrace?: string;
  prefix?: string;
  baseUnits?: boolean;
  verbose?: boolean;
  view?: boolean;
  maxLineBytes?: string;
  maxSeriesPerMap?: string;
  maxSeries?: string;
  output?: string;
  targetPod: string[];
}

export const defaultListen = '127.0.0.1:9464';

type Core = typeof CoreModule;

async function resolveSpec(options: RunOptions, core: Core): Promise<TraceSpec> {
  const {
    checkProgramText,
    defaultTraceSpec,
    loadTraceSpec,
    maxProgramBytes,
    parseDuration,
    parseTraceSpec,
    readBoundedText,
    restrictToCgroups,
  } = core;
  const sources = [options.program, options.file, options.spec].filter((s) => s !== undefined).length;
  if (sources > 1) {
    throw new KtraceError({
      code: 'KTRACE_BAD_OPTION',
      message: 'give only one of -e PROGRAM, -f FILE.bt or --spec trace.yaml',
    });
  }
  let spec: TraceSpec;
  if (options.spec !== undefined) spec = loadTraceSpec(options.spec);
  else if (options.program !== undefined) spec = parseTraceSpec({ program: options.program });
  else if (options.file !== undefined) {
    // Said here, not as a spec field: with -f there is no spec file, and the path is relative to the working directory.
    // Any file the operator names is read (a pipe too: -f <(…)), within the program size limit.
    const path = resolve(options.file);
    const what = `-f ${options.file}`;
    const program = readBoundedText(path, { what, limit: maxProgramBytes, code: 'KTRACE_BAD_OPTION' });
    checkProgramText(program, what, 'KTRACE_BAD_OPTION');
    spec = parseTraceSpec({ program }, { programSource: path });
  } else spec = parseTraceSpec(defaultTraceSpec());
  if (options.interval !== undefined) spec.intervalMillis = parseDuration(options.interval, '--interval');
  if (options.listen === false) delete spec.metrics.listen;
  else if (options.listen !== undefined) spec.metrics.listen = options.listen;
  else spec.metrics.listen ??= defaultListen;
  if (options.otlpEndpoint !== undefined) spec.metrics.otlpEndpoint = options.otlpEndpoint;
  if (options.prefix !== undefined) spec.metrics.prefix = options.prefix;
  if (options.baseUnits === false) spec.metrics.baseUnits = false;
  if (options.maxLineBytes !== undefined)
    spec.limits.maxLineBytes = sizeOption(options.maxLineBytes, '--max-line-bytes');
  if (options.maxSeriesPerMap !== undefined)
    spec.limits.maxSeriesPerMap = seriesCountOption(options.maxSeriesPerMap, '--max-series-per-map');
  if (options.maxSeries !== undefined) spec.limits.maxSeries = seriesCountOption(options.maxSeries, '--max-series');
  // In a one-shot trace's pod (ktrace run TARGET): only the target pod's (container's) cgroups.
  if (options.targetPod.length > 0) {
    const { parsePodCgroupTarget, podCgroupIds } = await import('@ktrace/core/kubernetes');
    spec.program = restrictToCgroups(spec.program, podCgroupIds(options.targetPod.map(parsePodCgroupTarget)));
  }
  return spec;
}

export function defineRun(command: Command): void {
  command
    .addHelpText(
      'after',
      '\nWith a TARGET (node/NAME, pod/NAME[/CONTAINER], deploy/NAME) it runs once in the cluster: ktrace run TARGET --help.',
    )
    .option('-e, --program <text>', 'the bpftrace program text')
    .option('-f, --file <file.bt>', 'a bpftrace program file')
    .option('--spec <trace.yaml>', 'a trace spec (program, interval, maps, limits…)')
    .option('--interval <duration>', 'how often maps are printed and exported (500ms, 1s, 10s…; default 1s)')
    .option('--listen <host:port>', `serve /metrics and /healthz here (default ${defaultListen})`)
    .option('--no-listen', 'do not serve /metrics')
    .option(
      '--otlp-endpoint <url>',
      'also push metrics over OTLP to this collector (OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf, http/json or grpc)',
    )
    .option('--duration <duration>', 'stop after this long (final dump exported), e.g. 10m')
    .option(
      '--stop-timeout <duration>',
      'how long bpftrace may take to print its final dump after SIGINT before it is killed (default 30s)',
    )
    .option('--bpftrace <path>', 'the bpftrace binary (default: bpftrace on PATH)')
    .option('--prefix <prefix>', 'metric name prefix (default bpftrace)')
    .option('--no-base-units', BASE_UNITS_HELP)
    .option('--max-line-bytes <size>', `${MAX_LINE_BYTES_HELP} (default 256MiB, or the spec's limits.maxLineBytes)`)
    .option('--max-series-per-map <n>', `${MAX_SERIES_PER_MAP_HELP}, or the spec's limits.maxSeriesPerMap`)
    .option('--max-series <n>', `${MAX_SERIES_HELP}, or the spec's limits.maxSeries`)
    .option('--no-view', 'log lines instead of the live view, even on a terminal')
    .option('-v, --verbose', 'also log debug lines')
    .option('--log-format <format>', LOG_FORMAT_HELP)
    .option(
      '--output <format>',
      'json: also write every map sample as one JSON line on stdout (what ktrace logs reads back)',
    )
    .option(
      '--target-pod <uid[/container-id]>',
      "trace only this pod's (container's) cgroups on this node; repeatable",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .action(async (options: RunOptions) => {
      if (options.output !== undefined && options.output !== 'json')
        throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: `--output must be json, not "${options.output}"` });
      const core = await import('@ktrace/core');
      const { parseDuration, startTrace } = core;
      const spec = await resolveSpec(options, core);
      const durationMillis = options.duration === undefined ? undefined : parseDuration(options.duration, '--duration');
      const stopTimeoutMillis =
        options.stopTimeout === undefined ? undefined : parseDuration(options.stopTimeout, '--stop-timeout');
      const live = process.stdout.isTTY === true && options.view !== false && options.output === undefined;
      const logLine = createLogWriter({
        format: logFormatOption(options.logFormat),
        ...(options.verbose === undefined ? {} : { verbose: options.verbose }),
      });
      const notes: string[] = [];
      // Under the live view, warnings and errors are kept for after it (the screen is the view's).
      const writeLog = (record: LogRecord): void => {
        if (!live) return logLine(record);
        if (record.level === 'warn' || record.level === 'error') {
          notes.push(`${record.level}: ${record.msg}`);
          if (notes.length > 20) notes.shift();
        }
      };
      const handle = await startTrace({
        spec,
        handleSignals: true,
        onLog: writeLog,
        ...(options.bpftrace === undefined ? {} : { bpftrace: options.bpftrace }),
        ...(durationMillis === undefined ? {} : { durationMillis }),
        ...(stopTimeoutMillis === undefined ? {} : { stopTimeoutMillis }),
        exporterOptions: { onWarning: (message: string) => writeLog({ level: 'warn', msg: message }) },
      });
      const status = handle.status();
      writeLog({
        level: 'info',
        msg: 'ktrace running',
        metrics: status.metricsUrl ?? null,
        maps: status.exportedMaps,
        intervalMillis: spec.intervalMillis,
        bpftrace: `${status.bpftracePath} ${status.bpftraceVersion}`,
      });
      const written =
        options.output === 'json'
          ? (async () => {
              for await (const s of handle.samples()) process.stdout.write(`${JSON.stringify(s)}\n`);
            })()
          : undefined;
      const view: LiveView | undefined = live ? startLiveView({ handle, notes }) : undefined;
      try {
        await handle.done;
      } finally {
        await view?.close();
      }
      await written;
      if (live) for (const note of notes) process.stderr.write(`${visible(note, 'newlines')}\n`);
      process.exit(0);
    });
}
