// Everything `ktrace install` applies, in the order it must be applied (the Namespace first, the DaemonSet after
// the account, rights and priority class its pods need). deploy/kubernetes/ is this list rendered with defaults.
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { agentDaemonSet, agentPodMonitor, agentPriorityClass, agentService } from './agent.js';
import { ktraceLabels } from './labels.js';
import { resolveInstallOptions } from './options.js';
import type { InstallOptions, ResolvedInstallOptions } from './options.js';
import { agentRbac, serviceAccounts, userRoles } from './rbac.js';

/**
 * The namespace must admit privileged pods under Pod Security Admission: even the default profile adds BPF,
 * PERFMON and SYSLOG and mounts hostPaths, which the baseline level forbids.
 */
export function ktraceNamespace(name: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { ...ktraceLabels(), 'pod-security.kubernetes.io/enforce': 'privileged' } },
  };
}

/** The objects of an install, in apply order. */
export function installManifests(input: InstallOptions | ResolvedInstallOptions = {}): KubernetesObject[] {
  const options = resolveInstallOptions(input);
  return [
    ktraceNamespace(options.namespace),
    agentPriorityClass(),
    ...serviceAccounts(options.namespace),
    ...agentRbac(options.namespace),
    ...userRoles(options.namespace),
    agentService(options),
    agentDaemonSet(options),
    ...(options.podMonitor ? [agentPodMonitor(options)] : []),
  ];
}

/** The same objects in the order to delete them: the workload first, the Namespace (and all left in it) last. */
export function uninstallOrder(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return [...objects].reverse();
}
