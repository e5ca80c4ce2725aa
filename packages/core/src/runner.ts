// The local runner and supervisor: spawns bpftrace (no shell) with the instrumented program, streams its stdout
// through the parser into the exporter, relays stderr as log records, restarts it with backoff when it dies,
// fails fast when bpftrace rejects the program, caps its output rate, and stops it with SIGINT so the final dump counts.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createExporter } from '@ktrace/exporter';
import type { Exporter, ExporterOptions } from '@ktrace/exporter';
import { KtraceError, OutputParser, readProgram } from '@ktrace/parser';
import type { MapSample, ParseEvent, ProgramInfo } from '@ktrace/parser';
import { instrumentProgram } from './instrument.js';
import type { InstrumentedProgram } from './instrument.js';
import { bpftraceFailure, isBenignStderr } from './bpftrace-errors.js';
import { checkProgram, preflight } from './preflight.js';
import { parseTraceSpec } from './trace-spec.js';
import type { TraceSpec, TraceSpecInput } from './trace-spec.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log line: what happened, plus fields (pid, map, probes, stderr text…). */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export type TraceState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface TraceStatus {
  state: TraceState;
  /** bpftrace's pid while it runs. */
  pid: number | undefined;
  restarts: number;
  bpftracePath: string;
  bpftraceVersion: string;
  attachedProbes: number | undefined;
  /** Map samples received (periodic and final). */
  samples: number;
  /** When the last map sample arrived (ms since epoch). */
  lastDumpAt: number | undefined;
  lostEvents: number;
  /** Bytes bpftrace has written to stdout, all runs together. */
  outputBytes: number;
  /** The maps exported as metrics. */
  exportedMaps: string[];
  /** The /metrics URL when the exporter listens. */
  metricsUrl: string | undefined;
  /** Why the trace failed, when state is `failed`. */
  error: string | undefined;
}

export interface TraceResult {
  /** `stopped`: stop(), a signal or the duration; `exited`: the program ended itself (exit()). */
  reason: 'stopped' | 'exited';
  restarts: number;
}

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
  /** The bpftrace binary (path or name on PATH); overrides spec.bpftrace.path. */
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
  /** Stop on SIGINT/SIGTERM of this process (what a command line wants). Default false. */
  handleSignals?: boolean;
  /** Restart backoff: first delay, doubled per consecutive failure up to the max. Defaults 500 ms and 30 s. */
  restartDelayMillis?: number;
  maxRestartDelayMillis?: number;
  /** Consecutive runs that die before printing any map before ktrace gives up. Default 5. */
  maxFailedStarts?: number;
  /** How long bpftrace may take to print its final dump after SIGINT before it is killed. Default 30 s. */
  stopTimeoutMillis?: number;
}

interface Run {
  child: ChildProcess;
  parser: OutputParser;
  startedAt: number;
  sawSample: boolean;
  stderrTail: string[];
  exited: Promise<void>;
}

const STDERR_TAIL = 40;
const RATE_WINDOW_SECONDS = 5;
const TEXT_LOG_PER_SECOND = 20;

