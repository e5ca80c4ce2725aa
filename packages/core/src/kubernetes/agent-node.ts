// The agent's view of its own Node: its labels, read with a get (all the RBAC grants) and again every
// nodeRefreshSeconds. Node labels change rarely, and a get per minute costs the API server less than a watch per node.
// Labels once read stay good while the API server is away.
import { isKtraceError } from '@ktrace/parser';
import type { LogRecord } from '../runner.js';
import type { NodeView } from './agent-plan.js';
import type { KubeClient } from './kube-client.js';

export interface NodeReaderOptions {
  client: KubeClient;
  node: string;
  /** Default 60 s. */
  refreshSeconds?: number;
  /** While the labels are unknown, the next read comes after min(this, 5 s). Default 30 s. */
  maxBackoffMillis?: number;
  log: (record: LogRecord) => void;
  /** The view changed (labels read, changed, or why they are unknown). */
  onChange: () => void;
}

export class NodeReader {
  readonly reads = { gets: 0, failures: 0 };
  private readonly options: NodeReaderOptions;
  private current: NodeView;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private loggedProblem: string | undefined;

  constructor(options: NodeReaderOptions) {
    this.options = options;
    this.current = { name: options.node, labels: undefined };
  }

  get view(): NodeView {
    return this.current;
  }

  start(): void {
    void this.read();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private async read(): Promise<void> {
    if (this.stopped) return;
    const { client, node } = this.options;
    const before = JSON.stringify(this.current);
    this.reads.gets++;
    try {
      const read = await client.call({ verb: 'get', resource: 'nodes', name: node }, () =>
        client.core.readNode({ name: node }),
      );
      this.current = { name: node, labels: { ...(read.metadata?.labels ?? {}) } };
    } catch (error) {
      this.reads.failures++;
      const message = isKtraceError(error) ? error.message : String(error);
      if (this.current.labels === undefined) this.current = { name: node, labels: undefined, unknownBecause: message };
      if (this.loggedProblem !== message) {
        this.loggedProblem = message;
        this.options.log({
          level: 'warn',
          msg: `cannot read node ${node}: ${message}${this.current.labels === undefined ? '; traces with a nodeSelector wait' : ''}`,
        });
      }
    }
    if (JSON.stringify(this.current) !== before) this.options.onChange();
    const retry =
      this.current.labels === undefined
        ? Math.min(this.options.maxBackoffMillis ?? 30_000, 5_000)
        : (this.options.refreshSeconds ?? 60) * 1000;
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.read(), retry);
      this.timer.unref();
    }
  }
}
