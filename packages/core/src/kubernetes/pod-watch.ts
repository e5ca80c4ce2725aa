// The pods of one node feeding a PodCache: the list+watch loop (list-watch.ts) over `/api/v1/pods` with
// `fieldSelector=spec.nodeName=NODE`, listed in pages, so only this node's pods ever reach the agent.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from './kube-client.js';
import { ListWatch } from './list-watch.js';
import type { ListWatchStatus, ObjectList } from './list-watch.js';
import { podCacheFeed } from './pod-cache.js';
import type { PodCache } from './pod-cache.js';

export interface PodWatchOptions {
  client: KubeClient;
  nodeName: string;
  cache: PodCache;
  /** First retry delay after an error (default 500 ms), doubled per consecutive error up to maxBackoffMillis. */
  initialBackoffMillis?: number;
  /** Default 30 000 ms. */
  maxBackoffMillis?: number;
  /** The server ends each watch after about this long (default 300 s); a watch silent for this + 30 s is restarted. */
  watchTimeoutSeconds?: number;
  /** Where errors and restarts are reported (default: nowhere; the agent logs them). */
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

const pageSize = 500;

export class PodWatch {
  private readonly loop: ListWatch<V1Pod>;
  private readonly syncedWaiters: (() => void)[] = [];

  constructor(options: PodWatchOptions) {
    const { client, nodeName, onLog } = options;
    const fieldSelector = `spec.nodeName=${nodeName}`;
    const feed = podCacheFeed(options.cache);
    this.loop = new ListWatch<V1Pod>({
      client,
      path: '/api/v1/pods',
      call: { verb: 'list', resource: 'pods' },
      name: `the pod watch of node ${nodeName}`,
      fieldSelector,
      list: async (): Promise<ObjectList<V1Pod>> => {
        const items: V1Pod[] = [];
        let resourceVersion: string | undefined;
        let next: string | undefined;
        do {
          const page = await client.core.listPodForAllNamespaces({
            fieldSelector,
            limit: pageSize,
            ...(next === undefined ? {} : { _continue: next }),
          });
          items.push(...page.items);
          resourceVersion = page.metadata?.resourceVersion;
          next = page.metadata?._continue === '' ? undefined : page.metadata?._continue;
        } while (next !== undefined);
        return { items, metadata: resourceVersion === undefined ? {} : { resourceVersion } };
      },
      onChange: feed.onChange,
      onSynced: (pods) => {
        feed.onSynced(pods);
        for (const resolve of this.syncedWaiters.splice(0)) resolve();
      },
      onError: (error, retry) => onLog?.('warn', `${error.message}; retrying in ${retry} ms`),
      ...(onLog === undefined ? {} : { onLog }),
      ...(options.initialBackoffMillis === undefined ? {} : { minBackoffMillis: options.initialBackoffMillis }),
      ...(options.maxBackoffMillis === undefined ? {} : { maxBackoffMillis: options.maxBackoffMillis }),
      ...(options.watchTimeoutSeconds === undefined ? {} : { watchTimeoutMillis: options.watchTimeoutSeconds * 1000 }),
    });
  }

  /** Starts listing and watching; errors never escape (they become status and log lines, then a retry). */
  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  status(): ListWatchStatus {
    return this.loop.status();
  }

  /** True while the cache follows the server: listed, and a watch is open (not listing again, not backing off). */
  current(): boolean {
    const { synced, state } = this.loop.status();
    return synced && state === 'watching';
  }

  /** Resolves once the first list has filled the cache (or at once if it has). */
  synced(): Promise<void> {
    if (this.loop.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }
}
