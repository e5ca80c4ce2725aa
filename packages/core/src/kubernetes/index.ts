// The Kubernetes layer of @ktrace/core: what the agent needs to put pod labels on series (cgroup path rules, the
// host cgroup tree, the node's pod cache and watch, the PodLabeler). The agent, trace documents and API client
// wrapper are exported here as well by their own files.
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
