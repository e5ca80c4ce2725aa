// The signals that end a trace started with handleSignals: every signal whose default action would kill ktrace
// and leave bpftrace attached (closing a terminal or losing ssh sends SIGHUP) takes the SIGINT path instead.

export const terminatingSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** Calls `handler` on any terminating signal of this process until the returned function is called. */
export function onTerminatingSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const signal of terminatingSignals) process.on(signal, handler);
  return () => {
    for (const signal of terminatingSignals) process.off(signal, handler);
  };
}
