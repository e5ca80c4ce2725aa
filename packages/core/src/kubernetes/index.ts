// The Kubernetes layer of @ktrace/core: what the agent needs to put pod labels on series (cgroup path rules, the
// host cgroup tree, the node's pod cache and watch, the PodLabeler). The agent, trace documents and API client
// wrapper are exported here as well by their own files.
export {
  KubeClient,
  agentFieldManager,
  cliFieldManager,
  createKubeClient,
  defaultRequestTimeoutMillis,
  httpStatusOf,
  kubeError,
  loadKubeConfig,
} from './kube-client.js';
export type { ApiCall, ApplyOptions, KubeConnectionOptions, LoadedKubeConfig } from './kube-client.js';
export { ListWatch } from './list-watch.js';
export type { ListWatchOptions, ListWatchStats, ObjectList, WatchChange } from './list-watch.js';
export {
  checkLabelSelector,
  formatLabelSelector,
  isEmptySelector,
  matchesLabelSelector,
  parseLabelSelector,
} from './label-selector.js';
export type { LabelSelector, SelectorOperator, SelectorRequirement } from './label-selector.js';
export {
  checkTraceName,
  commonLabels,
  componentLabel,
  decodeTraceConfigMap,
  parseTraceDocument,
  traceApiVersion,
  traceConfigMap,
  traceConfigMapName,
  traceConfigMapSelector,
  traceDataKey,
  traceKind,
  traceNameLabel,
} from './trace-document.js';
export type { ClusterTrace, DecodedTraceConfigMap, TraceDocument, TraceDocumentSpec } from './trace-document.js';
export {
  decodeNodeStatus,
  isStale,
  nodeLabel,
  nodeStatusLease,
  nodeStatusName,
  nodeStatusSelector,
  statusAnnotation,
} from './node-status.js';
export type { NodeStatus, NodeTraceState, NodeTraceStatus } from './node-status.js';
export { applyTrace, deleteAllTraces, deleteTrace, listTraceReports, traceFromFile } from './cluster-traces.js';
export type { NodeTraceReport, TraceFromFileOptions, TraceReport } from './cluster-traces.js';
export { Agent, agentResourceAttributes } from './agent.js';
export type { AgentOptions } from './agent.js';
export { AgentTrace } from './agent-trace.js';
export type { AgentTraceOptions } from './agent-trace.js';
export { planTraces } from './agent-plan.js';
export type { NodeView, TracePlan } from './agent-plan.js';
export { renderAgentMetrics, serveAgentMetrics } from './agent-server.js';
export type { AgentMetricsSource } from './agent-server.js';
export { labelSample, mergeExpositions } from './exposition-merge.js';
export type { ExpositionPart, MergeResult } from './exposition-merge.js';
export { parseCgroupPath, parseProcCgroup, unifiedPathOf } from './cgroup-path.js';
export type { CgroupPathInfo, ContainerRuntime, QosClass } from './cgroup-path.js';
export { CgroupTree, findCgroup2Mount } from './cgroup-tree.js';
export type { Cgroup2Mount, CgroupTreeOptions, CgroupTreeStats } from './cgroup-tree.js';
export { PodCache, containerIdOf, podCacheFeed, workloadOf } from './pod-cache.js';
export type { PodCacheOptions, PodMeta, PodResolution, PodWorkload } from './pod-cache.js';
export { PodWatch } from './pod-watch.js';
export type { PodWatchOptions, PodWatchState, PodWatchStatus } from './pod-watch.js';
export { PodLabeler, mergeEntry, podLabelNames, podLabeledMaps, workloadLabelNames } from './pod-labels.js';
export type { PodLabeledMap, PodLabelerOptions } from './pod-labels.js';
export { addCgroupKey, podLabelsMaps } from '../key-rewrite.js';
export type { KeyRewriteResult } from '../key-rewrite.js';
