// A list+watch loop that never gives up: list, watch from the list's resourceVersion, re-watch when a watch ends,
// relist on 410 Gone, back off (doubling, capped) while the API server is away, and bound every watch so a silent
// stall cannot last. Keeps the objects it has seen and reports each change once. client-node 1.4's informer stops
// on the first error and takes no field selector, so the agent and the pod cache use this instead.
import { Watch } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KtraceError } from '@ktrace/parser';
import type { ApiCall, KubeClient } from './kube-client.js';
import { httpStatusOf, kubeError } from './kube-client.js';

export type WatchChange = 'added' | 'modified' | 'deleted';

export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export interface ListWatchOptions<T extends KubernetesObject> {
  client: KubeClient;
  /** The collection's URL path, e.g. /api/v1/namespaces/ktrace/configmaps. */
  path: string;
  /** For error messages: verb `list`, the resource, the namespace. */
  call: ApiCall;
  /** Lists the collection with the same selectors (a typed client-node call). */
  list: () => Promise<ObjectList<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onChange: (change: WatchChange, object: T) => void;
  /** After each successful (re)list, with every object now known. */
  onSynced?: (objects: T[]) => void;
  /** A list or watch failed; the loop retries after `retryInMillis`. */
  onError?: (error: KtraceError, retryInMillis: number) => void;
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** The server is asked to end each watch after about this long; the client aborts it a little later. Default 5 min. */
  watchTimeoutMillis?: number;
}

export interface ListWatchStats {
  lists: number;
  watches: number;
  failures: number;
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

export class ListWatch<T extends KubernetesObject> {
  private readonly options: ListWatchOptions<T>;
  private readonly known = new Map<string, T>();
  private resourceVersion: string | undefined;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private failures = 0;
  private syncedOnce = false;
  readonly stats: ListWatchStats = { lists: 0, watches: 0, failures: 0 };

  constructor(options: ListWatchOptions<T>) {
    this.options = options;
  }

  /** True once a list has succeeded (the known objects mirror the server as of then). */
  get synced(): boolean {
    return this.syncedOnce;
  }

  objects(): T[] {
    return [...this.known.values()];
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
  }

  private emit(change: WatchChange, object: T): void {
    try {
      this.options.onChange(change, object);
    } catch {
      // a failing handler must not stop the loop
    }
  }

  private schedule(fn: () => void, millis: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) fn();
    }, millis);
  }

  private backoff(): number {
    const min = this.options.minBackoffMillis ?? 500;
    const max = this.options.maxBackoffMillis ?? 30_000;
    return Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
  }

  private fail(error: unknown, call: ApiCall): void {
    if (this.stopped) return;
    this.failures++;
    this.stats.failures++;
    const retry = this.backoff();
    try {
      this.options.onError?.(kubeError(error, call, this.options.client.server), retry);
    } catch {
      // as above
    }
    this.schedule(() => void this.relist(), retry);
  }

  private async relist(): Promise<void> {
    let list: ObjectList<T>;
    this.stats.lists++;
    try {
      list = await this.options.list();
    } catch (error) {
      this.fail(error, this.options.call);
      return;
    }
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = keyOf(object);
      seen.add(key);
      const before = this.known.get(key);
      this.known.set(key, object);
      if (before === undefined) this.emit('added', object);
      else if (before.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit('modified', object);
    }
    for (const [key, object] of [...this.known]) {
      if (!seen.has(key)) {
        this.known.delete(key);
        this.emit('deleted', object);
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion;
    this.syncedOnce = true;
    try {
      this.options.onSynced?.(this.objects());
    } catch {
      // as above
    }
    void this.watch();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const timeoutMillis = this.options.watchTimeoutMillis ?? 300_000;
    const startedAt = Date.now();
    let events = 0;
    let gone = false;
    let finished = false;
    const call: ApiCall = { ...this.options.call, verb: 'watch' };
    this.stats.watches++;
    const onDone = (error: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      this.controller = undefined;
      if (this.stopped) return;
      if (gone || httpStatusOf(error) === 410) {
        // Our resourceVersion is too old: list again, and report what vanished meanwhile.
        this.schedule(() => void this.relist(), 0);
        return;
      }
      if (error !== null && error !== undefined && !(error instanceof Error && error.name === 'AbortError' && aborted)) {
        this.fail(error, call);
        return;
      }
      // A clean end (the server's timeout, or ours): watch again from where we are. A watch that ends at once with
      // nothing in it, again and again, is a failing server: back off.
      if (events === 0 && Date.now() - startedAt < 1000) {
        this.failures++;
        this.schedule(() => void this.watch(), this.backoff());
      } else {
        this.schedule(() => void this.watch(), 0);
      }
    };
    let aborted = false;
    const watchdog = setTimeout(() => {
      aborted = true;
      this.controller?.abort();
      onDone(null);
    }, timeoutMillis + 30_000);
    watchdog.unref();
    try {
      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.max(1, Math.round((timeoutMillis * (0.8 + Math.random() * 0.2)) / 1000)),
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      };
      this.controller = await new Watch(this.options.client.kubeConfig).watch(
        this.options.path,
        query,
        (phase: string, object: T & { code?: number }) => {
          if (finished) return;
          events++;
          if (phase === 'ERROR') {
            if (object?.code === 410) gone = true;
            this.controller?.abort();
            onDone(gone ? null : Object.assign(new Error((object as { message?: string })?.message ?? 'watch error'), { statusCode: object?.code }));
            return;
          }
          const version = object?.metadata?.resourceVersion;
          if (version !== undefined) this.resourceVersion = version;
          if (phase === 'BOOKMARK') return;
          this.failures = 0;
          const key = keyOf(object);
          if (phase === 'DELETED') {
            this.known.delete(key);
            this.emit('deleted', object);
          } else if (phase === 'ADDED' || phase === 'MODIFIED') {
            const existed = this.known.has(key);
            this.known.set(key, object);
            this.emit(existed ? 'modified' : 'added', object);
          }
        },
        onDone,
      );
      if (finished) this.controller = undefined;
    } catch (error) {
      onDone(error);
    }
  }
}
