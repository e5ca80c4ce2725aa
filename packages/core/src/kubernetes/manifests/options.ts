// The options of `ktrace install` (namespace, image, cluster name, port, privileges), checked once so that every
// generator can trust them. A bad value is KTRACE_BAD_OPTION naming the option, the value and what is allowed.
import { KtraceError } from '@ktrace/parser';
import { DEFAULT_IMAGE, DEFAULT_LISTEN_PORT, DEFAULT_NAMESPACE } from './labels.js';
import { PRIVILEGES_PROFILES, SECCOMP_PROFILES } from './privileges.js';
import type { PrivilegesProfile, SeccompProfile } from './privileges.js';

export interface InstallOptions {
  /** Where the agent, its ConfigMaps and one-shot Jobs live (default `ktrace`). */
  namespace?: string;
  /** The agent image (default ghcr.io/ktrace/ktrace:<version>). */
  image?: string;
  /** `k8s.cluster.name` on every series the agents export; none when unset. */
  clusterName?: string | undefined;
  /** The agents' /metrics and /healthz port (default 9464). */
  listenPort?: number;
  /** What the agent may do on its node (default `default`: BPF, PERFMON, SYSLOG). */
  privileges?: PrivilegesProfile;
  seccomp?: SeccompProfile;
  /** Also generate a Prometheus Operator PodMonitor (needs its CRD in the cluster). */
  podMonitor?: boolean;
}

export type ResolvedInstallOptions = Required<Omit<InstallOptions, 'clusterName'>> & {
  clusterName: string | undefined;
};

// DNS-1123 label: what a namespace name must be.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// An image reference: [registry[:port]/]path[:tag][@digest], lower-case path.
const IMAGE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
// A label value: what k8s.cluster.name must be when it also goes into a label.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function bad(message: string): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_OPTION', message });
}

export function checkNamespace(namespace: string, option = '--namespace'): string {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw bad(
      `${option} "${namespace}" is not a valid namespace name: lower-case letters, digits and "-", at most 63, starting and ending with a letter or digit`,
    );
  }
  return namespace;
}

export function resolveInstallOptions(options: InstallOptions = {}): ResolvedInstallOptions {
  const namespace = checkNamespace(options.namespace ?? DEFAULT_NAMESPACE);
  const image = options.image ?? DEFAULT_IMAGE;
  if (!IMAGE.test(image))
    throw bad(`--image "${image}" is not an image reference like registry.example.com/ktrace:0.1.0`);
  const listenPort = options.listenPort ?? DEFAULT_LISTEN_PORT;
  if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535)
    throw bad(`--listen-port must be a port number from 1 to 65535, not ${listenPort}`);
  const privileges = options.privileges ?? 'default';
  if (!(PRIVILEGES_PROFILES as readonly string[]).includes(privileges)) {
    throw bad(`--privileges must be one of ${PRIVILEGES_PROFILES.join(', ')}, not "${privileges}"`);
  }
  const seccomp = options.seccomp ?? 'runtime-default';
  if (!(SECCOMP_PROFILES as readonly string[]).includes(seccomp))
    throw bad(`--seccomp must be one of ${SECCOMP_PROFILES.join(', ')}, not "${seccomp}"`);
  const clusterName = options.clusterName;
  if (clusterName !== undefined && (clusterName === '' || clusterName.length > 63 || !LABEL_VALUE.test(clusterName))) {
    throw bad(
      `--cluster-name "${clusterName}" must be 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
    );
  }
  return { namespace, image, clusterName, listenPort, privileges, seccomp, podMonitor: options.podMonitor ?? false };
}
