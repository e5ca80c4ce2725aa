// The kubectl-like options every cluster verb takes (--kubeconfig, --context, -n/--namespace, --request-timeout)
// and the one way they become a KubeClient, or only a namespace when a --dry-run must contact no server. The
// Kubernetes client loads only then, in the action: defining the options for --help loads nothing of it.
import type { KubeClient, KubeConnectionOptions } from '@ktrace/core/kubernetes';
import { isKtraceError } from '@ktrace/parser';
import type { Command } from 'commander';

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
}

export function addClusterOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'the kubeconfig to use (default: KUBECONFIG, else ~/.kube/config, else in-cluster)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option(
      '-n, --namespace <namespace>',
      "ktrace's namespace (default: POD_NAMESPACE, else the context's, else default)",
    )
    .option('--request-timeout <duration>', 'give up on an API request after this long (default 15s)');
}

async function connection(options: ClusterOptions): Promise<KubeConnectionOptions> {
  const { parseDuration } = await import('@ktrace/core');
  return {
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.requestTimeout === undefined
      ? {}
      : { requestTimeoutMillis: parseDuration(options.requestTimeout, '--request-timeout') }),
  };
}

export async function kubeClientFor(options: ClusterOptions): Promise<KubeClient> {
  const { createKubeClient } = await import('@ktrace/core/kubernetes');
  return createKubeClient(await connection(options));
}

/** The namespace a command would use, reading the kubeconfig if there is one, never contacting a server. */
export async function namespaceFor(options: ClusterOptions): Promise<string> {
  const { loadKubeConfig } = await import('@ktrace/core/kubernetes');
  try {
    return loadKubeConfig(await connection(options)).namespace;
  } catch (error) {
    if (
      isKtraceError(error) &&
      error.code === 'KTRACE_KUBECONFIG' &&
      options.kubeconfig === undefined &&
      options.context === undefined
    ) {
      return options.namespace ?? process.env['POD_NAMESPACE'] ?? 'default';
    }
    throw error;
  }
}
