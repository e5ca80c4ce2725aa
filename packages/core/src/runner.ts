// startTrace, the SDK's local runner: checks bpftrace and the program, plans what to export, creates the exporter
// from the spec, and hands the run to a TraceSupervisor. Each trace owns its exporter, timers and (only with
// handleSignals) its signal handlers, so a process can run many traces side by side.
import { createExporter } from '@ktrace/exporter';
import type { Exporter, ExporterOptions } from '@ktrace/exporter';
import type { MapSample } from '@ktrace/parser';
import { exporterOptionsFor } from './exporter-options.js';
import type { InstrumentedProgram } from './instrument.js';
import { checkProgram, preflight } from './preflight.js';
import { onTerminatingSignal } from './runner/signals.js';
import { TraceSupervisor } from './runner/supervisor.js';
import { planTrace } from './runner/trace-plan.js';
import { safeSink } from './runner/trace-log.js';
import type { LogRecord } from './runner/trace-log.js';
import type { TraceResult, TraceStatus } from './runner/trace-status.js';
import { parseTraceSpec } from './trace-spec.js';
import type { TraceSpec, TraceSpecInput } from './trace-spec.js';

export type { LogLevel, LogRecord } from './runner/trace-log.js';
export type { TraceResult, TraceState, TraceStatus } from './runner/trace-status.js';

export interface TraceHandle {
  status(): TraceStatus;
  /** Every map sample from now on (periodic prints and the final dump) until the trace ends. */
  samples(): AsyncIterableIterator<MapSample>;
  /** The metrics side: /metrics text, self-metrics, OTLP. */
  readonly exporter: Exporter;
  readonly program: InstrumentedProgram;
  readonly spec: TraceSpec;
  /** Stops bpftrace with SIGINT, exports its final dump, shuts the exporter down (if ktrace created it). */
  stop(): Promise<TraceResult>;
  /** Resolves when the trace ends; rejects with a KtraceError when bpftrace rejects the program or cannot run. */
  readonly done: Promise<TraceResult>;
}

export interface StartTraceOptions {
  /** A spec object (validated here) or one from loadTraceSpec()/parseTraceSpec(). */
  spec: TraceSpecInput | TraceSpec;
  /** The bpftrace binary (path or name on PATH); default `bpftrace`. A spec cannot choose it: whoever starts ktrace does. */
  bpftrace?: string;
  /** Environment for finding and running bpftrace; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Bring your own exporter (then ktrace does not start or shut it down). */
  exporter?: Exporter;
  /** Overrides of the exporter options derived from the spec. */
  exporterOptions?: Partial<ExporterOptions>;
  onLog?: (record: LogRecord) => void;
  /** Stop by itself after this long (final dump exported). */
  durationMillis?: number;
  /**
   * Stop on SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGUSR2 of this process, from the start of startTrace on (what a
   * command line wants). Default false: the caller stops the trace.
   */
  handleSignals?: boolean;
  /** Restart backoff: first delay, doubled per consecutive short run up to the max. Defaults 500 ms and 30 s. */
  restartDelayMillis?: number;
  maxRestartDelayMillis?: number;
  /** Consecutive runs that end before printing any map before ktrace gives up. Default 5. */
  maxFailedStarts?: number;
  /** A run that lasted this long resets the backoff. Default 60 s. */
  healthyRunMillis?: number;
  /** How long bpftrace may take to print its final dump after SIGINT before it is killed. Default 30 s. */
  stopTimeoutMillis?: number;
}

function isResolvedSpec(spec: TraceSpecInput | TraceSpec): spec is TraceSpec {
  return (
    typeof (spec as TraceSpec).programSource === 'string' && typeof (spec as TraceSpec).intervalMillis === 'number'
  );
}

/** bpftrace's options before the program: the spec's allowed flags, include dirs, and JSON output. */
function bpftraceArgs(spec: TraceSpec): string[] {
  return [...spec.bpftrace.flags, ...spec.bpftrace.includeDirs.flatMap((d) => ['-I', d]), '-f', 'json'];
}

