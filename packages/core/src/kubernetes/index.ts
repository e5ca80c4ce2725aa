// The Kubernetes layer of @ktrace/core: the API client, list+watch, label selectors, Trace documents, per-node
// status, the cluster verbs on traces, the install and one-shot manifests, and the agent.
export { KubeClient, agentFieldManager, cliFieldManager, createKubeClient, defaultRequestTimeoutMillis, httpStatusOf, kubeError, loadKubeConfig } from './kube-client.js';
export type { ApiCall, ApplyOptions, KubeConnectionOptions, LoadedKubeConfig } from './kube-client.js';
export { ListWatch } from './list-watch.js';
export type { ListWatchOptions, ListWatchStats, ObjectList, WatchChange } from './list-watch.js';
export { checkLabelSelector, formatLabelSelector, isEmptySelector, matchesLabelSelector, parseLabelSelector } from './label-selector.js';
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
export { decodeNodeStatus, isStale, nodeLabel, nodeStatusLease, nodeStatusName, nodeStatusSelector, statusAnnotation } from './node-status.js';
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
export {
  AGENT_NAME,
  agentArgs,
  agentSelector,
  DEFAULT_IMAGE,
  DEFAULT_LISTEN_PORT,
  DEFAULT_NAMESPACE,
  installManifests,
  installSelector,
  KTRACE_VERSION,
  ktraceLabels,
  oneShotArgs,
  oneShotConfigMap,
  oneShotJob,
  oneShotJobName,
  PRIVILEGES_PROFILES,
  resolveInstallOptions,
  SECCOMP_PROFILES,
  targetDescription,
  TRACE_SERVICE_ACCOUNT,
  uninstallOrder,
} from './manifests/index.js';
export type {
  InstallOptions,
  OneShotTarget,
  OneShotTraceOptions,
  PodMonitor,
  PrivilegesProfile,
  ResolvedInstallOptions,
  SeccompProfile,
  TargetPod,
} from './manifests/index.js';
export { installAgent, objectRef, uninstallAgent } from './installation.js';
export type { InstallAgentOptions, UninstallAgentOptions } from './installation.js';
export { createOneShotJob, deleteOneShotJob } from './one-shot-jobs.js';
export type { CreatedOneShot } from './one-shot-jobs.js';
