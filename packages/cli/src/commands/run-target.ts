// Whether `ktrace run …` names a cluster TARGET (node/…, pod/…, deploy/…) or runs locally: decided before either
// command is defined, from @ktrace/core's one-shot-target rules alone, so a local `run` never loads the cluster client.
import { looksLikeOneShotTarget } from '@ktrace/core/one-shot-target';

/** Options of either `run` that take a value: their values are not TARGETs. */
const valueOptions = new Set(
  '-e --program -f --file --spec --interval --listen --otlp-endpoint --duration --stop-timeout --bpftrace --prefix -o --output --name --image --target-namespace --start-timeout --keep --privileges -n --namespace --kubeconfig --context --request-timeout --max-line-bytes --max-series-per-map --max-series --log-format --target-pod'.split(
    ' ',
  ),
);

/** Whether the command line is `ktrace run … TARGET …` (a cluster target), not a local run. */
export function isRemoteRun(args: readonly string[]): boolean {
  if (args[0] !== 'run') return false;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') return looksLikeOneShotTarget(args[i + 1] ?? '');
    if (arg.startsWith('-')) {
      if (valueOptions.has(arg)) i++;
      continue;
    }
    return looksLikeOneShotTarget(arg);
  }
  return false;
}
