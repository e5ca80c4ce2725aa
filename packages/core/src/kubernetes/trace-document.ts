// The Trace document (apiVersion ktrace.dev/v1alpha1, kind Trace): a trace spec — validated by trace-spec.ts, the
// one schema of the CLI and the agent — plus nodeSelector, podSelector and namespaceSelector; and how it is kept in
// a labelled ConfigMap of the agent's namespace (the shape a CRD can take over later). Bad documents are errors
// naming the field, never exceptions of another kind.
import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { KtraceError, isKtraceError } from '@ktrace/parser';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseTraceSpec } from '../trace-spec.js';
import type { TraceSpec, TraceSpecInput } from '../trace-spec.js';
import { checkLabelSelector } from './label-selector.js';
import type { LabelSelector } from './label-selector.js';

export const traceApiVersion = 'ktrace.dev/v1alpha1';
export const traceKind = 'Trace';
/** The ConfigMap key holding the document, as YAML. */
export const traceDataKey = 'trace.yaml';
/** Label on a trace's ConfigMap: the trace's name. */
export const traceNameLabel = 'ktrace.dev/trace';
export const componentLabel = 'app.kubernetes.io/component';
export const commonLabels: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'ktrace',
  'app.kubernetes.io/managed-by': 'ktrace',
};
/** What the agent's watch selects: the ConfigMaps holding Trace documents. */
export const traceConfigMapSelector = `${componentLabel}=trace,${traceNameLabel}`;

/** The spec of a Trace: the trace spec's fields, plus where it runs. */
export type TraceDocumentSpec = Omit<TraceSpecInput, 'name' | 'programFile' | 'target'> & {
  nodeSelector?: LabelSelector;
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
};

export interface TraceDocument {
  apiVersion: typeof traceApiVersion;
  kind: typeof traceKind;
  metadata: { name: string };
  spec: TraceDocumentSpec;
}

/** A document that passed validation, with its resolved spec. */
export interface ClusterTrace {
  name: string;
  document: TraceDocument;
  spec: TraceSpec;
  nodeSelector: LabelSelector | undefined;
  podSelector: LabelSelector | undefined;
  namespaceSelector: LabelSelector | undefined;
  /** Hash of the spec: two documents with the same digest run the same way. */
  digest: string;
}

const namePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function bad(message: string): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_SPEC', message });
}

