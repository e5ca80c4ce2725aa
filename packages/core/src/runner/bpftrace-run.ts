// One run of a trace's bpftrace: the process, the parser reading its stdout, and what the run has shown so far (a
// map, when it last dumped, its last stderr lines), which the restart policy, the silence judge and failure
// messages read. A restart is a new run; nothing here outlives its process.
import { OutputParser } from '@ktrace/parser';
import type { ParseEvent, ProgramInfo } from '@ktrace/parser';
import { BpftraceProcess } from './bpftrace-process.js';
import type { BpftraceExit } from './bpftrace-process.js';

/** bpftrace's last stderr lines kept per run, for the failure message. */
const STDERR_TAIL = 40;

export interface BpftraceRunOptions {
  path: string;
  /** bpftrace's options before the program. */
  args: string[];
  program: string;
  env: NodeJS.ProcessEnv;
  programInfo: ProgramInfo;
  bpftraceVersion: string;
  maxLineBytes: number;
  onEvent: (event: ParseEvent) => void;
  onStdout: (bytes: number) => void;
  /** A non-blank stderr line. */
  onStderrLine: (line: string) => void;
}

export class BpftraceRun {
  readonly process: BpftraceProcess;
  /** Resolves once bpftrace has exited and all its output has been parsed. */
  readonly exited: Promise<BpftraceExit>;
  private readonly parser: OutputParser;
  private readonly tail: string[] = [];
  private dumped = false;
  private lastDump: number | undefined;
  /** Whether the "no map printed yet" warning was logged for this run. */
  silenceWarned = false;

  constructor(options: BpftraceRunOptions) {
    this.parser = new OutputParser({
      format: 'json',
      program: options.programInfo,
      maxLineLength: options.maxLineBytes,
      bpftraceVersion: options.bpftraceVersion,
      onEvent: options.onEvent,
    });
    this.process = new BpftraceProcess({
      path: options.path,
      args: options.args,
      program: options.program,
      env: options.env,
      onStdout: (chunk) => {
        options.onStdout(chunk.length);
        this.parser.write(chunk);
      },
      onStderrLine: (line) => {
        if (line.trim() === '') return;
        this.tail.push(line);
        if (this.tail.length > STDERR_TAIL) this.tail.shift();
        options.onStderrLine(line);
      },
    });
    this.exited = this.process.exited.then((exit) => {
      this.parser.end();
      return exit;
    });
  }

  /** A map sample arrived now. */
  noteDump(now: number): void {
    this.dumped = true;
    this.lastDump = now;
  }

  /** The run printed at least one map. */
  get sawSample(): boolean {
    return this.dumped;
  }

  get lastDumpAt(): number | undefined {
    return this.lastDump;
  }

  get stderrTail(): readonly string[] {
    return this.tail;
  }
}
