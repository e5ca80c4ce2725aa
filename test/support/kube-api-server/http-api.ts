// One HTTP request against the API: authentication, the deny rules, routing, then get/list/watch/create/update/
// patch/delete and pod logs, each answered with the body, headers and Status codes of a real kube-apiserver.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { authenticate, forbidden, matchesRule, reviewAccess } from './access.js';
import type { DenyRule, RequestRecord } from './access.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import type { LogStore } from './logs.js';
import { serveLog } from './log-endpoint.js';
import { openApiV3 } from './openapi.js';
import type { FieldValidation, ObjectWriter, Propagation } from './objects.js';
import { jsonPatch, mergePatch, patchTypeOf, strategicMergePatch, unsupportedPatch } from './patch.js';
import type { ResourceCatalog } from './resources.js';
import { apiVersionOf, typeKey } from './resources.js';
import { route } from './routes.js';
import type { ResourceRoute } from './routes.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, badRequest, notFound } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';
import { wantsTable, toTable } from './tables.js';
import { serveWatch } from './watch.js';

export interface HandlerContext {
  catalog: ResourceCatalog;
  store: ObjectStore;
  writer: ObjectWriter;
  logs: LogStore;
  tokens: ReadonlyMap<string, string>;
  anonymousUser: string;
  denyRules: readonly DenyRule[];
  requests: RequestRecord[];
  address: () => string;
  bookmarkIntervalMs: number;
  /** Open watch responses, so a test can end them as apiserver's request timeout does. */
  watches: Set<ServerResponse>;
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
  warnings: readonly string[] = [],
): void {
  const text = JSON.stringify(body);
  const warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  if (typeof headers['Warning'] === 'string') warning.unshift(headers['Warning']);
  const all = { ...headers, ...(warning.length === 0 ? {} : { Warning: warning }) };
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...all });
  res.end(text);
}

/** A create or update body: JSON or YAML, as apiserver accepts them (protobuf and CBOR are not implemented). */
async function readObject(req: IncomingMessage): Promise<KubeObject> {
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const text = await readBody(req);
  if (ct === 'application/json' || ct === '') return parseJson(text) as KubeObject;
  if (ct === 'application/yaml') {
    try {
      return parseYaml(text) as KubeObject;
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  throw new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
  );
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`json: cannot unmarshal request body: ${(e as Error).message}`);
  }
}

function managerOf(q: URLSearchParams, userAgent: string, required: boolean): string {
  const m = q.get('fieldManager');
  if (m !== null && m !== '') {
    if (m.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    return m;
  }
  if (required) {
    throw new ApiError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      },
    );
  }
  return (userAgent.split('/')[0] ?? '').slice(0, 128) || 'unknown';
}

function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  }
  return v;
}

function stripTypeMeta(o: KubeObject): KubeObject {
  const c = { ...o };
  delete c.apiVersion;
  delete c.kind;
  return c;
}

