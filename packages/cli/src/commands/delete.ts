// `ktrace delete NAME|--all`: removes traces from the cluster; every agent stops them (final dump exported).
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';

interface DeleteOptions extends ClusterOptions {
  all?: boolean;
}

export function defineDelete(command: Command): void {
  addClusterOptions(
    command.argument('[name]', 'the trace to delete').option('--all', 'delete every trace in the namespace'),
  ).action(async (name: string | undefined, options: DeleteOptions) => {
    if ((name === undefined) === (options.all !== true)) {
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: 'ktrace delete needs a trace NAME or --all (not both)',
      });
    }
    const { deleteAllTraces, deleteOneShotTraces, deleteTrace } = await import('@ktrace/core/kubernetes');
    const client = await kubeClientFor(options);
    // One-shot traces (Jobs, pods, ConfigMaps) first: a NAME that is one of them needs no continuous trace.
    const oneShots = await deleteOneShotTraces(client, name);
    const names =
      name === undefined
        ? [...oneShots, ...(await deleteAllTraces(client))]
        : oneShots.length > 0
          ? oneShots
          : (await deleteTrace(client, name), [name]);
    if (names.length === 0) process.stdout.write(`no traces in namespace ${client.namespace}\n`);
    for (const deleted of names) process.stdout.write(`trace/${deleted} deleted\n`);
  });
}
