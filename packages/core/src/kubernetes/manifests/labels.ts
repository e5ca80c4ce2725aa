// The names and labels every object ktrace creates in a cluster carries: one place, so that `ktrace delete`,
// `ktrace uninstall` and the agent find by label exactly what install and the one-shot generators wrote.

/** The recommended `app.kubernetes.io/*` labels plus ktrace's own keys. */
export const NAME_LABEL = 'app.kubernetes.io/name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const VERSION_LABEL = 'app.kubernetes.io/version';
/** Names the trace an object belongs to (one-shot Jobs, their ConfigMaps and pods). */
export const TRACE_LABEL = 'ktrace.dev/trace';
/** The node a one-shot Job is pinned to. */
export const NODE_LABEL = 'ktrace.dev/node';

/** The value of `app.kubernetes.io/name` and `managed-by`; also the field manager of server-side apply. */
export const KTRACE = 'ktrace';
export const FIELD_MANAGER = 'ktrace';

/** What an object is part of: the installed agent, the rights given to CLI users, or a one-shot trace. */
export type Component = 'agent' | 'cli' | 'trace';

/** The version written into `app.kubernetes.io/version` and the default image tag. */
export const KTRACE_VERSION = '0.1.0';

export const DEFAULT_NAMESPACE = 'ktrace';
export const DEFAULT_IMAGE = `ghcr.io/ktrace/ktrace:${KTRACE_VERSION}`;
export const DEFAULT_LISTEN_PORT = 9464;

/** Object names of the install. */
export const AGENT_NAME = 'ktrace-agent';
export const TRACE_SERVICE_ACCOUNT = 'ktrace-trace';
export const USER_ROLE_NAME = 'ktrace-user';
export const USER_TARGETS_ROLE_NAME = 'ktrace-user-targets';

/** The labels every ktrace object carries; `component` is omitted on the Namespace, which holds all of them. */
export function ktraceLabels(component?: Component): Record<string, string> {
  return {
    [NAME_LABEL]: KTRACE,
    [MANAGED_BY_LABEL]: KTRACE,
    ...(component === undefined ? {} : { [COMPONENT_LABEL]: component }),
  };
}

/** The labels that select the agent's pods (DaemonSet selector, Service, PodMonitor): stable across versions. */
export function agentSelector(): Record<string, string> {
  return { [NAME_LABEL]: KTRACE, [COMPONENT_LABEL]: 'agent' };
}

/** A label selector string (`k=v,k=v`) for list and delete calls. */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
