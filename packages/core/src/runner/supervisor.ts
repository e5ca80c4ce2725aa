// The supervisor of one trace: starts bpftrace runs, feeds their output through the parser into the exporter,
// asks the restart policy what to do when a run ends, watches output limits and silence once a second, and stops
// with SIGINT so the final dump counts. Holds no process-wide state: many traces can run in one process.
import type { Exporter } from '@ktrace/exporter';
import { KtraceError } from '@ktrace/parser';
import type { ParseEvent } from '@ktrace/parser';
import type { TraceSpec } from '../trace-spec.js';
import type { BpftraceExit } from './bpftrace-process.js';
import { BpftraceRun } from './bpftrace-run.js';
import { OutputRate, TextLogLimit } from './output-limits.js';
import { decideRestart, initialRestartHistory } from './restart-policy.js';
import type { RestartHistory, RestartPolicyOptions, RunEnd } from './restart-policy.js';
import { SampleStream } from './sample-stream.js';
import { judgeSilence } from './staleness.js';
import { otlpDeliveryNote, stderrRecord } from './trace-log.js';
import type { LogSink, OtlpDeliveryNote } from './trace-log.js';
import {
  cannotStartMessage,
  noProgramProbesAttached,
  programWhere,
  runFailure,
  stopTimedOut,
} from './trace-failures.js';
import type { TracePlan } from './trace-plan.js';
import type { TraceResult, TraceStatus } from './trace-status.js';

export interface SupervisorOptions {
  spec: TraceSpec;
  plan: TracePlan;
  bpftracePath: string;
  bpftraceVersion: string;
  /** bpftrace's environment (the caller's, plus the spec's allowed variables). */
  env: NodeJS.ProcessEnv;
  /** bpftrace's options before the program (flags, -I dirs, -f json). */
  args: string[];
  exporter: Exporter;
  /** Shut the exporter down at the end (ktrace created it). */
  ownsExporter: boolean;
  metricsUrl: string | undefined;
  log: LogSink;
  policy: RestartPolicyOptions;
  stopTimeoutMillis: number;
  durationMillis?: number;
}

export class TraceSupervisor {
  readonly status: TraceStatus;
  readonly samples = new SampleStream();
  readonly done: Promise<TraceResult>;
  private resolveDone!: (result: TraceResult) => void;
  private rejectDone!: (error: unknown) => void;
  private current: BpftraceRun | undefined;
  private history: RestartHistory = initialRestartHistory;
  private stopping = false;
  private stopReason: TraceResult['reason'] = 'stopped';
  private fatal: KtraceError | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly rate: OutputRate;
  private readonly textLimit = new TextLogLimit();
  private shutdownPromise: Promise<TraceResult> | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.status = {
      state: 'starting',
      pid: undefined,
      restarts: 0,
      bpftracePath: options.bpftracePath,
      bpftraceVersion: options.bpftraceVersion,
      attachedProbes: undefined,
      samples: 0,
      lastDumpAt: undefined,
      lostEvents: 0,
      outputBytes: 0,
      exportedMaps: options.plan.instrumented.exported,
      metricsUrl: options.metricsUrl,
      stalled: undefined,
      error: undefined,
    };
    this.rate = new OutputRate(options.spec.limits.maxOutputBytesPerSecond);
    this.done = new Promise<TraceResult>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only awaits stop() must not see an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Launches the first run, the once-a-second watch and the duration timer. */
  start(): void {
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.tickTimer.unref();
    if (this.options.durationMillis !== undefined) {
      this.durationTimer = setTimeout(() => {
        this.options.log({ level: 'info', msg: 'duration reached; stopping' });
        void this.stop();
      }, this.options.durationMillis);
    }
    this.launch();
  }

  /** Stops bpftrace with SIGINT, exports its final dump, shuts the exporter down (if owned). */
  stop(): Promise<TraceResult> {
    return this.shutdown();
  }

  get plan(): TracePlan {
    return this.options.plan;
  }

  /** Whether stop() has begun (a second signal need not be announced again). */
  get stopRequested(): boolean {
    return this.shutdownPromise !== undefined;
  }

  private get log(): LogSink {
    return this.options.log;
  }