function bytesPerSecond(n: number): string {
  if (n >= 1_048_576) return `${(n / 1_048_576).toFixed(1)} MiB/s`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB/s`;
  return `${Math.round(n)} B/s`;
}

function isResolvedSpec(spec: TraceSpecInput | TraceSpec): spec is TraceSpec {
  return typeof (spec as TraceSpec).programSource === 'string' && typeof (spec as TraceSpec).intervalMillis === 'number';
}

/** Starts a continuous trace: checks, instruments, spawns and supervises bpftrace, exporting its maps. */
export async function startTrace(options: StartTraceOptions): Promise<TraceHandle> {
  const spec = isResolvedSpec(options.spec) ? options.spec : parseTraceSpec(options.spec);
  const log = (record: LogRecord): void => {
    try {
      options.onLog?.(record);
    } catch {
      // A failing log sink must not break the trace.
    }
  };
  const env = options.env ?? process.env;

  const bpftraceName = options.bpftrace ?? spec.bpftrace.path;
  const checked = await preflight({ ...(bpftraceName === undefined ? {} : { bpftrace: bpftraceName }), env, program: spec.program, log });
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

  const programInfo: ProgramInfo = readProgram(spec.program);
  const mapsInSpec = Object.keys(spec.maps);
  const exportMaps = spec.include ?? (mapsInSpec.length > 0 ? mapsInSpec : undefined);
  const instrumented = instrumentProgram({
    source: spec.program,
    program: programInfo,
    intervalMillis: spec.intervalMillis,
    ...(exportMaps === undefined ? {} : { exportMaps }),
  });
  // A map is printed as deltas only when the program prints and clears it in the same probe while running
  // (readProgram's `cleared`). A clear() in END (bpftrace's tools do that) resets nothing ktrace exports; a map
  // cleared in a probe that does not print it (`clearedApart`: print every second, clear every minute, or never
  // printed by the program) holds totals since its last clear, so a value that drops is a reset, not a delta.
  const exported = new Set(instrumented.exported);
  const deltaMaps = programInfo.maps.filter((m) => m.cleared && exported.has(m.name)).map((m) => m.name);
  const clearedApart = programInfo.maps.filter((m) => m.clearedApart === true && exported.has(m.name)).map((m) => m.name);
  // bpftrace's print() and clear() are asynchronous: updates that land between them are lost by bpftrace itself.
  if (deltaMaps.length > 0) {
    log({
      level: 'warn',
      msg: `the program clears ${deltaMaps.join(', ')}: exported as deltas, but updates between its print() and clear() are lost by bpftrace; remove the clear() for exact counters (ktrace prints cumulatively by itself)`,
    });
  }
  if (clearedApart.length > 0) {
    log({
      level: 'warn',
      msg: `the program clears ${clearedApart.join(', ')} apart from printing it: exported as totals that restart at each clear() (a drop is taken as a reset), but updates between the last print and the clear() are lost by bpftrace; remove the clear() for exact counters`,
    });
  }

  const ownsExporter = options.exporter === undefined;
  let exporter: Exporter;
  if (options.exporter !== undefined) {
    exporter = options.exporter;
  } else {
    const exporterOptions: ExporterOptions = { program: programInfo, maps: spec.maps, include: instrumented.exported };
    if (spec.metrics.prefix !== undefined) exporterOptions.prefix = spec.metrics.prefix;
    if (typeof spec.metrics.listen === 'string') exporterOptions.listen = spec.metrics.listen;
    if (spec.metrics.otlpEndpoint !== undefined) exporterOptions.otlpEndpoint = spec.metrics.otlpEndpoint;
    if (spec.metrics.otlpIntervalMillis !== undefined) exporterOptions.otlpIntervalMillis = spec.metrics.otlpIntervalMillis;
    if (spec.metrics.resourceAttributes !== undefined) exporterOptions.resourceAttributes = spec.metrics.resourceAttributes;
    if (spec.limits.maxSeries !== undefined) exporterOptions.maxSeries = spec.limits.maxSeries;
    if (spec.limits.maxSeriesPerMap !== undefined) exporterOptions.maxSeriesPerMap = spec.limits.maxSeriesPerMap;
    if (spec.limits.maxLabelValueLength !== undefined) exporterOptions.maxLabelValueLength = spec.limits.maxLabelValueLength;
    if (spec.limits.expireAfterDumps !== undefined) exporterOptions.expireAfterDumps = spec.limits.expireAfterDumps;
    exporter = createExporter({ ...exporterOptions, ...options.exporterOptions });
  }
  let metricsUrl: string | undefined;
  if (ownsExporter) {
    const started = await exporter.start();
    metricsUrl = started.url;
  }

  const status: TraceStatus = {
    state: 'starting',
    pid: undefined,
    restarts: 0,
    bpftracePath: checked.bpftracePath,
    bpftraceVersion: checked.bpftraceVersion,
    attachedProbes: undefined,
    samples: 0,
    lastDumpAt: undefined,
    lostEvents: 0,
    outputBytes: 0,
    exportedMaps: instrumented.exported,
    metricsUrl,
    error: undefined,
  };

  const subscribers = new Set<{ queue: MapSample[]; wake: (() => void) | undefined }>();
  let finished = false;
  const wakeAll = (): void => {
    for (const s of subscribers) {
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
    }
  };

  let resolveDone!: (result: TraceResult) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<TraceResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // A caller that only awaits stop() must not see an unhandled rejection.
  done.catch(() => undefined);

  const args = [
    ...spec.bpftrace.flags,
    ...spec.bpftrace.includeDirs.flatMap((d) => ['-I', d]),
    '-f',
    'json',
    '-e',
    instrumented.source,
  ];
  let current: Run | undefined;
  let stopping = false;
  let stopReason: TraceResult['reason'] = 'stopped';
  let failedStarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let fatal: KtraceError | undefined;
  let durationTimer: NodeJS.Timeout | undefined;

  // Output rate cap: bytes per second over a sliding window.
  const perSecond: number[] = [];
  let bytesThisSecond = 0;
  let textLogged = 0;
  let textSuppressed = 0;
  let silenceWarned = false;
  const rateTimer = setInterval(() => {
    perSecond.push(bytesThisSecond);
    bytesThisSecond = 0;
    if (perSecond.length > RATE_WINDOW_SECONDS) perSecond.shift();
    if (textSuppressed > 0) {
      log({ level: 'info', msg: 'bpftrace output lines not logged (rate limit)', lines: textSuppressed });
    }
    textLogged = 0;
    textSuppressed = 0;
    const run = current;
    // Only maps ktrace prints itself are due every interval; a program that prints its own maps does so on its own
    // schedule (interval:s:60 { print(@m); }), and its silence between prints says nothing about its probes.
    if (run !== undefined && !silenceWarned && status.state === 'running' && instrumented.printedByKtrace.length > 0) {
      const since = Date.now() - (status.lastDumpAt ?? run.startedAt);
      if (since > Math.max(3 * spec.intervalMillis, 5000) && (status.lastDumpAt === undefined || since > 3 * spec.intervalMillis)) {
        silenceWarned = true;
        log({
          level: 'warn',
          msg: `bpftrace has printed no map for ${Math.round(since / 1000)} s: the exported maps (${instrumented.printedByKtrace.join(', ')}) are still empty, so their probes have not fired; check that the probes match this workload (bpftrace -l 'PATTERN'), or wait for activity`,
        });
      }
    }
    const windowBytes = perSecond.reduce((a, b) => a + b, 0);
    const limit = spec.limits.maxOutputBytesPerSecond;
    if (current !== undefined && fatal === undefined && windowBytes > limit * RATE_WINDOW_SECONDS) {
      const rate = windowBytes / perSecond.length;
      fail(
        new KtraceError({
          code: 'KTRACE_OUTPUT_LIMIT',
          message: `bpftrace floods its output: ${bytesPerSecond(rate)} over the last ${perSecond.length} s, above limits.maxOutputBytesPerSecond (${bytesPerSecond(limit)}); stopped it. Aggregate in a map (e.g. @calls[comm] = count()) instead of printf() on a hot probe, or raise the limit`,
        }),
      );
    }
  }, 1000);
  rateTimer.unref();

  function fail(error: KtraceError): void {
    if (fatal !== undefined) return;
    fatal = error;
    status.error = error.message;
    log({ level: 'error', msg: error.message, code: error.code });
    void shutdown();
  }

  function onEvent(event: ParseEvent, run: Run): void {
    try {
      exporter.handle(event);
    } catch (error) {
      log({ level: 'warn', msg: 'exporter rejected an event', error: String(error) });
    }
    switch (event.type) {
      case 'map': {
        run.sawSample = true;
        status.samples++;
        status.lastDumpAt = Date.now();
        if (failedStarts > 0) failedStarts = 0;
        silenceWarned = false;
        if (status.state === 'starting' || status.state === 'restarting') {
          status.state = 'running';
          exporter.setUp(true);
          log({ level: 'info', msg: 'first map sample exported', map: event.name, pid: status.pid });
        }
        for (const s of subscribers) {
          s.queue.push(event);
          if (s.queue.length > 1000) s.queue.shift();
        }
        wakeAll();
        break;
      }
      case 'attached':
        status.attachedProbes = event.probes;
        if (status.state === 'starting' || status.state === 'restarting') {
          status.state = 'running';
          exporter.setUp(true);
        }
        log({ level: 'info', msg: 'bpftrace attached probes', probes: event.probes, pid: status.pid });
        break;
      case 'lost':
        status.lostEvents += event.events;
        log({ level: 'warn', msg: 'bpftrace lost events', events: event.events });
        break;
      case 'runtime-error':
        log({ level: 'warn', msg: `bpftrace runtime error: ${event.message}`, ...(event.line === undefined ? {} : { line: event.line }) });
        break;
      case 'problem':
        log({ level: 'warn', msg: `unreadable bpftrace output: ${event.reason}`, line: event.line, text: event.text });
        break;
      case 'text':
        if (textLogged < TEXT_LOG_PER_SECOND) {
          textLogged++;
          log({ level: 'info', msg: event.text.replace(/\n$/, ''), source: event.source });
        } else {
          textSuppressed++;
        }
        break;
    }
  }

  function launch(): void {
    const startedAt = Date.now();
    const child = spawn(checked.bpftracePath, args, {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C reaches ktrace only, which then stops bpftrace once, with SIGINT.
      detached: true,
    });
    const run: Run = {
      child,
      parser: undefined as unknown as OutputParser,
      startedAt,
      sawSample: false,
      stderrTail: [],
      exited: Promise.resolve(),
    };
    run.parser = new OutputParser({
      format: 'json',
      program: programInfo,
      maxLineLength: spec.limits.maxLineBytes,
      bpftraceVersion: checked.bpftraceVersion,
      onEvent: (event) => onEvent(event, run),
    });
    current = run;
    status.pid = child.pid;
    status.attachedProbes = undefined;
    log({ level: 'info', msg: 'bpftrace started', pid: child.pid, version: checked.bpftraceVersion, restarts: status.restarts });

    child.stdout?.on('data', (chunk: Buffer) => {
      status.outputBytes += chunk.length;
      bytesThisSecond += chunk.length;
      run.parser.write(chunk);
    });
    let stderrRest = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      const lines = (stderrRest + text).split('\n');
      stderrRest = lines.pop() ?? '';
      for (const line of lines) stderrLine(run, line);
    });
    run.exited = new Promise<void>((resolveExit) => {
      let spawnError: Error | undefined;
      child.on('error', (error) => {
        spawnError = error;
      });
      child.on('close', (code, signal) => {
        if (stderrRest !== '') stderrLine(run, stderrRest);
        run.parser.end();
        if (spawnError !== undefined && child.pid === undefined) {
          fail(
            new KtraceError({
              code: 'KTRACE_NO_BPFTRACE',
              message: `cannot start ${checked.bpftracePath}: ${spawnError.message}`,
              cause: spawnError,
            }),
          );
        }
        onExit(run, code, signal);
        resolveExit();
      });
    });
  }

  function stderrLine(run: Run, line: string): void {
    if (line.trim() === '') return;
    run.stderrTail.push(line);
    if (run.stderrTail.length > STDERR_TAIL) run.stderrTail.shift();
    if (isBenignStderr(line)) {
      log({ level: 'debug', msg: line, stream: 'bpftrace-stderr' });
      return;
    }
    const level: LogLevel = /\bERROR\b/.test(line) ? 'error' : /\bWARNING\b/.test(line) ? 'warn' : 'info';
    log({ level, msg: line, stream: 'bpftrace-stderr' });
  }

  function onExit(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    if (current === run) current = undefined;
    status.pid = undefined;
    exporter.setUp(false);
    log({ level: stopping ? 'info' : 'warn', msg: 'bpftrace exited', code, signal, ranMillis: Date.now() - run.startedAt });
    if (stopping || fatal !== undefined) return;
    if (code === 0 && signal === null) {
      // The program ended itself (exit()); its exit-time dump has been exported.
      stopReason = 'exited';
      void shutdown();
      return;
    }
    if (!run.sawSample && signal === null) {
      // Rejected the program or could not attach: fail fast with bpftrace's own words, no restart loop.
      fail(bpftraceFailure(spec.programSource, run.stderrTail, code, signal, spec.program));
      return;
    }
    if (!run.sawSample) failedStarts++;
    const maxFailed = options.maxFailedStarts ?? 5;
    if (failedStarts >= maxFailed) {
      fail(bpftraceFailure(spec.programSource, run.stderrTail, code, signal, spec.program));
      return;
    }
    const base = options.restartDelayMillis ?? 500;
    const delay = Math.min(options.maxRestartDelayMillis ?? 30_000, base * 2 ** failedStarts);
    status.state = 'restarting';
    status.restarts++;
    exporter.recordRestart();
    log({ level: 'warn', msg: 'restarting bpftrace', inMillis: delay, restarts: status.restarts });
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopping && fatal === undefined) launch();
    }, delay);
  }

  let shutdownPromise: Promise<TraceResult> | undefined;
  function shutdown(): Promise<TraceResult> {
    if (shutdownPromise !== undefined) return shutdownPromise;
    stopping = true;
    status.state = fatal === undefined ? 'stopping' : 'failed';
    shutdownPromise = (async () => {
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      clearInterval(rateTimer);
      if (durationTimer !== undefined) clearTimeout(durationTimer);
      const run = current;
      if (run !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
        // SIGINT: bpftrace prints every map once more as it exits, and that final dump is exported.
        run.child.kill('SIGINT');
        const stopTimeout = options.stopTimeoutMillis ?? 30_000;
        const timeout = setTimeout(() => {
          fail(
            new KtraceError({
              code: 'KTRACE_BPFTRACE_FAILED',
              message: `bpftrace did not exit within ${stopTimeout / 1000} s of SIGINT, so ktrace killed it: its final dump is lost, and the exported values are those of its last periodic print. A program that takes longer to end (a long END, many probes to detach) needs a longer stop timeout (ktrace run --stop-timeout, stopTimeoutMillis in the SDK)`,
            }),
          );
          // bpftrace leads its own process group (detached): take whatever it started with it.
          try {
            if (run.child.pid !== undefined) process.kill(-run.child.pid, 'SIGKILL');
          } catch {
            run.child.kill('SIGKILL');
          }
        }, stopTimeout);
        await run.exited;
        clearTimeout(timeout);
      }
      if (ownsExporter) {
        try {
          await exporter.shutdown();
        } catch (error) {
          log({ level: 'warn', msg: 'exporter shutdown failed', error: String(error) });
        }
      }
      removeSignalHandlers();
      finished = true;
      wakeAll();
      const result: TraceResult = { reason: stopReason, restarts: status.restarts };
      if (fatal !== undefined) {
        status.state = 'failed';
        rejectDone(fatal);
        throw fatal;
      }
      status.state = 'stopped';
      log({ level: 'info', msg: 'trace stopped', reason: stopReason, restarts: status.restarts, samples: status.samples });
      resolveDone(result);
      return result;
    })();
    shutdownPromise.catch(() => undefined);
    return shutdownPromise;
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    // `timeout` and terminals may deliver one signal twice (to the process and to its group): say it once.
    if (shutdownPromise === undefined) {
      log({ level: 'info', msg: `received ${signal}; stopping bpftrace with SIGINT to export its final dump` });
    }
    void shutdown();
  };
  function removeSignalHandlers(): void {
    if (options.handleSignals !== true) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (options.handleSignals === true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  if (options.durationMillis !== undefined) {
    durationTimer = setTimeout(() => {
      log({ level: 'info', msg: 'duration reached; stopping' });
      void shutdown();
    }, options.durationMillis);
  }

  launch();

  return {
    status: () => ({ ...status, exportedMaps: [...status.exportedMaps] }),
    samples: () => {
      const sub: { queue: MapSample[]; wake: (() => void) | undefined } = { queue: [], wake: undefined };
      subscribers.add(sub);
      const iterator: AsyncIterableIterator<MapSample> = {
        async next(): Promise<IteratorResult<MapSample>> {
          for (;;) {
            const sample = sub.queue.shift();
            if (sample !== undefined) return { value: sample, done: false };
            if (finished) {
              subscribers.delete(sub);
              return { value: undefined, done: true };
            }
            await new Promise<void>((wake) => {
              sub.wake = wake;
            });
          }
        },
        async return(): Promise<IteratorResult<MapSample>> {
          subscribers.delete(sub);
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
    exporter,
    program: instrumented,
    spec,
    stop: shutdown,
    done,
  };
}
