// The agent's workload and how it is reached: a DaemonSet on every node, its PriorityClass, a headless Service
// and a Prometheus Operator PodMonitor (plus prometheus.io/* annotations for plain Prometheus).
import type { KubernetesObject, V1DaemonSet, V1PriorityClass, V1Service } from '@kubernetes/client-node';
import { AGENT_NAME, agentSelector, ktraceLabels, KTRACE_VERSION, VERSION_LABEL } from './labels.js';
import type { ResolvedInstallOptions } from './options.js';
import {
  containerSecurityContext,
  hostVolumeMounts,
  hostVolumes,
  podSecurityFields,
  traceResources,
} from './privileges.js';

/** Seconds the agent gets between SIGTERM and SIGKILL: its bpftraces' final dumps (ktrace run's --stop-timeout
 *  default is 30 s) plus a margin for the last export. */
export const AGENT_TERMINATION_GRACE_SECONDS = 45;

/**
 * Above ordinary workloads, so a full node evicts them rather than the agent, and below system-node-critical,
 * which is kept for what the node itself needs (and which many clusters allow only in kube-system).
 */
export function agentPriorityClass(): V1PriorityClass {
  return {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: AGENT_NAME, labels: ktraceLabels('agent') },
    value: 1_000_000,
    globalDefault: false,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}

/**
 * The agent's command line. What the DaemonSet expects of `ktrace agent`: `--listen HOST:PORT` serves /metrics
 * and /healthz for every trace; `--cluster-name` sets k8s.cluster.name; the node and namespace come from
 * NODE_NAME and POD_NAMESPACE (downward API), POD_NAME names the pod for service.instance.id; in-cluster config.
 * /healthz must answer 200 while the agent serves, even when a trace is failing: the liveness probe restarts the
 * whole agent (all of the node's traces) when it fails.
 */
export function agentArgs(options: ResolvedInstallOptions): string[] {
  return [
    'agent',
    '--listen',
    `0.0.0.0:${options.listenPort}`,
    ...(options.clusterName === undefined ? [] : ['--cluster-name', options.clusterName]),
  ];
}

function downward(name: string, fieldPath: string): { name: string; valueFrom: { fieldRef: { fieldPath: string } } } {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

export function agentDaemonSet(options: ResolvedInstallOptions): V1DaemonSet {
  const labels = { ...ktraceLabels('agent'), [VERSION_LABEL]: KTRACE_VERSION };
  const probe = { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10, timeoutSeconds: 5 };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: AGENT_NAME, namespace: options.namespace, labels },
    spec: {
      selector: { matchLabels: agentSelector() },
      // One node at a time: a bad image or config stops at the first node instead of taking every agent down.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels,
          // The plain-Prometheus convention (kubernetes_sd_configs role: pod + relabeling on these annotations).
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(options.listenPort),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          serviceAccountName: AGENT_NAME,
          priorityClassName: AGENT_NAME,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          // Every node, whatever its taints (NoSchedule, PreferNoSchedule, NoExecute): an untraced node is a blind spot.
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: AGENT_TERMINATION_GRACE_SECONDS,
          ...podSecurityFields(options.privileges, options.seccomp),
          containers: [
            {
              name: 'agent',
              image: options.image,
              imagePullPolicy: 'IfNotPresent',
              args: agentArgs(options),
              env: [
                downward('NODE_NAME', 'spec.nodeName'),
                downward('POD_NAMESPACE', 'metadata.namespace'),
                downward('POD_NAME', 'metadata.name'),
              ],
              ports: [{ name: 'metrics', containerPort: options.listenPort, protocol: 'TCP' }],
              // bpftrace compiles with LLVM at start: give the agent time before liveness counts.
              startupProbe: { ...probe, failureThreshold: 30 },
              livenessProbe: { ...probe, failureThreshold: 3 },
              readinessProbe: { ...probe, failureThreshold: 2 },
              resources: traceResources('agent'),
              securityContext: containerSecurityContext(options.privileges),
              volumeMounts: hostVolumeMounts(),
            },
          ],
          volumes: hostVolumes(),
        },
      },
    },
  };
}

/** Headless: one DNS record and one endpoint per agent, for a ServiceMonitor or a per-node scrape; no load balancing. */
export function agentService(options: ResolvedInstallOptions): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: AGENT_NAME, namespace: options.namespace, labels: ktraceLabels('agent') },
    spec: {
      clusterIP: 'None',
      selector: agentSelector(),
      ports: [{ name: 'metrics', port: options.listenPort, targetPort: 'metrics', protocol: 'TCP' }],
    },
  };
}

/** monitoring.coreos.com/v1 PodMonitor: client-node has no model for it, so its shape is written here. */
export interface PodMonitor extends KubernetesObject {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PodMonitor';
  spec: {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: Array<{
      port: string;
      path: string;
      relabelings: Array<{ sourceLabels: string[]; targetLabel: string; action: 'replace' }>;
    }>;
  };
}

/**
 * Scrapes every agent pod; a DaemonSet needs no Service for it. No namespaceSelector: a PodMonitor selects pods of
 * its own namespace, so a kustomize `namespace:` overlay moves it along with the agents. The node name is copied to a `node` label:
 * series are per node, and the pod name of an agent says less. kube-prometheus-stack selects monitors by its
 * `release` label unless podMonitorSelectorNilUsesHelmValues=false: add that label in an overlay if needed.
 */
export function agentPodMonitor(options: ResolvedInstallOptions): PodMonitor {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: AGENT_NAME, namespace: options.namespace, labels: ktraceLabels('agent') },
    spec: {
      selector: { matchLabels: agentSelector() },
      podMetricsEndpoints: [
        {
          port: 'metrics',
          path: '/metrics',
          relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node', action: 'replace' }],
        },
      ],
    },
  };
}
