// Which pods of this node a trace selects: its podSelector against the pod's labels and its namespaceSelector
// against the labels of the pod's namespace; a trace with neither selects everything, and a process outside any pod
// is never selected by a trace that has one. Pure policy: the agent's pod cache and namespace watch feed it.
import { formatLabelSelector, matchesLabelSelector } from './label-selector.js';
import type { PodMeta } from './pod-cache.js';
import type { ClusterTrace } from './trace-document.js';

export type SelectorsOf = Pick<ClusterTrace, 'podSelector' | 'namespaceSelector'>;

/** The labels of a namespace, undefined when it is not known. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

/** Whether a trace restricts itself to some pods of the node (an empty selector `{}` selects every pod). */
export function selectsPods(trace: SelectorsOf): boolean {
  return trace.podSelector !== undefined || trace.namespaceSelector !== undefined;
}

/** Whether the trace selects this pod (a pod in a namespace not known is not selected by a namespaceSelector). */
export function podSelected(trace: SelectorsOf, pod: PodMeta, namespaces: NamespaceLabels): boolean {
  if (trace.podSelector !== undefined && !matchesLabelSelector(trace.podSelector, pod.labels)) return false;
  if (trace.namespaceSelector === undefined) return true;
  const labels = namespaces(pod.namespace);
  return labels !== undefined && matchesLabelSelector(trace.namespaceSelector, labels);
}

/** The selectors in words, for a skip reason: `podSelector app=web, namespaceSelector team=shop`. */
export function describeSelectors(trace: SelectorsOf): string {
  const parts: string[] = [];
  if (trace.podSelector !== undefined) parts.push(`podSelector ${formatLabelSelector(trace.podSelector) || '{}'}`);
  if (trace.namespaceSelector !== undefined)
    parts.push(`namespaceSelector ${formatLabelSelector(trace.namespaceSelector) || '{}'}`);
  return parts.join(', ');
}

/** What the node knows of its pods, for planning traces that select pods. */
export interface PodSelectionView {
  /** Why no pod can be judged now (no pod labels on this agent, the node's pods not listed yet); else undefined. */
  unavailable?: string;
  /** Why namespace labels cannot be judged now (not listed yet); else undefined. */
  namespacesUnavailable?: string;
  /** How many pods of the node (deleted ones in their grace period included) the trace selects now. */
  selected(trace: SelectorsOf): number;
}