  private launch(): void {
    const { spec, plan } = this.options;
    const run: BpftraceRun = new BpftraceRun({
      path: this.options.bpftracePath,
      args: this.options.args,
      program: plan.instrumented.source,
      env: this.options.env,
      programInfo: plan.programInfo,
      bpftraceVersion: this.options.bpftraceVersion,
      maxLineBytes: spec.limits.maxLineBytes,
      onEvent: (event) => this.onEvent(event, run),
      onStdout: (bytes) => {
        this.status.outputBytes += bytes;
        this.rate.add(bytes);
      },
      onStderrLine: (line) => this.log(stderrRecord(line)),
    });
    this.current = run;
    this.status.pid = run.process.pid;
    this.status.attachedProbes = undefined;
    if (run.process.pid !== undefined) {
      this.log({
        level: 'info',
        msg: 'bpftrace started',
        pid: run.process.pid,
        version: this.options.bpftraceVersion,
        restarts: this.status.restarts,
      });
    }
    void run.exited.then((exit) => this.onExit(run, exit));
  }

  private onEvent(event: ParseEvent, run: BpftraceRun): void {
    const { exporter } = this.options;
    try {
      exporter.handle(event);
    } catch (error) {
      this.log({ level: 'warn', msg: 'exporter rejected an event', error: String(error) });
    }
    switch (event.type) {
      case 'map': {
        const now = Date.now();
        run.noteDump(now);
        this.status.samples++;
        this.status.lastDumpAt = now;
        if (this.status.stalled !== undefined) this.recover();
        if (this.status.state === 'starting' || this.status.state === 'restarting') {
          this.status.state = 'running';
          exporter.setUp(true);
          this.log({ level: 'info', msg: 'first map sample exported', map: event.name, pid: this.status.pid });
        }
        this.samples.push(event);
        break;
      }
      case 'attached': {
        this.status.attachedProbes = event.probes;
        const added = this.options.plan.instrumented.addedProbes;
        if (event.probes <= added && !this.stopping) {
          const where = programWhere(this.options.spec);
          this.fail(noProgramProbesAttached(where, this.options.plan.instrumented.probes, added));
          break;
        }
        // The exporter takes bpftrace as up from this event itself.
        if (this.status.state === 'starting' || this.status.state === 'restarting') this.status.state = 'running';
        this.log({ level: 'info', msg: 'bpftrace attached probes', probes: event.probes, pid: this.status.pid });
        break;
      }
      case 'lost':
        this.status.lostEvents += event.events;
        this.log({ level: 'warn', msg: 'bpftrace lost events', events: event.events });
        break;
      case 'runtime-error':
        this.log({
          level: 'warn',
          msg: `bpftrace runtime error: ${event.message}`,
          ...(event.line === undefined ? {} : { line: event.line }),
        });
        break;
      case 'problem':
        this.log({
          level: 'warn',
          msg: `unreadable bpftrace output: ${event.reason}`,
          line: event.line,
          text: event.text,
        });
        break;
      case 'text':
        if (this.textLimit.admit())
          this.log({ level: 'info', msg: event.text.replace(/\n$/, ''), source: event.source });
        break;
    }
  }

