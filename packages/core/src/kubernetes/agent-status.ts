// The agent's node status Lease: written on a change of what it reports (debounced) and once per heartbeat, never
// per map dump or per pod event that changes nothing; a failed write is retried at the next change or heartbeat.
import { isKtraceError } from '@ktrace/parser';
import type { LogRecord } from '../runner.js';
import type { KubeClient } from './kube-client.js';
import { agentFieldManager } from './kube-client.js';
import { nodeStatusLease } from './node-status.js';
import type { NodeStatus, NodeTraceStatus } from './node-status.js';

export interface NodeStatusReporterOptions {
  client: KubeClient;
  node: string;
  heartbeatSeconds: number;
  version: string;
  log: (record: LogRecord) => void;
  /** What the agent reports now. */
  snapshot: () => { watching: boolean; traces: Record<string, NodeTraceStatus> };
}

/** What a report says apart from counters and times that move with every dump (those wait for the heartbeat). */
function shapeOf(status: NodeStatus): string {
  const traces = Object.entries(status.traces).map(([name, t]) => [
    name,
    t.state,
    t.digest,
    t.error,
    t.reason,
    t.attachedProbes,
    t.restarts,
  ]);
  return JSON.stringify([status.watching, traces]);
}

export class NodeStatusReporter {
  readonly counters = { writes: 0, failures: 0 };
  private readonly options: NodeStatusReporterOptions;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private failing = false;
  private lastShape: string | undefined;
  private heartbeatDue = false;
  private stopped = false;

  constructor(options: NodeStatusReporterOptions) {
    this.options = options;
  }

  start(): void {
    this.heartbeat = setInterval(() => {
      this.heartbeatDue = true;
      this.changed(0);
    }, this.options.heartbeatSeconds * 1000);
  }

  /** Something reported may have changed: written after `delayMillis` unless nothing did. */
  changed(delayMillis = 500): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.writing !== undefined) {
        this.changed(delayMillis);
        return;
      }
      this.writing = this.write()
        .catch(() => undefined)
        .finally(() => {
          this.writing = undefined;
        });
    }, delayMillis);
    this.timer.unref();
  }

  /** Stops the timers and writes a last report with no traces. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.writing;
    await this.write(true).catch(() => undefined);
  }

  private report(): NodeStatus {
    const now = this.options.snapshot();
    return {
      node: this.options.node,
      updatedAt: new Date().toISOString(),
      heartbeatSeconds: this.options.heartbeatSeconds,
      agent: { version: this.options.version, startedAt: this.startedAt, pid: process.pid },
      watching: now.watching,
      traces: this.stopped ? {} : now.traces,
    };
  }

  private async write(final = false): Promise<void> {
    const status = this.report();
    const shape = shapeOf(status);
    if (!final && !this.heartbeatDue && !this.failing && shape === this.lastShape) return;
    this.heartbeatDue = false;
    try {
      await this.options.client.apply(nodeStatusLease(status, this.options.client.namespace), {
        fieldManager: agentFieldManager,
        force: true,
      });
      this.counters.writes++;
      this.lastShape = shape;
      if (this.failing) this.options.log({ level: 'info', msg: 'node status written again' });
      this.failing = false;
    } catch (error) {
      this.counters.failures++;
      if (!this.failing)
        this.options.log({
          level: 'warn',
          msg: `cannot write the node status: ${isKtraceError(error) ? error.message : String(error)}; retrying at the next change or heartbeat`,
        });
      this.failing = true;
      throw error;
    }
  }
}
