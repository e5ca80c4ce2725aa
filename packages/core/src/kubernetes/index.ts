// The Kubernetes layer of @ktrace/core: the API client, list+watch, label selectors, Trace documents, per-node
// status, the cluster verbs on traces, the install and one-shot manifests, one-shot traces, the agent, and what
// the agent needs to put pod labels on series (cgroup path rules, the host cgroup tree, the pod cache and watch).
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
export type {
  ListWatchOptions,
  ListWatchState,
  ListWatchStats,
  ListWatchStatus,
  ObjectList,
  WatchChange,
} from './list-watch.js';
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
export {
  defaultOneShotName,
  looksLikeOneShotTarget,
  parseOneShotTarget,
  resolveOneShotTarget,
} from './one-shot-target.js';
export type { OneShotPlacement, OneShotTargetKind, OneShotTargetRef } from './one-shot-target.js';
export {
  listOneShotJobs,
  oneShotManifests,
  oneShotSelector,
  purgeOneShotJob,
  removeQuietly,
  startOneShot,
  stopOneShot,
} from './one-shot-run.js';
export type { OneShotJobRef, OneShotRequest } from './one-shot-run.js';
export {
  finalDumpKey,
  LatestMaps,
  logLines,
  readFinalDump,
  readOneShotLine,
  saveFinalDump,
} from './one-shot-output.js';
export type { OneShotLine } from './one-shot-output.js';
export {
  exitError,
  failureOf,
  followPodLog,
  jobPod,
  podState,
  readPodLog,
  traceContainer,
  waitForStart,
} from './one-shot-pods.js';
export type { OneShotPodPhase, OneShotPodState, WaitForStartOptions } from './one-shot-pods.js';
export { deleteOneShotTraces, listOneShotReports } from './one-shot-traces.js';
export type { OneShotJobReport, OneShotReport, OneShotState } from './one-shot-traces.js';
export { cgroup2Root, parsePodCgroupTarget, podCgroupIds } from './pod-cgroups.js';
export type { PodCgroupTarget } from './pod-cgroups.js';
export { parseCgroupPath, parseProcCgroup, unifiedPathOf } from './cgroup-path.js';
export type { CgroupPathInfo, ContainerRuntime, QosClass } from './cgroup-path.js';
export { CgroupTree, findCgroup2Mount } from './cgroup-tree.js';
export type { Cgroup2Mount, CgroupTreeOptions, CgroupTreeStats } from './cgroup-tree.js';
export { PodCache, containerIdOf, podCacheFeed, workloadOf } from './pod-cache.js';
export type { PodCacheOptions, PodMeta, PodResolution, PodWorkload } from './pod-cache.js';
export { PodWatch } from './pod-watch.js';
export type { PodWatchOptions } from './pod-watch.js';
export { PodLabeler, mergeEntry, podLabelNames, podLabeledMaps, workloadLabelNames } from './pod-labels.js';
export type { PodLabeledMap, PodLabelerOptions } from './pod-labels.js';
export { addCgroupKey, podLabelsMaps } from '../key-rewrite.js';
export type { KeyRewriteResult } from '../key-rewrite.js';
export { createOneShotJob, deleteOneShotJob } from './one-shot-jobs.js';
export type { CreatedOneShot } from './one-shot-jobs.js';
