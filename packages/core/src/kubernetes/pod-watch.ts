// One node-scoped pod watch (`fieldSelector=spec.nodeName=NODE`) feeding a PodCache: list, then watch from the
// list's resourceVersion; on errors back off and watch again, on 410 Gone list again. client-node 1.4's informer
// stops on errors and takes no field selector, so this drives its Watch directly.
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod, V1Status } from '@kubernetes/client-node';
import type { PodCache } from './pod-cache.js';

export type PodWatchState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface PodWatchStatus {
  state: PodWatchState;
  /** The resourceVersion the next watch starts from. */
  resourceVersion?: string;
  /** True once a list has filled the cache. */
  synced: boolean;
  lists: number;
  watches: number;
  events: number;
  errors: number;
  lastError?: string;
}

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  cache: PodCache;
  /** First retry delay after an error (default 500 ms), doubled per consecutive error up to maxBackoffMillis. */
  initialBackoffMillis?: number;
  /** Default 30 000 ms. */
  maxBackoffMillis?: number;
  /** The server ends each watch after this long (default 300 s), and a watch silent for this + 30 s is restarted. */
  watchTimeoutSeconds?: number;
  /** Where errors and restarts are reported (default: nowhere; the agent logs them). */
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

const pageSize = 500;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
    const shown = [statusCode, code].find((c) => typeof c === 'string' || typeof c === 'number');
    return shown === undefined ? error.message : `${error.message} (${shown})`;
  }
  return String(error);
}

function isGone(error: unknown): boolean {
  const e = error as { code?: unknown; statusCode?: unknown } | undefined;
  return e?.statusCode === 410 || e?.code === 410;
}

export class PodWatch {
  private readonly options: PodWatchOptions;
  private readonly api: CoreV1Api;
  private readonly watcher: Watch;
  private readonly fieldSelector: string;
  private status_: PodWatchStatus = { state: 'idle', synced: false, lists: 0, watches: 0, events: 0, errors: 0 };
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private syncedWaiters: (() => void)[] = [];

  constructor(options: PodWatchOptions) {
    this.options = options;
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.watcher = new Watch(options.kubeConfig);
    this.fieldSelector = `spec.nodeName=${options.nodeName}`;
  }

  /** Starts listing and watching; errors never escape (they become status and log lines, then a retry). */
  start(): void {
    if (this.status_.state !== 'idle') return;
    void this.list();
  }

  stop(): void {
    this.status_.state = 'stopped';
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.controller?.abort();
    this.controller = undefined;
  }

  status(): PodWatchStatus {
    return { ...this.status_ };
  }

  /** True while the cache follows the server: listed, and a watch is open (not listing again, not backing off). */
  current(): boolean {
    return this.status_.synced && this.status_.state === 'watching';
  }

  /** Resolves once the first list has filled the cache (or at once if it has). */
  synced(): Promise<void> {
    if (this.status_.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  private get stopped(): boolean {
    return this.status_.state === 'stopped';
  }

  private async list(): Promise<void> {
    if (this.stopped) return;
    this.status_.state = 'listing';
    const items: V1Pod[] = [];
    let resourceVersion: string | undefined;
    try {
      let next: string | undefined;
      do {
        const page = await this.api.listPodForAllNamespaces({
          fieldSelector: this.fieldSelector,
          limit: pageSize,
          ...(next === undefined ? {} : { _continue: next }),
        });
        items.push(...page.items);
        resourceVersion = page.metadata?.resourceVersion;
        next = page.metadata?._continue === '' ? undefined : page.metadata?._continue;
      } while (next !== undefined);
    } catch (error) {
      this.failed(
        `listing the pods of node ${this.options.nodeName} failed: ${describeError(error)}`,
        () => void this.list(),
      );
      return;
    }
    if (this.stopped) return;
    this.options.cache.replace(items);
    this.status_.lists++;
    this.failures = 0;
    if (resourceVersion === undefined) delete this.status_.resourceVersion;
    else this.status_.resourceVersion = resourceVersion;
    if (!this.status_.synced) {
      this.status_.synced = true;
      for (const resolve of this.syncedWaiters.splice(0)) resolve();
    }
    void this.watch();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.status_.state = 'watching';
    this.status_.watches++;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    const startedAt = Date.now();
    let events = 0;
    let gone = false;
    let ended = false;
    const armWatchdog = (): void => {
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(
        () => {
          this.options.onLog?.(
            'warn',
            `the pod watch of node ${this.options.nodeName} was silent for ${timeoutSeconds + 30} s: restarting it`,
          );
          this.controller?.abort();
          finish(null);
        },
        (timeoutSeconds + 30) * 1000,
      );
      this.watchdog.unref();
    };
    const finish = (error: unknown): void => {
      if (ended) return;
      ended = true;
      clearTimeout(this.watchdog);
      this.controller = undefined;
      if (this.stopped) return;
      if (gone || isGone(error)) {
        this.options.onLog?.(
          'info',
          `the pod watch of node ${this.options.nodeName} is too old (410 Gone): listing again`,
        );
        void this.list();
      } else if (error !== null && error !== undefined) {
        this.failed(
          `the pod watch of node ${this.options.nodeName} failed: ${describeError(error)}`,
          () => void this.watch(),
        );
      } else if (events === 0 && Date.now() - startedAt < 1000) {
        // a server that closes every watch at once must not get a watch storm
        this.failed(`the pod watch of node ${this.options.nodeName} was closed at once`, () => void this.watch());
      } else {
        this.failures = 0;
        void this.watch();
      }
    };
    armWatchdog();
    const query = {
      fieldSelector: this.fieldSelector,
      allowWatchBookmarks: true,
      timeoutSeconds,
      ...(this.status_.resourceVersion === undefined ? {} : { resourceVersion: this.status_.resourceVersion }),
    };
    const onEvent = (type: string, object: unknown): void => {
      if (ended) return;
      armWatchdog();
      events++;
      this.status_.events++;
      if (type === 'ERROR') {
        const status = object as V1Status;
        if (status.code === 410) gone = true;
        else
          this.options.onLog?.(
            'warn',
            `the pod watch of node ${this.options.nodeName} got an error event: ${status.message ?? status.reason ?? 'unknown'}`,
          );
        return;
      }
      const pod = object as V1Pod;
      const rv = pod.metadata?.resourceVersion;
      if (rv !== undefined && rv !== '') this.status_.resourceVersion = rv;
      if (type === 'ADDED' || type === 'MODIFIED') this.options.cache.upsert(pod);
      else if (type === 'DELETED') this.options.cache.remove(pod);
    };
    try {
      const controller = await this.watcher.watch('/api/v1/pods', query, onEvent, finish);
      if (ended || this.stopped) controller.abort();
      else this.controller = controller;
    } catch (error) {
      finish(error);
    }
  }

  private failed(message: string, retry: () => void): void {
    if (this.stopped) return;
    this.status_.errors++;
    this.status_.lastError = message;
    this.status_.state = 'backoff';
    const initial = this.options.initialBackoffMillis ?? 500;
    const max = this.options.maxBackoffMillis ?? 30_000;
    const delay = Math.min(max, initial * 2 ** this.failures) * (0.8 + Math.random() * 0.4);
    this.failures++;
    this.options.onLog?.('warn', `${message}; retrying in ${Math.round(delay)} ms`);
    this.timer = setTimeout(retry, delay);
    this.timer.unref();
  }
}
