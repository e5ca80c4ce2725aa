// Plays the Job controller and the kubelet for one-shot trace Jobs on the loopback API server: an unsuspended Job
// gets a pod on the node its affinity names, which then runs a script: prints a log captured from the real
// `ktrace run` (bpftrace 0.17) and exits, keeps running until the Job is suspended (then prints the final dump and
// is deleted, as the controller does), fails to pull its image, exits 2 with a real program error, or never starts.
import type { KubeApiServer, KubeObject } from './kube-api-server/index.js';

export type PodScript = 'complete' | 'until-stopped' | 'image-pull' | 'bad-program' | 'no-pod';

export interface CapturedLogs {
  /** What the pod prints until it stops (start-up records and periodic samples). */
  head: string;
  /** What it prints after SIGTERM/--duration: the final dump and the stop records. */
  tail: string;
  /** A run with a program bpftrace rejects (stderr of the real ktrace run, exit 2). */
  bad: string;
}

interface JobSpec {
  suspend?: boolean;
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Record<string, unknown>;
  };
}

function nodeOf(template: JobSpec['template']): string {
  const affinity = template.spec['affinity'] as
    | {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: { matchFields: { values: string[] }[] }[];
          };
        };
      }
    | undefined;
  return (
    affinity?.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]?.matchFields[0]
      ?.values[0] ?? ''
  );
}

export class JobKubelet {
  script: PodScript = 'complete';
  /** The pods it made, by Job name. */
  readonly pods = new Map<string, string>();
  private readonly running = new Set<string>();
  private readonly stopListening: () => void;
  private seq = 0;

  constructor(
    private readonly api: KubeApiServer,
    private readonly logs: CapturedLogs,
  ) {
    this.stopListening = api.onChange((event) => {
      if (event.key !== 'jobs.batch' || event.type === 'DELETED') return;
      setImmediate(() => this.reconcile(event.object));
    });
  }

  close(): void {
    this.stopListening();
  }

  private reconcile(job: KubeObject): void {
    const namespace = job.metadata.namespace ?? '';
    const name = job.metadata.name ?? '';
    const spec = job['spec'] as JobSpec;
    const current = this.api.get('jobs.batch', namespace, name);
    if (current === undefined || current.metadata.uid !== job.metadata.uid) return;
    const pod = this.pods.get(name);
    if (spec.suspend === true) {
      if (pod !== undefined && this.running.has(pod)) this.stop(namespace, pod);
      return;
    }
    if (pod !== undefined && this.api.get('pods', namespace, pod) !== undefined) return;
    if (this.script === 'no-pod') return;
    const podName = `${name}-${(this.seq++).toString(36).padStart(5, 'x')}`;
    this.pods.set(name, podName);
    this.api.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        labels: { ...spec.template.metadata?.labels, 'job-name': name, 'batch.kubernetes.io/job-name': name },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name,
            uid: job.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...spec.template.spec, nodeName: nodeOf(spec.template) },
    });
    // The Job controller records when the Job started (once, when it first makes a pod).
    const latest = this.api.get('jobs.batch', namespace, name);
    if (latest !== undefined && (latest['status'] as { startTime?: string } | undefined)?.startTime === undefined) {
      const status = {
        ...(latest['status'] as object | undefined),
        startTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        active: 1,
      };
      this.api.writer.update(
        this.api.type('jobs.batch'),
        namespace,
        name,
        { ...latest, status },
        { manager: 'kube-controller-manager', subresource: 'status' },
      );
    }
    this.play(namespace, podName);
  }

  private play(namespace: string, pod: string): void {
    const api = this.api;
    if (this.script === 'image-pull') {
      api.setPodStatus(namespace, pod, {
        phase: 'Pending',
        extra: {
          containerStatuses: [
            {
              name: 'trace',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ErrImagePull', message: 'failed to pull and unpack image: not found' } },
            },
          ],
        },
      });
      return;
    }
    api.setPodStatus(namespace, pod, { phase: 'Running', containerIDs: { trace: `containerd://${pod}` } });
    if (this.script === 'bad-program') {
      api.appendLog(namespace, pod, 'trace', this.logs.bad);
      this.exit(namespace, pod, 2);
      return;
    }
    api.appendLog(namespace, pod, 'trace', this.logs.head);
    if (this.script === 'complete') {
      api.appendLog(namespace, pod, 'trace', this.logs.tail);
      this.exit(namespace, pod, 0);
      return;
    }
    this.running.add(pod);
  }

  private exit(namespace: string, pod: string, exitCode: number): void {
    this.api.setPodStatus(namespace, pod, {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      extra: {
        containerStatuses: [
          {
            name: 'trace',
            image: 'x',
            imageID: '',
            containerID: `containerd://${pod}`,
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } },
          },
        ],
      },
    });
    this.api.endLog(namespace, pod, 'trace');
  }

  /** SIGTERM from the pod's deletion: ktrace run prints the final dump, exits, and the pod is gone. */
  private stop(namespace: string, pod: string): void {
    this.running.delete(pod);
    this.api.appendLog(namespace, pod, 'trace', this.logs.tail);
    this.exit(namespace, pod, 0);
    setTimeout(() => this.api.delete('pods', namespace, pod), 50);
  }
}
