// The manifests ktrace generates: the install (agent DaemonSet and what it needs) and one-shot trace Jobs.
export {
  agentArgs,
  agentDaemonSet,
  agentPodMonitor,
  agentPriorityClass,
  agentService,
  AGENT_TERMINATION_GRACE_SECONDS,
} from './agent.js';
export type { PodMonitor } from './agent.js';
export { installManifests, ktraceNamespace, uninstallOrder } from './install.js';
export {
  AGENT_NAME,
  agentSelector,
  DEFAULT_IMAGE,
  DEFAULT_LISTEN_PORT,
  DEFAULT_NAMESPACE,
  installSelector,
  KTRACE_VERSION,
  ktraceLabels,
  TRACE_SERVICE_ACCOUNT,
  USER_ROLE_NAME,
  USER_TARGETS_ROLE_NAME,
  VERSION_LABEL,
} from './labels.js';
export type { Component } from './labels.js';
export { checkNamespace, resolveInstallOptions } from './options.js';
export type { InstallOptions, ResolvedInstallOptions } from './options.js';
export {
  containerSecurityContext,
  hostVolumeMounts,
  hostVolumes,
  podPrivileges,
  PRIVILEGES_PROFILES,
  SECCOMP_PROFILES,
} from './privileges.js';
export type { PodPrivileges, PrivilegesProfile, SeccompProfile } from './privileges.js';
export { agentRbac, serviceAccounts, userRoles } from './rbac.js';
export {
  oneShotArgs,
  oneShotConfigMap,
  oneShotJob,
  oneShotJobName,
  PROGRAM_DIR,
  PROGRAM_KEY,
  targetDescription,
} from './one-shot.js';
export type { OneShotTarget, OneShotTraceOptions, TargetPod } from './one-shot.js';
