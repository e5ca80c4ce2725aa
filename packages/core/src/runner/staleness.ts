// Whether a running bpftrace has gone quiet, and what its silence means: stalled (stopped by SIGSTOP, or silent
// after it printed its maps every interval) or not yet fired (its maps are still empty). Pure: the caller brings
// the clock and the process state.
import type { ProcessState } from './bpftrace-process.js';

export interface SilenceInput {
  now: number;
  runStartedAt: number;
  /** The last map printed by this run, if any. */
  lastDumpAt: number | undefined;
  intervalMillis: number;
  /** Maps ktrace prints every interval (empty: the program prints on its own schedule, and silence says nothing). */
  printedByKtrace: readonly string[];
  /** The program clears maps it exports: after a print, an empty map prints nothing again, legitimately. */
  mapsCanEmpty: boolean;
  processState: ProcessState;
  pid: number | undefined;
}

export type Silence =
  | { kind: 'none' }
  /** bpftrace does not print what it must: /healthz and ktrace_up say so. */
  | { kind: 'stalled'; message: string }
  /** bpftrace runs but its maps have never been printed: their probes have not fired. */
  | { kind: 'empty'; message: string };

/** How long without a map dump counts as silence: three intervals, plus 2 s for a busy machine. */
export function silenceThresholdMillis(intervalMillis: number): number {
  return 3 * intervalMillis + 2000;
}

export function judgeSilence(input: SilenceInput): Silence {
  if (input.processState === 'gone') return { kind: 'none' };
  const since = input.now - (input.lastDumpAt ?? input.runStartedAt);
  const seconds = Math.round(since / 1000);
  if (since <= silenceThresholdMillis(input.intervalMillis)) return { kind: 'none' };
  const who = `bpftrace${input.pid === undefined ? '' : ` (pid ${input.pid})`}`;
  if (input.processState === 'stopped') {
    return {
      kind: 'stalled',
      message: `${who} is stopped (SIGSTOP or a debugger) and has printed no map for ${seconds} s: the exported values are not moving; it goes on with SIGCONT`,
    };
  }
  if (input.printedByKtrace.length === 0) return { kind: 'none' };
  if (input.lastDumpAt !== undefined && !input.mapsCanEmpty) {
    return {
      kind: 'stalled',
      message: `${who} has printed no map for ${seconds} s though ktrace asks for ${input.printedByKtrace.join(', ')} every ${input.intervalMillis / 1000} s and it printed them before: it is stuck (overloaded, or blocked on its output); the exported values are not moving`,
    };
  }
  if (input.lastDumpAt !== undefined) return { kind: 'none' };
  return {
    kind: 'empty',
    message: `bpftrace has printed no map for ${seconds} s: the exported maps (${input.printedByKtrace.join(', ')}) are still empty, so their probes have not fired; check that the probes match this workload (bpftrace -l 'PATTERN'), or wait for activity`,
  };
}