  private onExit(run: BpftraceRun, exit: BpftraceExit): void {
    const { exporter, spec } = this.options;
    if (this.current === run) this.current = undefined;
    this.status.pid = undefined;
    this.status.stalled = undefined;
    exporter.setUp(
      false,
      this.stopping ? 'ktrace is stopping' : 'bpftrace is not running (it exited; see ktrace_bpftrace_restarts_total)',
    );
    const ranMillis = Date.now() - run.process.startedAt;
    if (exit.spawnError === undefined) {
      this.log({
        level: this.stopping ? 'info' : 'warn',
        msg: 'bpftrace exited',
        code: exit.code,
        signal: exit.signal,
        ranMillis,
      });
    }
    if (this.stopping || this.fatal !== undefined) return;
    const end: RunEnd =
      exit.spawnError !== undefined
        ? { kind: 'spawn-failed', errno: exit.spawnError.errno }
        : {
            kind: 'exited',
            code: exit.code,
            signal: exit.signal,
            sawSample: run.sawSample,
            ranMillis,
            programCanExit: this.options.plan.instrumented.callsExit,
          };
    const { decision, history } = decideRestart(this.history, end, this.options.policy);
    this.history = history;
    const cannotStart =
      exit.spawnError === undefined ? undefined : cannotStartMessage(this.options.bpftracePath, exit.spawnError);
    switch (decision.action) {
      case 'finish':
        // The program ended itself (exit()); its exit-time dump has been exported.
        this.stopReason = 'exited';
        void this.shutdown();
        return;
      case 'fail':
        this.fail(
          runFailure({
            spec,
            bpftracePath: this.options.bpftracePath,
            exit,
            stderrTail: run.stderrTail,
            reason: decision.reason,
            failedStarts: history.failedStarts,
          }),
        );
        return;
      case 'restart':
        this.status.state = 'restarting';
        this.status.restarts++;
        exporter.recordRestart();
        this.log({
          level: 'warn',
          msg: cannotStart === undefined ? 'restarting bpftrace' : `${cannotStart}; retrying`,
          inMillis: decision.delayMillis,
          restarts: this.status.restarts,
        });
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          if (!this.stopping && this.fatal === undefined) this.launch();
        }, decision.delayMillis);
        return;
    }
  }

  /** Once a second: output rate, text lines not logged, and what bpftrace's silence means. */
  private tick(): void {
    const suppressed = this.textLimit.tick();
    if (suppressed > 0)
      this.log({ level: 'info', msg: 'bpftrace output lines not logged (rate limit)', lines: suppressed });
    const flood = this.rate.tick();
    if (flood !== undefined && this.current !== undefined && this.fatal === undefined) {
      this.fail(new KtraceError({ code: 'KTRACE_OUTPUT_LIMIT', message: flood }));
      return;
    }
    const run = this.current;
    if (run === undefined || this.stopping) return;
    const { plan, spec } = this.options;
    const silence = judgeSilence({
      now: Date.now(),
      runStartedAt: run.process.startedAt,
      lastDumpAt: run.lastDumpAt,
      intervalMillis: spec.intervalMillis,
      printedByKtrace: plan.instrumented.printedByKtrace,
      mapsCanEmpty: plan.deltaMaps.length > 0 || plan.clearedApart.length > 0,
      processState: run.process.state(),
      pid: run.process.pid,
    });
    if (silence.kind === 'stalled') {
      if (this.status.stalled === undefined) {
        this.status.stalled = silence.message;
        this.options.exporter.setUp(false, `stalled: ${silence.message}`);
        this.log({ level: 'warn', msg: silence.message, pid: run.process.pid });
      }
      return;
    }
    if (this.status.stalled !== undefined) this.recover();
    if (silence.kind === 'empty' && !run.silenceWarned) {
      run.silenceWarned = true;
      this.log({ level: 'warn', msg: silence.message });
    }
  }

  private recover(): void {
    this.status.stalled = undefined;
    this.options.exporter.setUp(true);
    this.log({ level: 'info', msg: 'bpftrace is running again', pid: this.status.pid });
  }

  private fail(error: KtraceError): void {
    if (this.fatal !== undefined) return;
    this.fatal = error;
    this.status.error = error.message;
    this.log({ level: 'error', msg: error.message, code: error.code });
    void this.shutdown();
  }

  private shutdown(): Promise<TraceResult> {
    if (this.shutdownPromise !== undefined) return this.shutdownPromise;
    this.stopping = true;
    this.status.state = this.fatal === undefined ? 'stopping' : 'failed';
    this.shutdownPromise = this.finish();
    this.shutdownPromise.catch(() => undefined);
    return this.shutdownPromise;
  }

  private async finish(): Promise<TraceResult> {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    const run = this.current;
    if (run !== undefined) {
      const timeout = this.options.stopTimeoutMillis;
      await run.process.stop(timeout, () => this.fail(stopTimedOut(timeout)));
    }
    let otlpNote: OtlpDeliveryNote | undefined;
    if (this.options.ownsExporter) {
      try {
        otlpNote = otlpDeliveryNote((await this.options.exporter.shutdown()).otlp);
      } catch (error) {
        this.log({ level: 'warn', msg: 'exporter shutdown failed', error: String(error) });
      }
    }
    this.samples.end();
    const result: TraceResult = { reason: this.stopReason, restarts: this.status.restarts };
    if (this.fatal !== undefined) {
      if (otlpNote !== undefined) this.log({ level: otlpNote.level, msg: otlpNote.text, otlp: otlpNote.otlp });
      this.status.state = 'failed';
      this.rejectDone(this.fatal);
      throw this.fatal;
    }
    this.status.state = 'stopped';
    // The last line says whether the final dump reached the collector, when there is one.
    this.log({
      level: otlpNote?.level ?? 'info',
      msg: otlpNote === undefined ? 'trace stopped' : `trace stopped; ${otlpNote.text}`,
      reason: this.stopReason,
      restarts: this.status.restarts,
      samples: this.status.samples,
      ...(otlpNote === undefined ? {} : { otlp: otlpNote.otlp }),
    });
    this.resolveDone(result);
    return result;
  }
}