/** Starts a continuous trace: checks, instruments, spawns and supervises bpftrace, exporting its maps. */
export async function startTrace(options: StartTraceOptions): Promise<TraceHandle> {
  const spec = isResolvedSpec(options.spec) ? options.spec : parseTraceSpec(options.spec);
  const log = safeSink(options.onLog);
  const env = options.env ?? process.env;

  // Signals are taken from the start: one during the checks below ends the trace before bpftrace runs.
  let supervisor: TraceSupervisor | undefined;
  let startupSignal: NodeJS.Signals | undefined;
  const removeSignals =
    options.handleSignals === true
      ? onTerminatingSignal((signal) => {
          if (supervisor === undefined) {
            if (startupSignal === undefined)
              log({ level: 'info', msg: `received ${signal} while starting; bpftrace will not be started` });
            startupSignal ??= signal;
            return;
          }
          // `timeout` and terminals may deliver one signal twice (to the process and to its group): say it once.
          if (!supervisor.stopRequested)
            log({ level: 'info', msg: `received ${signal}; stopping bpftrace with SIGINT to export its final dump` });
          void supervisor.stop();
        })
      : () => undefined;

  let exporter: Exporter | undefined;
  const ownsExporter = options.exporter === undefined;
  try {
    const checked = await preflight({
      ...(options.bpftrace === undefined ? {} : { bpftrace: options.bpftrace }),
      env,
      program: spec.program,
      log,
    });
    for (const warning of checked.warnings) log({ level: 'warn', msg: warning });
    const childEnv: NodeJS.ProcessEnv = { ...env, ...spec.bpftrace.env };

    // bpftrace judges the program first, so syntax and semantic errors come in its words at the user's line numbers.
    const rejected = await checkProgram({
      bpftracePath: checked.bpftracePath,
      program: spec.program,
      programSource: spec.programSource,
      env: childEnv,
      args: spec.bpftrace.includeDirs.flatMap((d) => ['-I', d]),
      bpftraceVersion: checked.bpftraceVersion,
      log,
    });
    if (rejected !== undefined) throw rejected;

    const plan = planTrace(spec);
    for (const warning of plan.warnings) log({ level: 'warn', msg: warning });

    exporter =
      options.exporter ??
      createExporter({
        ...exporterOptionsFor({
          program: plan.programInfo,
          maps: spec.maps,
          include: plan.instrumented.exported,
          metrics: spec.metrics,
          limits: spec.limits,
        }),
        ...options.exporterOptions,
      });
    const metricsUrl = ownsExporter ? (await exporter.start()).url : undefined;

    supervisor = new TraceSupervisor({
      spec,
      plan,
      bpftracePath: checked.bpftracePath,
      bpftraceVersion: checked.bpftraceVersion,
      env: childEnv,
      args: bpftraceArgs(spec),
      exporter,
      ownsExporter,
      metricsUrl,
      log,
      policy: {
        ...(options.restartDelayMillis === undefined ? {} : { initialDelayMillis: options.restartDelayMillis }),
        ...(options.maxRestartDelayMillis === undefined ? {} : { maxDelayMillis: options.maxRestartDelayMillis }),
        ...(options.maxFailedStarts === undefined ? {} : { maxFailedStarts: options.maxFailedStarts }),
        ...(options.healthyRunMillis === undefined ? {} : { healthyRunMillis: options.healthyRunMillis }),
      },
      stopTimeoutMillis: options.stopTimeoutMillis ?? 30_000,
      ...(options.durationMillis === undefined ? {} : { durationMillis: options.durationMillis }),
    });
  } catch (error) {
    removeSignals();
    if (ownsExporter) await exporter?.shutdown().catch(() => undefined);
    throw error;
  }

  const running = supervisor;
  void running.done.then(removeSignals, removeSignals);
  if (startupSignal === undefined) running.start();
  else void running.stop();

  return {
    status: () => ({ ...running.status, exportedMaps: [...running.status.exportedMaps] }),
    samples: () => running.samples.subscribe(),
    exporter,
    program: running.plan.instrumented,
    spec,
    stop: () => running.stop(),
    done: running.done,
  };
}
