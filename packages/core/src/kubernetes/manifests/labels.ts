// The names and labels of what install and one-shot traces create: one place, so that `ktrace uninstall`,
// `ktrace delete` and the agent find by label exactly what was written. The label keys shared with Trace
// documents and node status (name, managed-by, component, trace, node) are owned by trace-document.ts.
import { commonLabels, componentLabel } from '../trace-document.js';

export const VERSION_LABEL = 'app.kubernetes.io/version';

/**
 * What an object is part of: the installed agent, the rights given to CLI users, or a one-shot trace. (Trace
 * documents are `trace` and node status Leases `node-status`: the agent watches `component=trace`, so one-shot
 * programs must not carry it.)
 */
export type Component = 'agent' | 'cli' | 'one-shot';

export { DEFAULT_IMAGE, DEFAULT_LISTEN_PORT, DEFAULT_NAMESPACE, KTRACE_VERSION } from '../defaults.js';

/** Object names of the install. */
export const AGENT_NAME = 'ktrace-agent';
export const TRACE_SERVICE_ACCOUNT = 'ktrace-trace';
export const USER_ROLE_NAME = 'ktrace-user';
export const USER_TARGETS_ROLE_NAME = 'ktrace-user-targets';

/** The labels every ktrace object carries; `component` is omitted on the Namespace, which holds all of them. */
export function ktraceLabels(component?: Component): Record<string, string> {
  return { ...commonLabels, ...(component === undefined ? {} : { [componentLabel]: component }) };
}

/** The labels that select the agent's pods (DaemonSet selector, Service, PodMonitor): stable across versions. */
export function agentSelector(): Record<string, string> {
  return { ...commonLabels, [componentLabel]: 'agent' };
}

/** The selector of everything an install created (`ktrace uninstall` lists and deletes by it). */
export function installSelector(): string {
  return Object.entries(commonLabels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
