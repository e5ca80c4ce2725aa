// A loopback Kubernetes API server for tests that kubectl 1.32 and client-node 1.4 cannot tell from kube-apiserver;
// README.md here lists what it implements and what it does not.
export { startKubeApiServer, KubeApiServer } from './server.js';
export type { KubeApiServerOptions, ListFilter } from './server.js';
export type { RequestFilter } from './request-log.js';
export type { PodStatusUpdate } from './pod-status.js';
export type { DenyRule, RequestRecord, Verb } from './access.js';
export type {
  KubeObject,
  ObjectMeta,
  OwnerReference,
  ManagedFieldsEntry,
  StoreEvent,
  WatchEventType,
} from './store.js';
export type { ResourceType } from './resources.js';
export { BUILTIN_RESOURCES, apiVersionOf } from './resources.js';
export type { Status, StatusCause, StatusReason } from './status.js';
export { kubeconfigYaml, writeKubeconfig, runKubectl, spawnKubectl, KUBECTL } from './kubeconfig.js';
export type { KubeconfigOptions, KubectlOptions, KubectlResult } from './kubeconfig.js';
export { validateObject } from './validation.js';
export { JobController, pinnedNode } from './job-controller.js';
export type { JobControllerOptions } from './job-controller.js';
export { testPod } from './fixtures.js';
