// Per-node state: what one node's agent runs and how. Each agent owns one Lease (coordination.k8s.io) named after
// its node, written only by it, so a thousand agents never write the same object; `ktrace get` lists them by label.
// A Lease rather than a ConfigMap so that agents need no write access to ConfigMaps, where the traces live.
import { createHash } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import { commonLabels, componentLabel } from './trace-document.js';

export const nodeLabel = 'ktrace.dev/node';
export const statusAnnotation = 'ktrace.dev/status';
export const nodeStatusSelector = `${componentLabel}=node-status`;

/** How one trace fares on one node. */
export type NodeTraceState =
  | 'starting'
  | 'running'
  | 'restarting'
  | 'stopping'
  | 'failed'
  /** the document is invalid: reported, not run */
  | 'invalid'
  /**
   * not run on this node now: its nodeSelector does not match the node (or the node's labels are unknown), or it has
   * a podSelector/namespaceSelector and no pod of the node is selected (or the pods or namespaces are not listed yet,
   * or this agent has no pod labels); `reason` says which. A trace runs on a node only while some pod there is selected.
   */
  | 'skipped';

export interface NodeTraceStatus {
  state: NodeTraceState;
  /** The document digest this state is about (see ClusterTrace.digest). */
  digest?: string;
  attachedProbes?: number;
  /** ISO time of the last map dump. */
  lastDumpAt?: string;
  restarts?: number;
  samples?: number;
  /** Prometheus series exported now, as --max-series-per-trace counts them (a histogram key is several). */
  series?: number;
  error?: string;
  /** Why it is skipped. */
  reason?: string;
}

export interface NodeStatus {
  node: string;
  /** ISO time of this report; agents refresh it every heartbeat. */
  updatedAt: string;
  heartbeatSeconds: number;
  agent: { version: string; startedAt: string; pid: number; bpftrace?: string };
  /** Whether the agent's watch of the traces is connected now. */
  watching: boolean;
  traces: Record<string, NodeTraceStatus>;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/** `ktrace-node-NODE`, shortened with a hash when the node name is too long for an object name. */
export function nodeStatusName(node: string): string {
  const name = `ktrace-node-${node}`;
  return name.length <= 253 ? name : `ktrace-node-${node.slice(0, 200)}-${shortHash(node)}`;
}

function labelValue(node: string): string {
  if (node.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(node)) return node;
  return `${node
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 50)
    .replace(/[-_.]+$/, '')}-${shortHash(node)}`;
}

export function nodeStatusLease(status: NodeStatus, namespace: string): V1Lease & { apiVersion: string; kind: string } {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeStatusName(status.node),
      namespace,
      labels: { ...commonLabels, [componentLabel]: 'node-status', [nodeLabel]: labelValue(status.node) },
      annotations: { [statusAnnotation]: JSON.stringify(status) },
    },
    spec: { holderIdentity: `ktrace-agent/${status.node}`, leaseDurationSeconds: status.heartbeatSeconds * 3 },
  };
}

/** The status an agent wrote, or undefined when the Lease holds none that can be read. */
export function decodeNodeStatus(lease: V1Lease): NodeStatus | undefined {
  const text = lease.metadata?.annotations?.[statusAnnotation];
  if (text === undefined) return undefined;
  try {
    const status = JSON.parse(text) as NodeStatus;
    if (typeof status?.node !== 'string' || typeof status.traces !== 'object' || status.traces === null)
      return undefined;
    return status;
  } catch {
    return undefined;
  }
}

/** An agent that has not refreshed its status for three heartbeats is taken as gone. */
export function isStale(status: NodeStatus, now = Date.now()): boolean {
  const updated = Date.parse(status.updatedAt);
  return !Number.isFinite(updated) || now - updated > status.heartbeatSeconds * 3000;
}