export async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const userAgent = req.headers['user-agent'] ?? '';
  const record: RequestRecord = {
    time: Date.now(),
    method,
    verb: 'other',
    group: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    user: '',
    userAgent,
    code: 0,
  };
  ctx.requests.push(record);
  res.on('finish', () => (record.code = res.statusCode));
  try {
    record.user = authenticate(req.headers.authorization, ctx.tokens, ctx.anonymousUser);
    const path = url.pathname;
    if (path === '/version' || path === '/version/') {
      record.verb = 'discovery';
      return sendJson(res, 200, SERVER_VERSION);
    }
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('ok');
    }
    if (path.startsWith('/openapi/v3') && method === 'GET') {
      record.verb = 'discovery';
      const doc = openApiV3(ctx.catalog, path);
      if (doc === undefined)
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return sendJson(res, 200, doc);
    }
    const r = route(ctx.catalog, method, path, q);
    if (r.kind === 'unknown')
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    if (r.kind === 'method')
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
        {},
      );
    if (r.kind === 'discovery') {
      record.verb = 'discovery';
      record.group = r.group;
      const doc =
        r.group === '' && r.version === undefined
          ? path.startsWith('/apis')
            ? apiGroupList(ctx.catalog)
            : apiVersions(ctx.address())
          : r.version === undefined
            ? apiGroup(ctx.catalog, r.group)
            : apiResourceList(ctx.catalog, r.group, r.version);
      if (doc === undefined)
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return sendJson(res, 200, doc);
    }
    Object.assign(record, {
      verb: r.verb,
      group: r.type.group,
      resource: r.type.plural,
      subresource: r.subresource,
      namespace: r.namespace ?? '',
      name: r.name ?? '',
    });
    const attrs = {
      verb: r.verb,
      group: r.type.group,
      resource: r.type.plural,
      subresource: r.subresource,
      namespace: r.namespace,
      name: r.name,
      user: record.user,
    };
    if (ctx.denyRules.some((rule) => matchesRule(rule, attrs))) throw forbidden(attrs);
    await serveResource(ctx, r, q, req, res, userAgent, record.user);
  } catch (e) {
    if (!(e instanceof ApiError)) {
      const err = new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, err.status);
      else res.end();
      return;
    }
    if (res.headersSent) return void res.end();
    sendJson(res, e.status.code, e.status);
  }
}

async function serveResource(
  ctx: HandlerContext,
  r: ResourceRoute,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  userAgent: string,
  user: string,
): Promise<void> {
  const { type, namespace: ns, name } = r;
  const key = typeKey(type);
  const dryRun = q.getAll('dryRun').includes('All');
  const sub = r.subresource === 'status' ? ('status' as const) : undefined;
  const warnings: string[] = [];
  const fv = fieldValidationOf(q);
  switch (r.verb) {
    case 'get': {
      if (r.subresource === 'log') return serveLog(ctx.store, ctx.logs, ctx.catalog, ns!, name!, q, res);
      const o = ctx.store.get(key, ns, name!);
      if (o === undefined) throw notFound(type.plural, type.group, name!);
      return sendJson(
        res,
        200,
        wantsTable(req.headers.accept) ? toTable(type, [o], q, String(o.metadata.resourceVersion)) : o,
      );
    }
    case 'list': {
      const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type);
      const rv = q.get('resourceVersion');
      if (q.get('resourceVersionMatch') === 'Exact' && rv !== null && Number(rv) < ctx.store.oldestResourceVersion()) {
        throw new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.');
      }
      const listRv = String(ctx.store.currentResourceVersion());
      let items = ctx.store
        .list(key, ns)
        .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
      const limit = Number(q.get('limit') ?? '0');
      const cont = q.get('continue');
      let next: string | undefined;
      if (cont !== null && cont !== '') {
        const after = Buffer.from(cont, 'base64').toString('utf8');
        items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
      }
      if (limit > 0 && items.length > limit) {
        items = items.slice(0, limit);
        const last = items[items.length - 1]!;
        next = Buffer.from(`${last.metadata.namespace ?? ''}/${last.metadata.name}`).toString('base64');
      }
      if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, items, q, listRv, next));
      return sendJson(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: listRv, ...(next === undefined ? {} : { continue: next }) },
        items: items.map(stripTypeMeta),
      });
    }
    case 'watch': {
      const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type);
      if (name !== undefined) fields.push({ field: 'metadata.name', op: '=', value: name });
      const timeout = q.get('timeoutSeconds');
      const sie = q.get('sendInitialEvents');
      return serveWatch(
        res,
        ctx.store,
        {
          type,
          key,
          namespace: ns,
          labels: parseLabelSelector(q.get('labelSelector') ?? undefined),
          fields,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          timeoutSeconds: timeout === null ? undefined : Number(timeout),
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          sendInitialEvents: sie === null ? undefined : sie === 'true',
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
          table: wantsTable(req.headers.accept)
            ? (objects, first) =>
                toTable(type, objects, q, objects[0]?.metadata.resourceVersion ?? '', undefined, !first)
            : undefined,
        },
        ctx.watches,
      );
    }
    case 'create': {
      const body = await readObject(req);
      if (type.plural === 'selfsubjectaccessreviews')
        return sendJson(res, 201, reviewAccess(body as never, user, ctx.denyRules));
      const o = ctx.writer.create(type, ns, body, {
        manager: managerOf(q, userAgent, false),
        dryRun,
        fieldValidation: fv,
        warnings,
      });
      return sendJson(res, 201, o, {}, warnings);
    }
    case 'update': {
      const body = await readObject(req);
      const o = ctx.writer.update(type, ns, name!, body, {
        manager: managerOf(q, userAgent, false),
        dryRun,
        fieldValidation: fv,
        warnings,
        ...(sub === undefined ? {} : { subresource: sub }),
      });
      return sendJson(res, 200, o, {}, warnings);
    }
    case 'patch':
      return patch(ctx, r, q, req, res, userAgent, dryRun);
    case 'delete': {
      const text = await readBody(req);
      const opts = (text.trim() === '' ? {} : parseJson(text)) as {
        propagationPolicy?: Propagation;
        orphanDependents?: boolean;
        preconditions?: { uid?: string; resourceVersion?: string };
        dryRun?: string[];
      };
      const policy =
        (q.get('propagationPolicy') as Propagation | null) ??
        opts.propagationPolicy ??
        (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
      const headers: Record<string, string> = {};
      if (policy === undefined && type.defaultPropagation === 'Orphan') {
        headers['Warning'] =
          '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';
      }
      const o = ctx.writer.delete(type, ns, name!, {
        ...(policy === undefined ? {} : { propagation: policy }),
        dryRun: dryRun || (opts.dryRun ?? []).includes('All'),
        ...(opts.preconditions === undefined ? {} : { preconditions: opts.preconditions }),
      });
      return sendJson(res, 200, o, headers);
    }
    case 'deletecollection': {
      const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type);
      const gone = ctx.store
        .list(key, ns)
        .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o))
        .map((o) => ctx.writer.delete(type, o.metadata.namespace, o.metadata.name!, { dryRun }));
      return sendJson(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: String(ctx.store.currentResourceVersion()) },
        items: gone.map(stripTypeMeta),
      });
    }
  }
}

