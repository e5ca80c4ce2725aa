// `ktrace logs NAME [-f]`: a one-shot trace's output read back from its pods' logs (followed with -f until the
// trace ends), drawn as maps or NDJSON samples with -o json; once the pods are gone, the final dump saved then.
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';

interface LogsOptions extends ClusterOptions {
  follow?: boolean;
  output?: string;
}

export function defineLogs(command: Command): void {
  addClusterOptions(
    command
      .argument('<name>', 'the trace (ktrace get lists them)')
      .option('-f, --follow', 'follow the output until the trace ends (Ctrl-C leaves; the trace keeps running)')
      .option('-o, --output <format>', 'json: one NDJSON sample per line, with its node'),
  ).action(async (name: string, options: LogsOptions) => {
    if (options.output !== undefined && options.output !== 'json')
      throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: `-o must be json, not "${options.output}"` });
    const { listOneShotReports } = await import('@ktrace/core/kubernetes');
    const { showOneShotOutput } = await import('../one-shot-view.js');
    const client = await kubeClientFor(options);
    const [report] = await listOneShotReports(client, name);
    if (report === undefined)
      throw new KtraceError({
        code: 'KTRACE_NOT_FOUND',
        message: `no one-shot trace ${name} in namespace ${client.namespace} (ktrace get lists them)`,
      });
    const status = await showOneShotOutput(client, report.jobs, {
      json: options.output === 'json',
      follow: options.follow === true,
      stopOnInterrupt: false,
      stopWaitMillis: 0,
    });
    process.exit(status);
  });
}