/** A trace name: a DNS label (lowercase letters, digits, '-'; at most 63), as a label value must be. */
export function checkTraceName(name: unknown, field = 'metadata.name'): string {
  if (typeof name !== 'string' || !namePattern.test(name)) {
    throw bad(`${field}: ${JSON.stringify(name)} is not a trace name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`);
  }
  return name;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

const clusterOnly: ReadonlyArray<[string, (spec: Record<string, unknown>) => boolean, string]> = [
  ['spec.programFile', (s) => s['programFile'] !== undefined, 'a cluster trace carries its program inline (ktrace apply -f prog.bt inlines the file)'],
  ['spec.name', (s) => s['name'] !== undefined, 'the trace is named by metadata.name'],
  ['spec.target', (s) => s['target'] !== undefined, 'a cluster trace runs where its nodeSelector says'],
  [
    'spec.metrics.listen',
    (s) => (s['metrics'] as Record<string, unknown> | undefined)?.['listen'] !== undefined,
    'the agent serves one /metrics for all traces (ktrace agent --listen)',
  ],
  ['spec.bpftrace.path', (s) => (s['bpftrace'] as Record<string, unknown> | undefined)?.['path'] !== undefined, 'the agent runs its own bpftrace (ktrace agent --bpftrace)'],
];

/** Validates a Trace document (an object as read from YAML). Throws KTRACE_BAD_SPEC naming the field. */
export function parseTraceDocument(input: unknown): ClusterTrace {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw bad(`expected a ${traceKind} document (apiVersion, kind, metadata, spec)`);
  const raw = input as Record<string, unknown>;
  if (raw['apiVersion'] !== traceApiVersion) {
    throw bad(`apiVersion: expected ${traceApiVersion}, got ${JSON.stringify(raw['apiVersion'] ?? null)}`);
  }
  if (raw['kind'] !== traceKind) throw bad(`kind: expected ${traceKind}, got ${JSON.stringify(raw['kind'] ?? null)}`);
  for (const key of Object.keys(raw)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) throw bad(`unknown field ${JSON.stringify(key)} (a ${traceKind} has apiVersion, kind, metadata, spec)`);
  }
  const metadata = (raw['metadata'] ?? {}) as Record<string, unknown>;
  const name = checkTraceName(metadata['name']);
  const specInput = raw['spec'];
  if (specInput === null || typeof specInput !== 'object' || Array.isArray(specInput)) throw bad(`trace ${name}: spec: expected a mapping with program, interval, maps…`);
  const { nodeSelector, podSelector, namespaceSelector, ...rest } = specInput as Record<string, unknown>;
  for (const [field, present, why] of clusterOnly) if (present(rest)) throw bad(`trace ${name}: ${field}: not allowed here: ${why}`);
  let spec: TraceSpec;
  try {
    spec = parseTraceSpec(rest);
  } catch (error) {
    if (isKtraceError(error)) throw new KtraceError({ code: error.code, message: `trace ${name}: ${error.message}`, cause: error });
    throw error;
  }
  spec.name = name;
  const selectors = {
    nodeSelector: nodeSelector === undefined ? undefined : checkLabelSelector(nodeSelector, `trace ${name}: spec.nodeSelector`),
    podSelector: podSelector === undefined ? undefined : checkLabelSelector(podSelector, `trace ${name}: spec.podSelector`),
    namespaceSelector: namespaceSelector === undefined ? undefined : checkLabelSelector(namespaceSelector, `trace ${name}: spec.namespaceSelector`),
  };
  const documentSpec = { ...(rest as TraceDocumentSpec) };
  for (const [key, value] of Object.entries(selectors)) if (value !== undefined) (documentSpec as Record<string, unknown>)[key] = value;
  const document: TraceDocument = { apiVersion: traceApiVersion, kind: traceKind, metadata: { name }, spec: documentSpec };
  const digest = createHash('sha256').update(JSON.stringify(canonical(document.spec))).digest('hex').slice(0, 16);
  return { name, document, spec, ...selectors, digest };
}

/** The ConfigMap that keeps a Trace in `namespace`, ready for server-side apply. */
export function traceConfigMap(trace: ClusterTrace, namespace: string): V1ConfigMap & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: traceConfigMapName(trace.name),
      namespace,
      labels: { ...commonLabels, [componentLabel]: 'trace', [traceNameLabel]: trace.name },
    },
    data: { [traceDataKey]: stringifyYaml(trace.document, { lineWidth: 0 }) },
  };
}

export function traceConfigMapName(name: string): string {
  return `trace-${name}`;
}

export type DecodedTraceConfigMap =
  | { name: string; ok: true; trace: ClusterTrace }
  | { name: string; ok: false; error: KtraceError };

/** Reads a trace ConfigMap back; a bad one gives its error (for the agent's log, self-metric and `ktrace get`). */
export function decodeTraceConfigMap(configMap: V1ConfigMap): DecodedTraceConfigMap {
  const name = configMap.metadata?.labels?.[traceNameLabel] ?? configMap.metadata?.name ?? '?';
  const fail = (message: string, cause?: unknown): DecodedTraceConfigMap => ({
    name,
    ok: false,
    error: new KtraceError({ code: 'KTRACE_BAD_SPEC', message, ...(cause === undefined ? {} : { cause }) }),
  });
  const text = configMap.data?.[traceDataKey];
  if (text === undefined) return fail(`trace ${name}: ConfigMap ${configMap.metadata?.name ?? '?'} has no ${traceDataKey} key`);
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    return fail(`trace ${name}: ${traceDataKey} is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, error);
  }
  try {
    const trace = parseTraceDocument(data);
    if (trace.name !== name) return fail(`trace ${name}: metadata.name is ${trace.name}, but the ConfigMap's ${traceNameLabel} label says ${name}`);
    return { name, ok: true, trace };
  } catch (error) {
    if (isKtraceError(error)) return { name, ok: false, error };
    return fail(`trace ${name}: ${String(error)}`, error);
  }
}