async function patch(
  ctx: HandlerContext,
  r: ResourceRoute,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  userAgent: string,
  dryRun: boolean,
): Promise<void> {
  const { type, namespace: ns, name } = r;
  const contentType = req.headers['content-type'];
  const kind = patchTypeOf(contentType);
  const custom = !['', 'apps', 'batch', 'rbac.authorization.k8s.io', 'scheduling.k8s.io'].includes(type.group);
  if (kind === undefined || (kind === 'strategic' && custom)) throw unsupportedPatch(contentType, custom);
  const text = await readBody(req);
  const sub = r.subresource === 'status' ? ({ subresource: 'status' } as const) : {};
  const warnings: string[] = [];
  const fv = fieldValidationOf(q);
  if (kind === 'apply') {
    let body: unknown;
    try {
      body = parseYaml(text);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    const force = q.get('force') === 'true';
    const { object, created } = ctx.writer.apply(type, ns, name!, body as KubeObject, {
      manager: managerOf(q, userAgent, true),
      force,
      dryRun,
      fieldValidation: fv,
      warnings,
      ...sub,
    });
    return sendJson(res, created ? 201 : 200, object, {}, warnings);
  }
  if (q.get('force') !== null) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
  const live = ctx.store.get(typeKey(type), ns, name!);
  if (live === undefined) throw notFound(type.plural, type.group, name!);
  const p = parseJson(text);
  const patched = (
    kind === 'merge' ? mergePatch(live, p) : kind === 'json' ? jsonPatch(live, p) : strategicMergePatch(live, p)
  ) as KubeObject;
  // A patch carries the live resourceVersion unless it sets one itself (then it is a precondition).
  const o = ctx.writer.update(type, ns, name!, patched, {
    manager: managerOf(q, userAgent, false),
    dryRun,
    fieldValidation: fv,
    warnings,
    ...sub,
  });
  return sendJson(res, 200, o, {}, warnings);
}
