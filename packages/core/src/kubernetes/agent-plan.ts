// What this node's agent should do with each trace document: run it, report it invalid, or skip it (its
// nodeSelector does not match this node, or the node's labels are unknown). Pure policy, no effects.
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

/** One plan per trace name, in name order. Two documents claiming one name: the first by ConfigMap name runs. */
export function planTraces(documents: Array<{ configMap: string; decoded: DecodedTraceConfigMap }>, node: NodeView): TracePlan[] {
  const byName = new Map<string, TracePlan>();
  const owner = new Map<string, string>();
  const sorted = [...documents].sort((a, b) => a.configMap.localeCompare(b.configMap));
  for (const { configMap, decoded } of sorted) {
    const first = owner.get(decoded.name);
    if (first !== undefined) {
      byName.set(decoded.name, { name: decoded.name, action: 'invalid', error: `trace ${decoded.name} is defined by two ConfigMaps (${first} and ${configMap}); delete one` });
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
        byName.set(decoded.name, { name: decoded.name, action: 'skip', digest: trace.digest, reason: `the labels of node ${node.name} are unknown (${node.unknownBecause ?? 'not read yet'}), so its nodeSelector cannot be checked` });
        continue;
      }
      if (!matchesLabelSelector(trace.nodeSelector, node.labels)) {
        byName.set(decoded.name, { name: decoded.name, action: 'skip', digest: trace.digest, reason: `nodeSelector does not match node ${node.name}` });
        continue;
      }
    }
    byName.set(decoded.name, { name: decoded.name, action: 'run', trace });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
