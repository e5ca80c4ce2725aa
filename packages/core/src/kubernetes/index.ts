// The Kubernetes layer of @ktrace/core: the API client, list+watch, trace documents, the agent.
export { KubeClient, agentFieldManager, cliFieldManager, createKubeClient, defaultRequestTimeoutMillis, httpStatusOf, kubeError, loadKubeConfig } from './kube-client.js';
export type { ApiCall, ApplyOptions, KubeConnectionOptions, LoadedKubeConfig } from './kube-client.js';
export { ListWatch } from './list-watch.js';
export type { ListWatchOptions, ListWatchStats, ObjectList, WatchChange } from './list-watch.js';
