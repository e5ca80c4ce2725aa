// Watch streams: NDJSON `{type, object}` events from a resourceVersion (replayed from the store's history, 410 as an
// ERROR event once compacted), selector transitions as ADDED/DELETED like the watch cache, bookmarks, timeouts.
import type { ServerResponse } from 'node:http';
import { ApiError } from './status.js';
import { matchesFields, matchesLabels } from './selectors.js';
import type { FieldRequirement, LabelRequirement } from './selectors.js';
import type { KubeObject, ObjectStore, StoreEvent } from './store.js';
import { apiVersionOf } from './resources.js';
import type { ResourceType } from './resources.js';

export interface WatchRequest {
  type: ResourceType;
  key: string;
  namespace: string | undefined;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  resourceVersion: string | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  bookmarkIntervalMs: number;
  /** For `Accept: …;as=Table` watches (kubectl get -w): renders each event's object as a one-row Table. */
  table?: ((objects: KubeObject[], first: boolean) => unknown) | undefined;
}

type Event = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: unknown };

function matches(req: WatchRequest, o: KubeObject | undefined): boolean {
  if (o === undefined) return false;
  if (req.namespace !== undefined && o.metadata.namespace !== req.namespace) return false;
  return matchesLabels(req.labels, o.metadata.labels) && matchesFields(req.fields, o);
}

/** What a watcher with these selectors sees of one store change (nothing, or one event). */
export function project(req: WatchRequest, e: StoreEvent): Event | undefined {
  const now = matches(req, e.object);
  const before = e.type !== 'ADDED' && matches(req, e.oldObject);
  if (e.type === 'DELETED') return before ? { type: 'DELETED', object: e.object } : undefined;
  if (e.type === 'ADDED') return now ? { type: 'ADDED', object: e.object } : undefined;
  if (now && before) return { type: 'MODIFIED', object: e.object };
  if (now) return { type: 'ADDED', object: e.object };
  if (before) return { type: 'DELETED', object: e.object };
  return undefined;
}

/** Serves one watch on `res` until the timeout, the client going away, or the server stopping. */
export function serveWatch(
  res: ServerResponse,
  store: ObjectStore,
  req: WatchRequest,
  open: Set<ServerResponse>,
): void {
  let first = true;
  const write = (e: Event): void => {
    if (res.writableEnded) return;
    let out = e;
    if (req.table !== undefined && e.type !== 'ERROR' && e.type !== 'BOOKMARK') {
      out = { type: e.type, object: req.table([e.object as KubeObject], first) };
      first = false;
    }
    res.write(`${JSON.stringify(out)}\n`);
  };
  const bookmark = (annotations?: Record<string, string>): Event => ({
    type: 'BOOKMARK',
    object: {
      kind: req.type.kind,
      apiVersion: apiVersionOf(req.type),
      metadata: {
        resourceVersion: String(store.currentResourceVersion()),
        ...(annotations === undefined ? {} : { annotations }),
      },
    },
  });
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  const rv = req.resourceVersion;
  const initial = req.sendInitialEvents ?? (rv === undefined || rv === '' || rv === '0');
  let backlog: Event[] = [];
  try {
    if (initial) {
      for (const o of store.list(req.key, req.namespace))
        if (matches(req, o)) backlog.push({ type: 'ADDED', object: o });
      if (req.sendInitialEvents === true && req.allowBookmarks)
        backlog.push(bookmark({ 'k8s.io/initial-events-end': 'true' }));
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from) || from < 0) throw new ApiError(400, 'BadRequest', `invalid resource version: ${rv}`);
      backlog = store.since(req.key, from).flatMap((e) => project(req, e) ?? []);
    }
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    write({ type: 'ERROR', object: e.status });
    res.end();
    return;
  }
  for (const e of backlog) write(e);

  const unsubscribe = store.subscribe((e) => {
    if (e.key !== req.key) return;
    const out = project(req, e);
    if (out !== undefined) write(out);
  });
  const timers: NodeJS.Timeout[] = [];
  if (req.allowBookmarks) timers.push(setInterval(() => write(bookmark()), req.bookmarkIntervalMs));
  if (req.timeoutSeconds !== undefined) {
    timers.push(
      setTimeout(() => {
        if (req.allowBookmarks) write(bookmark());
        res.end();
      }, req.timeoutSeconds * 1000),
    );
  }
  open.add(res);
  const done = (): void => {
    open.delete(res);
    unsubscribe();
    for (const t of timers) clearTimeout(t);
  };
  res.on('close', done);
  res.on('finish', done);
}
