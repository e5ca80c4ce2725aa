// `ktrace apply -f trace.yaml|prog.bt`: makes a Trace from the file and the flags, and creates or updates it in the
// cluster by server-side apply; with --dry-run prints the ConfigMap it would apply and contacts no server.
import { KtraceError } from '@ktrace/parser';
import type { Command } from 'commander';
import { addClusterOptions, kubeClientFor, namespaceFor } from '../cluster-options.js';
import type { ClusterOptions } from '../cluster-options.js';

interface ApplyOptions extends ClusterOptions {
  file?: string;
  name?: string;
  nodes?: string;
  pods?: string;
  podNamespaces?: string;
  interval?: string;
  dryRun?: boolean;
  output?: string;
}

/** -o: yaml or json (kubectl's names). */
export function outputFormat(value: string | undefined): 'yaml' | 'json' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'yaml' && value !== 'json')
    throw new KtraceError({ code: 'KTRACE_BAD_OPTION', message: `-o must be yaml or json, not "${value}"` });
  return value;
}

/** The object as -o asks; yaml loads here, not with the command's options. */
export async function render(object: unknown, format: 'yaml' | 'json'): Promise<string> {
  if (format === 'json') return `${JSON.stringify(object, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(object, { lineWidth: 0 });
}

export function defineApply(command: Command): void {
  addClusterOptions(
    command
      .option('-f, --file <file>', 'a Trace document, a trace spec (trace.yaml) or a bpftrace program (prog.bt)')
      .option('--name <name>', "the trace name (default: the document's, else the file name)")
      .option(
        '--nodes <selector>',
        'run on nodes whose labels match this selector, e.g. kubernetes.io/os=linux,pool in (a,b)',
      )
      .option('--pods <selector>', 'trace only pods whose labels match this selector')
      .option('--pod-namespaces <selector>', 'trace only pods in namespaces whose labels match this selector')
      .option('--interval <duration>', 'how often maps are printed and exported')
      .option('--dry-run', 'print what would be applied; contact no server')
      .option('-o, --output <format>', 'print the object as yaml or json'),
  ).action(async (options: ApplyOptions) => {
    if (options.file === undefined)
      throw new KtraceError({
        code: 'KTRACE_BAD_OPTION',
        message: 'ktrace apply needs -f FILE: a trace.yaml or a prog.bt',
      });
    const format = outputFormat(options.output);
    const { applyTrace, parseLabelSelector, traceConfigMap, traceFromFile } = await import('@ktrace/core/kubernetes');
    const trace = traceFromFile(options.file, {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.nodes === undefined ? {} : { nodeSelector: parseLabelSelector(options.nodes, '--nodes') }),
      ...(options.pods === undefined ? {} : { podSelector: parseLabelSelector(options.pods, '--pods') }),
      ...(options.podNamespaces === undefined
        ? {}
        : { namespaceSelector: parseLabelSelector(options.podNamespaces, '--pod-namespaces') }),
      ...(options.interval === undefined ? {} : { interval: options.interval }),
    });
    if (options.dryRun === true) {
      process.stdout.write(await render(traceConfigMap(trace, await namespaceFor(options)), format ?? 'yaml'));
      return;
    }
    const client = await kubeClientFor(options);
    const applied = await applyTrace(client, trace);
    if (format !== undefined) process.stdout.write(await render(applied, format));
    else
      process.stdout.write(
        `trace/${trace.name} applied (configmap ${client.namespace}/${applied.metadata?.name ?? '?'})\n`,
      );
  });
}
