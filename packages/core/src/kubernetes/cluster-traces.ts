// The cluster verbs on traces, for the CLI and SDK users: build a Trace from a file (a Trace document, a trace
// spec, or a bare .bt program), apply it by server-side apply, list traces with each node's report, delete them.
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { KtraceError, isKtraceError } from '@ktrace/parser';
import { parse as parseYaml } from 'yaml';
import type { KubeClient } from './kube-client.js';
import type { LabelSelector } from './label-selector.js';
import { decodeNodeStatus, isStale, nodeStatusSelector } from './node-status.js';
import type { NodeStatus, NodeTraceStatus } from './node-status.js';
import {
  checkTraceName,
  decodeTraceConfigMap,
  parseTraceDocument,
  traceApiVersion,
  traceConfigMap,
  traceConfigMapName,
  traceConfigMapSelector,
  traceKind,
} from './trace-document.js';
import type { ClusterTrace } from './trace-document.js';

export interface TraceFromFileOptions {
  /** --name: overrides the document's name (or the one derived from the file name). */
  name?: string;
  nodeSelector?: LabelSelector;
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  /** --interval. */
  interval?: string;
}

function badOption(message: string, cause?: unknown): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_OPTION', message, ...(cause === undefined ? {} : { cause }) });
}

function nameFromFile(file: string): string {
  return basename(file, extname(file))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/**
 * Reads `file`: a Trace document (kind: Trace), a trace spec (program or programFile, whose file is inlined), or a
 * bpftrace program (.bt, or anything that is not a YAML mapping). Throws KTRACE_BAD_OPTION / KTRACE_BAD_SPEC.
 */
export function traceFromFile(file: string, options: TraceFromFileOptions = {}): ClusterTrace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw badOption(`-f ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  let data: unknown;
  if (extname(file) !== '.bt') {
    try {
      data = parseYaml(text);
    } catch (error) {
      if (/\.ya?ml$|\.json$/.test(file)) {
        throw new KtraceError({ code: 'KTRACE_BAD_SPEC', message: `${file} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, cause: error });
      }
      data = undefined;
    }
  }
  let document: Record<string, unknown>;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && (data as Record<string, unknown>)['kind'] !== undefined) {
    document = { ...(data as Record<string, unknown>) };
  } else if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const { programFile, name, ...spec } = data as Record<string, unknown>;
    if (typeof programFile === 'string') {
      const path = resolve(dirname(resolve(file)), programFile);
      try {
        spec['program'] = readFileSync(path, 'utf8');
      } catch (error) {
        throw new KtraceError({ code: 'KTRACE_BAD_SPEC', message: `${file}: spec.programFile: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); the path is relative to the spec file`, cause: error });
      }
    } else if (programFile !== undefined) spec['programFile'] = programFile;
    document = { apiVersion: traceApiVersion, kind: traceKind, metadata: typeof name === 'string' ? { name } : {}, spec };
  } else {
    document = { apiVersion: traceApiVersion, kind: traceKind, metadata: {}, spec: { program: text } };
  }
  const metadata = { ...((document['metadata'] ?? {}) as Record<string, unknown>) };
  if (options.name !== undefined) metadata['name'] = checkTraceName(options.name, '--name');
  else if (metadata['name'] === undefined) {
    const derived = nameFromFile(file);
    if (derived === '') throw badOption(`-f ${file}: cannot make a trace name of the file name; give --name NAME`);
    metadata['name'] = derived;
  }
  document['metadata'] = metadata;
  const spec = { ...((document['spec'] ?? {}) as Record<string, unknown>) };
  if (options.nodeSelector !== undefined) spec['nodeSelector'] = options.nodeSelector;
  if (options.podSelector !== undefined) spec['podSelector'] = options.podSelector;
  if (options.namespaceSelector !== undefined) spec['namespaceSelector'] = options.namespaceSelector;
  if (options.interval !== undefined) spec['interval'] = options.interval;
  document['spec'] = spec;
  try {
    return parseTraceDocument(document);
  } catch (error) {
    if (isKtraceError(error)) throw new KtraceError({ code: error.code, message: `${file}: ${error.message}`, cause: error });
    throw error;
  }
}

/** Creates or updates the trace's ConfigMap by server-side apply (field manager `ktrace`, forced: the CLI owns it). */
export async function applyTrace(client: KubeClient, trace: ClusterTrace): Promise<V1ConfigMap> {
  return client.apply(traceConfigMap(trace, client.namespace), { force: true });
}

