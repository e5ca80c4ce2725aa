// The one list+watch loop of the cluster layer (trace ConfigMaps, the node's pods, namespaces): list, watch from the
// list's resourceVersion, watch again when a watch ends, list again on 410 Gone, back off (doubling, capped,
// jittered) while the API server is away, and restart a watch that stays silent too long. Keeps the objects it has
// seen and reports each change once. client-node 1.4's informer stops on the first error and takes no field
// selector, so ktrace drives its Watch directly, here only.
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
  /** Lists the whole collection with the same selectors (a typed client-node call; it may page). */
  list: () => Promise<ObjectList<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onChange: (change: WatchChange, object: T) => void;
  /** After each successful (re)list, with every object now known. */
  onSynced?: (objects: T[]) => void;
  /** A list or watch failed; the loop retries after `retryInMillis`. */
  onError?: (error: KtraceError, retryInMillis: number) => void;
  /** Restarts that are no failure: a 410 Gone relist, a silent watch restarted. */
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /** What log lines call this loop; default `the watch of <resource>`. */
  name?: string;
  /** First retry delay after a failure (default 500 ms), doubled per consecutive failure up to maxBackoffMillis. */
  minBackoffMillis?: number;
  /** Default 30 000 ms. */
  maxBackoffMillis?: number;
  /** The server is asked to end each watch after about this long (default 5 min); a watch silent for this + 30 s is
   * restarted. */
  watchTimeoutMillis?: number;
}

/** The loop's requests: lists and watches started, lists and watches that failed. */
export interface ListWatchStats {
  lists: number;
  watches: number;
  failures: number;
}

export type ListWatchState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface ListWatchStatus extends ListWatchStats {
  state: ListWatchState;
  /** The resourceVersion the next watch starts from. */
  resourceVersion?: string;
  /** True once a list has succeeded. */
  synced: boolean;
  /** Watch events received (bookmarks and errors included). */
  events: number;
  /** The last failure's message. */
  lastError?: string;
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** The delay before retry number `failures` (1-based): doubling from `min`, capped at `max`, ±20 % jitter. */
export function backoffMillis(failures: number, min: number, max: number, random = Math.random): number {
  return Math.round(Math.min(max, min * 2 ** Math.min(Math.max(0, failures - 1), 16)) * (0.8 + random() * 0.4));
}

export class ListWatch<T extends KubernetesObject> {
  private readonly options: ListWatchOptions<T>;
  private readonly known = new Map<string, T>();
  private state: ListWatchState = 'idle';
  private resourceVersion: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  /** Consecutive failures, for the backoff. */
  private failures = 0;
  private syncedOnce = false;
  private events = 0;
  private lastError: string | undefined;
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

  status(): ListWatchStatus {
    return {
      state: this.state,
      ...(this.resourceVersion === undefined ? {} : { resourceVersion: this.resourceVersion }),
      synced: this.syncedOnce,
      ...this.stats,
      events: this.events,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Starts listing and watching; errors never escape (they go to onError, then a retry). */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.state = 'listing';
    void this.relist();
  }

  stop(): void {
    this.state = 'stopped';
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  private get name(): string {
    return this.options.name ?? `the watch of ${this.options.call.resource}`;
  }

  /** Calls a listener; a failing one must not stop the loop. */
  private tell(call: () => void): void {
    try {
      call();
    } catch {
      // a failing listener must not stop the loop
    }
  }

  private emit(change: WatchChange, object: T): void {
    this.tell(() => this.options.onChange(change, object));
  }

  private schedule(fn: () => Promise<void>, millis: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) void fn();
    }, millis);
  }

  private backoff(): number {
    return backoffMillis(this.failures, this.options.minBackoffMillis ?? 500, this.options.maxBackoffMillis ?? 30_000);
  }

  private fail(error: unknown, call: ApiCall): void {
    if (this.stopped) return;
    this.failures++;
    this.stats.failures++;
    const retry = this.backoff();
    const problem = kubeError(error, call, this.options.client.server);
    this.lastError = problem.message;
    this.state = 'backoff';
    this.tell(() => this.options.onError?.(problem, retry));
    this.schedule(() => this.relist(), retry);
  }

  private async relist(): Promise<void> {
    this.state = 'listing';
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
    this.noteVersion(list.metadata?.resourceVersion);
    this.syncedOnce = true;
    this.tell(() => this.options.onSynced?.(this.objects()));
    void this.watch();
  }

  private noteVersion(version: string | undefined): void {
    if (version !== undefined && version !== '') this.resourceVersion = version;
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.state = 'watching';
    const timeoutMillis = this.options.watchTimeoutMillis ?? 300_000;
    const silentMillis = timeoutMillis + 30_000;
    const startedAt = Date.now();
    let events = 0;
    let gone = false;
    let finished = false;
    let watchdog: NodeJS.Timeout | undefined;
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
        this.tell(() => this.options.onLog?.('info', `${this.name} is too old (410 Gone): listing again`));
        this.schedule(() => this.relist(), 0);
        return;
      }
      if (error !== null && error !== undefined) {
        this.fail(error, call);
        return;
      }
      // A clean end (the server's timeout, or our watchdog): watch again from where we are. A watch that ends at once
      // with nothing in it, again and again, is a failing server: back off.
      if (events === 0 && Date.now() - startedAt < 1000) {
        this.failures++;
        this.state = 'backoff';
        this.schedule(() => this.watch(), this.backoff());
      } else {
        this.failures = 0;
        this.schedule(() => this.watch(), 0);
      }
    };
    const armWatchdog = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        this.tell(() =>
          this.options.onLog?.('warn', `${this.name} was silent for ${silentMillis / 1000} s: restarting it`),
        );
        this.controller?.abort();
        onDone(null);
      }, silentMillis);
      watchdog.unref();
    };
    armWatchdog();
    try {
      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.max(1, Math.round((timeoutMillis * (0.8 + Math.random() * 0.2)) / 1000)),
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      };
      const controller = await new Watch(this.options.client.kubeConfig).watch(
        this.options.path,
        query,
        (phase: string, object: T & { code?: number; message?: string }) => {
          if (finished) return;
          armWatchdog();
          events++;
          this.events++;
          if (phase === 'ERROR') {
            if (object?.code === 410) gone = true;
            this.controller?.abort();
            onDone(
              gone ? null : Object.assign(new Error(object?.message ?? 'watch error'), { statusCode: object?.code }),
            );
            return;
          }
          this.noteVersion(object?.metadata?.resourceVersion);
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
      if (finished || this.stopped) controller.abort();
      else this.controller = controller;
    } catch (error) {
      onDone(error);
    }
  }
}
