// `ktrace install` and `ktrace uninstall` against a cluster: server-side apply of the generated install in order
// (field manager ktrace, so running again updates in place), and removal of it and of everything ktrace left in
// its namespace (Trace documents, one-shot Jobs and programs, node status Leases).
import type { KubernetesObject } from '@kubernetes/client-node';
import { isKtraceError, KtraceError } from '@ktrace/parser';
import type { ApiCall, KubeClient } from './kube-client.js';
import { installManifests, uninstallOrder } from './manifests/install.js';
import { installSelector } from './manifests/labels.js';
import { resolveInstallOptions } from './manifests/options.js';
import type { InstallOptions } from './manifests/options.js';

/** kubectl's name for an object in messages: `daemonset.apps/ktrace-agent`, `namespace/ktrace`. */
export function objectRef(object: KubernetesObject): string {
  const group = object.apiVersion?.includes('/') === true ? `.${object.apiVersion.split('/')[0]}` : '';
  return `${(object.kind ?? 'object').toLowerCase()}${group}/${object.metadata?.name ?? ''}`;
}

function plural(kind: string, apiVersion: string): string {
  const group = apiVersion.includes('/') ? `.${apiVersion.split('/')[0]}` : '';
  return `${kind.toLowerCase()}${kind.endsWith('s') ? 'es' : 's'}${group}`;
}

function callFor(verb: ApiCall['verb'], object: KubernetesObject): ApiCall {
  return {
    verb,
    resource: plural(object.kind ?? 'object', object.apiVersion ?? 'v1'),
    ...(object.metadata?.name === undefined ? {} : { name: object.metadata.name }),
    ...(object.metadata?.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
  };
}

export interface InstallAgentOptions extends InstallOptions {
  /** Take over fields another manager set (kubectl apply --server-side --force-conflicts). */
  force?: boolean;
  /** Called after each object is applied, with its kubectl-style name. */
  onApplied?: (ref: string) => void;
}

/** Whether the cluster serves Prometheus Operator's PodMonitor; checked before anything is applied. */
async function checkPodMonitorKind(client: KubeClient, namespace: string): Promise<void> {
  const call: ApiCall = { verb: 'list', resource: 'podmonitors.monitoring.coreos.com', namespace };
  try {
    await client.call(call, () => client.objects.list('monitoring.coreos.com/v1', 'PodMonitor', namespace));
  } catch (error) {
    if (isKtraceError(error) && (error.code === 'KTRACE_FORBIDDEN' || error.code === 'KTRACE_CLUSTER_UNREACHABLE'))
      throw error;
    throw new KtraceError({
      code: 'KTRACE_CLUSTER',
      message: `the cluster at ${client.server} has no PodMonitor kind (monitoring.coreos.com/v1): install Prometheus Operator's CRDs first, or leave out --pod-monitor (the agents also carry prometheus.io/scrape annotations)`,
      cause: error,
    });
  }
}

/** Applies the install in order; returns the objects as the server holds them. */
export async function installAgent(client: KubeClient, options: InstallAgentOptions = {}): Promise<KubernetesObject[]> {
  const resolved = resolveInstallOptions(options);
  const objects = installManifests(resolved);
  if (resolved.podMonitor) await checkPodMonitorKind(client, resolved.namespace);
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    try {
      applied.push(await client.apply(object, options.force === undefined ? {} : { force: options.force }));
    } catch (error) {
      if (!isKtraceError(error)) throw error;
      const done =
        applied.length === 0 ? 'nothing was applied' : `${applied.map(objectRef).join(', ')} already applied`;
      throw new KtraceError({
        code: error.code,
        message: `${error.message} (installing ${objectRef(object)}; ${done}; running ktrace install again is safe)`,
        cause: error,
      });
    }
    options.onApplied?.(objectRef(object));
  }
  return applied;
}

/** Kinds ktrace writes into its namespace after the install: Trace documents and one-shot programs, one-shot
 *  Jobs (their pods go with them), node status Leases. */
const LEFTOVER_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
];

export interface UninstallAgentOptions {
  namespace?: string;
  /** Called after each object is deleted, with its kubectl-style name. */
  onDeleted?: (ref: string) => void;
}

async function deleteObject(client: KubeClient, object: KubernetesObject): Promise<boolean> {
  try {
    await client.call(callFor('delete', object), () =>
      client.objects.delete(object, undefined, undefined, undefined, undefined, 'Background'),
    );
    return true;
  } catch (error) {
    if (isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND') return false;
    throw error;
  }
}

/**
 * Deletes what ktrace left in the namespace, then the install, the Namespace last. Objects already gone are
 * skipped, so it can be run again after a partial failure. Returns the kubectl-style names of what it deleted.
 */
export async function uninstallAgent(client: KubeClient, options: UninstallAgentOptions = {}): Promise<string[]> {
  const resolved = resolveInstallOptions({
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    podMonitor: true,
  });
  const deleted: string[] = [];
  const note = (object: KubernetesObject): void => {
    const ref = objectRef(object);
    deleted.push(ref);
    options.onDeleted?.(ref);
  };
  const selector = installSelector();
  for (const { apiVersion, kind } of LEFTOVER_KINDS) {
    const list = await client.call(
      { verb: 'list', resource: plural(kind, apiVersion), namespace: resolved.namespace },
      () =>
        client.objects.list(apiVersion, kind, resolved.namespace, undefined, undefined, undefined, undefined, selector),
    );
    for (const item of list.items) {
      // Items of a list carry no kind or apiVersion on a real server.
      const object = {
        ...item,
        apiVersion,
        kind,
        metadata: { name: item.metadata?.name ?? '', namespace: resolved.namespace },
      };
      if (await deleteObject(client, object)) note(object);
    }
  }
  for (const object of uninstallOrder(installManifests(resolved))) {
    if (object.kind === 'PodMonitor') {
      try {
        if (await deleteObject(client, object)) note(object);
      } catch (error) {
        // No PodMonitor kind in this cluster: there is none to delete.
        if (isKtraceError(error) && (error.code === 'KTRACE_FORBIDDEN' || error.code === 'KTRACE_CLUSTER_UNREACHABLE'))
          throw error;
      }
      continue;
    }
    if (await deleteObject(client, object)) note(object);
  }
  return deleted;
}