/** One node's report on one trace. */
export interface NodeTraceReport extends NodeTraceStatus {
  node: string;
  /** The agent has not refreshed its report for three heartbeats: it may be gone. */
  stale: boolean;
  updatedAt: string;
  /** The node runs an older or newer version of the document than the one stored. */
  outdated: boolean;
}

export interface TraceReport {
  name: string;
  /** The stored document is invalid: why (what the agents report too). */
  error?: string;
  trace?: ClusterTrace;
  nodes: NodeTraceReport[];
}

async function nodeStatuses(client: KubeClient): Promise<NodeStatus[]> {
  const namespace = client.namespace;
  const leases = await client.call({ verb: 'list', resource: 'leases.coordination.k8s.io', namespace }, () =>
    client.coordination.listNamespacedLease({ namespace, labelSelector: nodeStatusSelector }),
  );
  return leases.items.map(decodeNodeStatus).filter((s): s is NodeStatus => s !== undefined);
}

/** Traces in the client's namespace (or only `name`), each with every node's report. */
export async function listTraceReports(client: KubeClient, name?: string, now = Date.now()): Promise<TraceReport[]> {
  const namespace = client.namespace;
  const labelSelector = name === undefined ? traceConfigMapSelector : `${traceConfigMapSelector},ktrace.dev/trace=${checkTraceName(name, 'NAME')}`;
  const [configMaps, statuses] = await Promise.all([
    client.call({ verb: 'list', resource: 'configmaps', namespace }, () => client.core.listNamespacedConfigMap({ namespace, labelSelector })),
    nodeStatuses(client),
  ]);
  if (name !== undefined && configMaps.items.length === 0) {
    throw new KtraceError({ code: 'KTRACE_NOT_FOUND', message: `no trace ${name} in namespace ${namespace} (ktrace get lists them)` });
  }
  const reports = configMaps.items.map((configMap): TraceReport => {
    const decoded = decodeTraceConfigMap(configMap);
    const digest = decoded.ok ? decoded.trace.digest : undefined;
    const nodes: NodeTraceReport[] = [];
    for (const status of statuses) {
      const entry = status.traces[decoded.name];
      if (entry === undefined) continue;
      nodes.push({
        ...entry,
        node: status.node,
        stale: isStale(status, now),
        updatedAt: status.updatedAt,
        outdated: digest !== undefined && entry.digest !== undefined && entry.digest !== digest,
      });
    }
    nodes.sort((a, b) => a.node.localeCompare(b.node));
    return decoded.ok ? { name: decoded.name, trace: decoded.trace, nodes } : { name: decoded.name, error: decoded.error.message, nodes };
  });
  return reports.sort((a, b) => a.name.localeCompare(b.name));
}

/** Deletes one trace; KTRACE_NOT_FOUND when there is none of that name. */
export async function deleteTrace(client: KubeClient, name: string): Promise<void> {
  const namespace = client.namespace;
  const configMap = traceConfigMapName(checkTraceName(name, 'NAME'));
  try {
    await client.call({ verb: 'delete', resource: 'configmaps', name: configMap, namespace }, () =>
      client.core.deleteNamespacedConfigMap({ name: configMap, namespace }),
    );
  } catch (error) {
    if (isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND') {
      throw new KtraceError({ code: 'KTRACE_NOT_FOUND', message: `no trace ${name} in namespace ${namespace} (ktrace get lists them)`, cause: error });
    }
    throw error;
  }
}

/** Deletes every trace of the namespace; returns their names. */
export async function deleteAllTraces(client: KubeClient): Promise<string[]> {
  const namespace = client.namespace;
  const list = await client.call({ verb: 'list', resource: 'configmaps', namespace }, () =>
    client.core.listNamespacedConfigMap({ namespace, labelSelector: traceConfigMapSelector }),
  );
  const names: string[] = [];
  for (const configMap of list.items) {
    const name = decodeTraceConfigMap(configMap).name;
    const objectName = configMap.metadata?.name ?? traceConfigMapName(name);
    try {
      await client.call({ verb: 'delete', resource: 'configmaps', name: objectName, namespace }, () =>
        client.core.deleteNamespacedConfigMap({ name: objectName, namespace }),
      );
    } catch (error) {
      if (!(isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND')) throw error;
    }
    names.push(name);
  }
  return names.sort();
}
