// What this node's agent should do with each trace document: run it, report it invalid, or skip it (its
// nodeSelector does not match this node or the node's labels are unknown; it selects pods and none of this node's
// does, or they cannot be judged yet). Pure policy, no effects.
import { describeSelectors, selectsPods } from './agent-selection.js';
import type { PodSelectionView } from './agent-selection.js';
import { isEmptySelector, matchesLabelSelector } from './label-selector.js';
import type { ClusterTrace, DecodedTraceConfigMap } from './trace-document.js';

export type TracePlan =
  | { name: string; action: 'run'; trace: ClusterTrace }
  | { name: string; action: 'invalid'; error: string }
  | { name: string; action: 'skip'; reason: string; digest: string };

export interface NodeView {
  name: string;
  /** The node's labels; undefined while they are not known (not yet read, or reading is forbidden). */
  labels: Record<string, string> | undefined;
  /** Why the labels are unknown, for the reason a trace is skipped. */
  unknownBecause?: string;
}

/**
 * Why a trace that selects pods does not run on this node now, or undefined when it runs: bpftrace is started only
 * while at least one pod of the node is selected, so a node without one pays nothing for the trace.
 */
function podSelectionSkip(trace: ClusterTrace, node: NodeView, pods: PodSelectionView): string | undefined {
  if (pods.unavailable !== undefined) return `${describeSelectors(trace)} cannot be applied: ${pods.unavailable}`;
  if (trace.namespaceSelector !== undefined && pods.namespacesUnavailable !== undefined)
    return `namespaceSelector cannot be checked: ${pods.namespacesUnavailable}`;
  if (pods.selected(trace) === 0) return `no pod of node ${node.name} matches ${describeSelectors(trace)}`;
  return undefined;
}

/** One plan per trace name, in name order. Two documents claiming one name: the first by ConfigMap name runs. */
export function planTraces(
  documents: Array<{ configMap: string; decoded: DecodedTraceConfigMap }>,
  node: NodeView,
  pods: PodSelectionView,
): TracePlan[] {
  const byName = new Map<string, TracePlan>();
  const owner = new Map<string, string>();
  const sorted = [...documents].sort((a, b) => a.configMap.localeCompare(b.configMap));
  for (const { configMap, decoded } of sorted) {
    const first = owner.get(decoded.name);
    if (first !== undefined) {
      byName.set(decoded.name, {
        name: decoded.name,
        action: 'invalid',
        error: `trace ${decoded.name} is defined by two ConfigMaps (${first} and ${configMap}); delete one`,
      });
      continue;
    }
    owner.set(decoded.name, configMap);
    if (!decoded.ok) {
      byName.set(decoded.name, { name: decoded.name, action: 'invalid', error: decoded.error.message });
      continue;
    }
    const trace = decoded.trace;
    if (!isEmptySelector(trace.nodeSelector)) {
      if (node.labels === undefined) {
        byName.set(decoded.name, {
          name: decoded.name,
          action: 'skip',
          digest: trace.digest,
          reason: `the labels of node ${node.name} are unknown (${node.unknownBecause ?? 'not read yet'}), so its nodeSelector cannot be checked`,
        });
        continue;
      }
      if (!matchesLabelSelector(trace.nodeSelector, node.labels)) {
        byName.set(decoded.name, {
          name: decoded.name,
          action: 'skip',
          digest: trace.digest,
          reason: `nodeSelector does not match node ${node.name}`,
        });
        continue;
      }
    }
    const skip = selectsPods(trace) ? podSelectionSkip(trace, node, pods) : undefined;
    if (skip !== undefined) {
      byName.set(decoded.name, { name: decoded.name, action: 'skip', digest: trace.digest, reason: skip });
      continue;
    }
    byName.set(decoded.name, { name: decoded.name, action: 'run', trace });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
