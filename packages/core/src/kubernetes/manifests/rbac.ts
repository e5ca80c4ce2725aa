// Who may do what: the agent's ServiceAccount and the least rights it needs, the rights-less account one-shot
// trace pods run as, and the roles an admin binds to the people who run `ktrace run|apply|get|delete|logs`.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ObjectMeta,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { AGENT_NAME, ktraceLabels, TRACE_SERVICE_ACCOUNT, USER_ROLE_NAME, USER_TARGETS_ROLE_NAME } from './labels.js';
import type { Component } from './labels.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const READ = ['get', 'list', 'watch'];

function meta(name: string, component: Component, namespace?: string): V1ObjectMeta {
  return { name, ...(namespace === undefined ? {} : { namespace }), labels: ktraceLabels(component) };
}

export function serviceAccounts(namespace: string): V1ServiceAccount[] {
  return [
    // The agent reads the API with this account's token (in-cluster config).
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(AGENT_NAME, 'agent', namespace),
      automountServiceAccountToken: true,
    },
    // One-shot trace pods get their program from a mounted ConfigMap and never call the API: no token, no bindings.
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(TRACE_SERVICE_ACCOUNT, 'one-shot', namespace),
      automountServiceAccountToken: false,
    },
  ];
}

/**
 * The agent, cluster-wide, reads only:
 * - pods: one watch of its own node's pods (fieldSelector spec.nodeName) to put pod labels on series. RBAC cannot
 *   restrict a list to one node, so the right covers all pods; the agent's requests are what narrow it.
 * - nodes (get): its own Node's labels, to match a trace's nodeSelector.
 * - namespaces: their labels, to match a trace's namespaceSelector.
 */
const AGENT_CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: READ },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ },
];

/**
 * In its own namespace the agent reads the Trace documents (ConfigMaps) and writes its node's status Lease
 * (server-side apply: create and patch). It cannot write ConfigMaps — where the traces live — nor touch Jobs,
 * Secrets or pods: a compromised agent cannot start programs on other nodes.
 */
const AGENT_NAMESPACE_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['configmaps'], verbs: READ },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...READ, 'create', 'patch', 'update'] },
];

/**
 * What a person running the ktrace CLI needs in the ktrace namespace: Trace documents and one-shot programs
 * (ConfigMaps), one-shot Jobs, their pods and logs. Writing a Trace document runs kernel code as root on every
 * node: bind this only to people trusted with that.
 */
const USER_NAMESPACE_RULES: V1PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: [...READ, 'create', 'patch', 'update', 'delete', 'deletecollection'],
  },
  {
    apiGroups: ['batch'],
    resources: ['jobs'],
    verbs: [...READ, 'create', 'patch', 'update', 'delete', 'deletecollection'],
  },
  { apiGroups: [''], resources: ['pods'], verbs: [...READ, 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  // The agents' per-node status, read by `ktrace get`; deleted by `ktrace uninstall`.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...READ, 'delete'] },
];

/** Cluster-wide reads the CLI does to resolve a target: the node, the pod (any namespace), the deployment's pods. */
const USER_CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
];

export function agentRbac(namespace: string): [V1ClusterRole, V1ClusterRoleBinding, V1Role, V1RoleBinding] {
  const subjects = [{ kind: 'ServiceAccount', name: AGENT_NAME, namespace }];
  return [
    { apiVersion: RBAC, kind: 'ClusterRole', metadata: meta(AGENT_NAME, 'agent'), rules: AGENT_CLUSTER_RULES },
    {
      apiVersion: RBAC,
      kind: 'ClusterRoleBinding',
      metadata: meta(AGENT_NAME, 'agent'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_NAME },
      subjects,
    },
    { apiVersion: RBAC, kind: 'Role', metadata: meta(AGENT_NAME, 'agent', namespace), rules: AGENT_NAMESPACE_RULES },
    {
      apiVersion: RBAC,
      kind: 'RoleBinding',
      metadata: meta(AGENT_NAME, 'agent', namespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: AGENT_NAME },
      subjects,
    },
  ];
}

/** Unbound roles for CLI users: `kubectl -n ktrace create rolebinding … --role=ktrace-user` and a
 *  clusterrolebinding to ktrace-user-targets (docs/kubernetes-install.md). */
export function userRoles(namespace: string): [V1Role, V1ClusterRole] {
  return [
    { apiVersion: RBAC, kind: 'Role', metadata: meta(USER_ROLE_NAME, 'cli', namespace), rules: USER_NAMESPACE_RULES },
    { apiVersion: RBAC, kind: 'ClusterRole', metadata: meta(USER_TARGETS_ROLE_NAME, 'cli'), rules: USER_CLUSTER_RULES },
  ];
}
