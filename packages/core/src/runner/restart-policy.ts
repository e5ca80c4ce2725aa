// When a bpftrace run that ended by itself is started again, after how long, and when ktrace gives up: a pure
// function of how the run ended and of the runs before it, so every rule is unit-tested without a process.

/** How one bpftrace run ended, as the supervisor saw it. */
export type RunEnd =
  | {
      kind: 'exited';
      code: number | null;
      signal: string | null;
      /** The run printed at least one map. */
      sawSample: boolean;
      ranMillis: number;
      /** The program can end itself (it calls exit()): a clean exit is then the program's own end. */
      programCanExit: boolean;
    }
  | {
      /** bpftrace could not be started at all (spawn failed with this errno code, e.g. ENOENT, EMFILE). */
      kind: 'spawn-failed';
      errno: string;
    };

export interface RestartPolicyOptions {
  /** Delay before the first restart after a healthy run. Default 500 ms. */
  initialDelayMillis?: number;
  /** The delay doubles per consecutive short run up to this. Default 30 s. */
  maxDelayMillis?: number;
  /** Consecutive runs that end before printing any map (or cannot be spawned) before ktrace gives up. Default 5. */
  maxFailedStarts?: number;
  /** A run that lasted this long was healthy: the backoff starts again from the initial delay. Default 60 s. */
  healthyRunMillis?: number;
}

/** What the policy remembers between runs. */
export interface RestartHistory {
  /** Consecutive runs shorter than healthyRunMillis (each doubles the delay). */
  shortRuns: number;
  /** Consecutive runs that printed no map, or could not be spawned (these lead to giving up). */
  failedStarts: number;
}

export type RestartDecision =
  /** Start bpftrace again after `delayMillis`. */
  | { action: 'restart'; delayMillis: number }
  /** The program ended itself (exit()): the trace is over, its exit-time dump exported. */
  | { action: 'finish' }
  /**
   * Do not restart: `rejected` — bpftrace exited by itself before printing a map (it rejected the program or could
   * not attach: its stderr says why); `not-runnable` — the binary cannot be executed (ENOENT, EACCES…);
   * `gave-up` — maxFailedStarts consecutive runs printed no map.
   */
  | { action: 'fail'; reason: 'rejected' | 'not-runnable' | 'gave-up' };

export const initialRestartHistory: RestartHistory = { shortRuns: 0, failedStarts: 0 };

/** Spawn errors that say nothing about the binary: the machine is short of something for a moment. */
const transientSpawnErrors: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'ENOMEM',
  'EBUSY',
  'ETXTBSY',
  'EINTR',
]);

export function isTransientSpawnError(errno: string): boolean {
  return transientSpawnErrors.has(errno);
}

/**
 * The rules:
 * - a clean exit (status 0, no signal) of a program that calls exit() finishes the trace; of one that does not,
 *   someone else stopped bpftrace (SIGTERM, SIGINT from outside): its exit-time dump counted, it is restarted;
 * - a spawn failure that is transient (EMFILE, EAGAIN…) is retried; any other (ENOENT, EACCES) fails at once;
 * - a run that exits by itself (not killed by a signal) before printing any map fails at once with bpftrace's words
 *   (it rejected the program or could not attach: restarting cannot help);
 * - otherwise it is restarted after `initial × 2^(n-1)` capped at the max, n counting consecutive runs shorter than
 *   healthyRunMillis: a bpftrace that dies after every print backs off 0.5, 1, 2, 4 … 30 s;
 * - after maxFailedStarts consecutive runs without a map (killed before their first print, or not spawned), ktrace
 *   gives up. A run that prints is never given up on: its data flows between the crashes.
 */
export function decideRestart(
  history: RestartHistory,
  end: RunEnd,
  options: RestartPolicyOptions = {},
): { decision: RestartDecision; history: RestartHistory } {
  const initial = options.initialDelayMillis ?? 500;
  const max = options.maxDelayMillis ?? 30_000;
  const maxFailedStarts = options.maxFailedStarts ?? 5;
  const healthy = options.healthyRunMillis ?? 60_000;

  let failedStarts: number;
  let shortRuns: number;
  if (end.kind === 'spawn-failed') {
    if (!isTransientSpawnError(end.errno)) return { decision: { action: 'fail', reason: 'not-runnable' }, history };
    failedStarts = history.failedStarts + 1;
    shortRuns = history.shortRuns + 1;
  } else {
    const clean = end.code === 0 && end.signal === null;
    if (clean && end.programCanExit) return { decision: { action: 'finish' }, history };
    if (!clean && !end.sawSample && end.signal === null)
      return { decision: { action: 'fail', reason: 'rejected' }, history };
    failedStarts = end.sawSample ? 0 : history.failedStarts + 1;
    shortRuns = end.ranMillis >= healthy ? 1 : history.shortRuns + 1;
  }
  const next: RestartHistory = { shortRuns, failedStarts };
  if (failedStarts >= maxFailedStarts) return { decision: { action: 'fail', reason: 'gave-up' }, history: next };
  const delayMillis = Math.min(max, initial * 2 ** Math.max(0, shortRuns - 1));
  return { decision: { action: 'restart', delayMillis }, history: next };
}
