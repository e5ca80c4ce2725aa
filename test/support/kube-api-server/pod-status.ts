// The pod status a kubelet would report for a test's update: phase, IPs, start time, container statuses and the
// Ready conditions, merged over what the pod had.
import type { KubeObject } from './store.js';

export interface PodStatusUpdate {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** Binds the pod to a node (spec.nodeName), as the scheduler would. */
  nodeName?: string;
  podIP?: string;
  hostIP?: string;
  reason?: string;
  message?: string;
  /** Marks every container ready/running (or terminated for Succeeded/Failed) with these container IDs. */
  containerIDs?: Record<string, string>;
  /** Any other status fields, merged in as they are. */
  extra?: Record<string, unknown>;
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function podStatusAfter(pod: KubeObject, u: PodStatusUpdate): Record<string, unknown> {
  const status = { ...((pod['status'] ?? {}) as Record<string, unknown>) };
  if (u.phase !== undefined) status['phase'] = u.phase;
  if (u.podIP !== undefined) {
    status['podIP'] = u.podIP;
    status['podIPs'] = [{ ip: u.podIP }];
  }
  if (u.hostIP !== undefined) status['hostIP'] = u.hostIP;
  if (u.reason !== undefined) status['reason'] = u.reason;
  if (u.message !== undefined) status['message'] = u.message;
  if (u.phase === 'Running' && status['startTime'] === undefined) status['startTime'] = now();
  if (u.containerIDs !== undefined) {
    const containers = ((pod['spec'] ?? {}) as { containers?: { name: string; image?: string }[] }).containers ?? [];
    const running = u.phase === undefined || u.phase === 'Running';
    const ok = u.phase === 'Succeeded';
    status['containerStatuses'] = containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: u.containerIDs![c.name] ?? '',
      ready: running,
      started: running,
      restartCount: 0,
      state: running
        ? { running: { startedAt: status['startTime'] ?? now() } }
        : { terminated: { exitCode: ok ? 0 : 1, reason: ok ? 'Completed' : 'Error' } },
    }));
    const t = now();
    const ready = running ? 'True' : 'False';
    status['conditions'] = [
      { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: t },
      { type: 'Initialized', status: 'True', lastTransitionTime: t },
      { type: 'Ready', status: ready, lastTransitionTime: t },
      { type: 'ContainersReady', status: ready, lastTransitionTime: t },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
    ];
  }
  Object.assign(status, u.extra ?? {});
  return status;
}
