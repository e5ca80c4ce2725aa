// A stand-in for the Job controller, scheduler and kubelet, for tests of workflows that create Jobs: each new Job
// gets one Pod (owned by it, named <job>-xxxxx) on the node its template pins, which then runs; complete() ends it.
import { randomBytes } from 'node:crypto';
import type { KubeApiServer, PodStatusUpdate } from './server.js';
import type { KubeObject } from './store.js';

export interface JobControllerOptions {
  /**
   * How a scheduled pod starts: a status update (default: Running with a containerd ID per container), or
   * undefined to leave it Pending (e.g. to play an image that cannot be pulled, set `reason`/`extra` yourself).
   */
  start?: (pod: KubeObject, node: string) => PodStatusUpdate | undefined;
}

interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    containers?: { name: string }[];
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: {
          nodeSelectorTerms?: {
            matchFields?: { key: string; operator: string; values?: string[] }[];
            matchExpressions?: { key: string; operator: string; values?: string[] }[];
          }[];
        };
      };
    };
  };
}

/** The node a pod template pins: spec.nodeName, the hostname node selector, or a required node affinity term. */
export function pinnedNode(t: Template): string | undefined {
  const spec = t.spec ?? {};
  if (spec.nodeName !== undefined) return spec.nodeName;
  const host = spec.nodeSelector?.['kubernetes.io/hostname'];
  if (host !== undefined) return host;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ??
    []) {
    for (const m of [...(term.matchFields ?? []), ...(term.matchExpressions ?? [])]) {
      if (
        (m.key === 'metadata.name' || m.key === 'kubernetes.io/hostname') &&
        m.operator === 'In' &&
        m.values?.length === 1
      )
        return m.values[0];
    }
  }
  return undefined;
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class JobController {
  private readonly unsubscribe: () => void;
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(
    private readonly api: KubeApiServer,
    private readonly options: JobControllerOptions = {},
  ) {
    this.unsubscribe = api.onChange((e) => {
      if (e.type !== 'ADDED' || e.type_.plural !== 'jobs' || e.type_.group !== 'batch') return;
      // Controllers act after the write that woke them, never inside it.
      const job = e.object;
      const h = setImmediate(() => {
        this.pending.delete(h);
        this.startPod(job);
      });
      this.pending.add(h);
    });
  }

  stop(): void {
    this.unsubscribe();
    for (const h of this.pending) clearImmediate(h);
  }

  private startPod(job: KubeObject): void {
    const ns = job.metadata.namespace!;
    const live = this.api.get('jobs.batch', ns, job.metadata.name!);
    if (live === undefined || live.metadata.uid !== job.metadata.uid) return;
    const spec = (live['spec'] ?? {}) as { suspend?: boolean; template?: Template };
    if (spec.suspend === true) return;
    const template = spec.template ?? {};
    const name = `${job.metadata.name}-${randomBytes(4).toString('hex').slice(0, 5)}`;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations === undefined ? {} : { annotations: { ...template.metadata.annotations } }),
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: job.metadata.name!,
            uid: job.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: structuredClone(template.spec ?? {}),
    };
    const created = this.api.writer.create(this.api.type('pods'), ns, pod, { manager: 'kube-controller-manager' });
    this.setJobStatus(ns, job.metadata.name!, {
      active: 1,
      ready: 0,
      terminating: 0,
      startTime: now(),
      uncountedTerminatedPods: {},
    });
    const node = pinnedNode(template);
    const nodeExists = node !== undefined && this.api.get('nodes', undefined, node) !== undefined;
    if (!nodeExists) {
      const message =
        node === undefined
          ? '0/0 nodes are available'
          : `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.`;
      this.api.setPodStatus(ns, name, {
        extra: {
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now() },
          ],
        },
      });
      return;
    }
    const containers = ((created['spec'] as Template['spec'])?.containers ?? []).map((c) => c.name);
    const start =
      this.options.start === undefined
        ? {
            phase: 'Running' as const,
            containerIDs: Object.fromEntries(
              containers.map((c) => [c, `containerd://${randomBytes(32).toString('hex')}`]),
            ),
          }
        : this.options.start(created, node);
    this.api.setPodStatus(ns, name, { nodeName: node, ...start });
    if (start?.phase === 'Running') this.setJobStatus(ns, job.metadata.name!, { ready: 1 });
  }

  /** The job's pod exits with `exitCode`: pod Succeeded or Failed, its logs end, the Job Complete or Failed. */
  complete(namespace: string, jobName: string, exitCode = 0): void {
    const job = this.api.get('jobs.batch', namespace, jobName);
    if (job === undefined) throw new Error(`job ${namespace}/${jobName} does not exist`);
    const pods = this.api.list('pods', {
      namespace,
      labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata.uid}`,
    });
    const ok = exitCode === 0;
    for (const p of pods) {
      const containers = ((p['spec'] as Template['spec'])?.containers ?? []).map((c) => c.name);
      this.api.setPodStatus(namespace, p.metadata.name!, {
        phase: ok ? 'Succeeded' : 'Failed',
        extra: {
          containerStatuses: containers.map((c) => ({
            name: c,
            ready: false,
            started: false,
            restartCount: 0,
            image: '',
            imageID: '',
            state: { terminated: { exitCode, reason: ok ? 'Completed' : 'Error', finishedAt: now() } },
          })),
        },
      });
      for (const c of containers) this.api.endLog(namespace, p.metadata.name!, c);
    }
    const t = now();
    this.setJobStatus(namespace, jobName, {
      active: 0,
      ready: 0,
      ...(ok ? { succeeded: 1, completionTime: t } : { failed: 1 }),
      conditions: ok
        ? [
            { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: t, lastTransitionTime: t },
            { type: 'Complete', status: 'True', lastProbeTime: t, lastTransitionTime: t },
          ]
        : [
            {
              type: 'FailureTarget',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastProbeTime: t,
              lastTransitionTime: t,
            },
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastProbeTime: t,
              lastTransitionTime: t,
            },
          ],
    });
  }

  private setJobStatus(namespace: string, name: string, patch: Record<string, unknown>): void {
    const job = this.api.get('jobs.batch', namespace, name);
    if (job === undefined) return;
    const status = { ...((job['status'] ?? {}) as Record<string, unknown>), ...patch };
    this.api.writer.update(
      this.api.type('jobs.batch'),
      namespace,
      name,
      { ...job, status },
      { manager: 'kube-controller-manager', subresource: 'status' },
    );
  }
}
