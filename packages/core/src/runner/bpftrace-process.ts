// One bpftrace process: spawned without a shell in its own process group, the program written to its stdin (no
// argv size limit, no NUL-byte crash), stdout passed on as chunks and stderr as lines; stopped with SIGINT (so it
// prints its final dump), and killed with its whole process group when it does not exit in time.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface BpftraceProcessOptions {
  path: string;
  /** bpftrace's options; the program is given on stdin (`-`), which this adds. */
  args: readonly string[];
  program: string;
  env: NodeJS.ProcessEnv;
  onStdout: (chunk: Buffer) => void;
  onStderrLine: (line: string) => void;
}

export interface BpftraceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started; `errno` is e.g. ENOENT, EACCES, EMFILE. */
  spawnError?: { errno: string; message: string };
}

/** What /proc says the process is doing: `stopped` under SIGSTOP or a debugger. */
export type ProcessState = 'running' | 'stopped' | 'gone';

export class BpftraceProcess {
  readonly pid: number | undefined;
  readonly startedAt = Date.now();
  /** Resolves once bpftrace has exited and its output has been read to the end. */
  readonly exited: Promise<BpftraceExit>;
  private readonly child: ChildProcess | undefined;
  private ended = false;

  constructor(options: BpftraceProcessOptions) {
    let child: ChildProcess | undefined;
    let syncError: NodeJS.ErrnoException | undefined;
    try {
      child = spawn(options.path, [...options.args, '-'], {
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a terminal's Ctrl-C reaches ktrace only, which then stops bpftrace once, with SIGINT.
        detached: true,
      });
    } catch (error) {
      syncError = error as NodeJS.ErrnoException;
    }
    this.child = child;
    this.pid = child?.pid;
    if (child === undefined) {
      this.ended = true;
      this.exited = Promise.resolve({ code: null, signal: null, spawnError: spawnErrorOf(syncError) });
      return;
    }
    // bpftrace reads the whole program before it starts; a bpftrace that exits early leaves EPIPE here, which its
    // exit status and stderr explain better.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.program);
    child.stdout?.on('data', (chunk: Buffer) => options.onStdout(chunk));
    let stderrRest = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      const lines = (stderrRest + text).split('\n');
      stderrRest = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine(line);
    });
    this.exited = new Promise<BpftraceExit>((resolve) => {
      let spawnError: NodeJS.ErrnoException | undefined;
      child.on('error', (error: NodeJS.ErrnoException) => {
        spawnError = error;
      });
      child.on('close', (code, signal) => {
        this.ended = true;
        if (stderrRest !== '') options.onStderrLine(stderrRest);
        if (spawnError !== undefined && child.pid === undefined)
          resolve({ code: null, signal: null, spawnError: spawnErrorOf(spawnError) });
        else resolve({ code, signal });
      });
    });
  }

  /** Still running (not exited, or exited with its output not read to the end yet). */
  get running(): boolean {
    return !this.ended && this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGINT: bpftrace prints every map once more as it exits. */
  interrupt(): void {
    if (this.running) this.child?.kill('SIGINT');
  }

  /** SIGKILL to bpftrace's whole process group (it leads it), so nothing it started stays behind. */
  killGroup(): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child?.kill('SIGKILL');
    }
  }

  /**
   * Stops bpftrace: SIGINT, then, past `timeoutMillis`, SIGKILL to its group. `interrupted`: it exited by itself
   * after SIGINT (its final dump was printed); `killed`: it had to be killed (the final dump is lost).
   */
  async stop(timeoutMillis: number, onTimeout?: () => void): Promise<'interrupted' | 'killed' | 'not-running'> {
    if (!this.running) {
      await this.exited;
      return 'not-running';
    }
    // A stopped (SIGSTOP) bpftrace cannot act on SIGINT until it runs again.
    if (this.state() === 'stopped') this.signal('SIGCONT');
    this.interrupt();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      onTimeout?.();
      this.killGroup();
    }, timeoutMillis);
    await this.exited;
    clearTimeout(timer);
    return killed ? 'killed' : 'interrupted';
  }

  /** From /proc/PID/stat: whether the process runs, is stopped (T, t), or is gone. */
  state(): ProcessState {
    if (this.pid === undefined || !this.running) return 'gone';
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const code = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (code === 'T' || code === 't') return 'stopped';
      if (code === 'Z' || code === 'X') return 'gone';
      return 'running';
    } catch {
      return 'gone';
    }
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child?.kill(signal);
    } catch {
      // gone meanwhile
    }
  }
}

function spawnErrorOf(error: NodeJS.ErrnoException | undefined): { errno: string; message: string } {
  return { errno: error?.code ?? 'UNKNOWN', message: error?.message ?? 'spawn failed' };
}
