// The server's lifecycle and the programmatic API tests use: start on 127.0.0.1 (port 0 → a free one), seed and
// read objects directly, set pod status like a kubelet, write container logs, compact, deny, count requests, and
// stop/restart on the same port to simulate an outage.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesRule } from './access.js';
import type { Attributes, DenyRule, RequestRecord } from './access.js';
import { groupsOf, rbacAllows } from './rbac.js';
import { handle } from './http-api.js';
import { makeServingCert } from './tls.js';
import type { ServingCert } from './tls.js';
import { podStatusAfter } from './pod-status.js';
import type { PodStatusUpdate } from './pod-status.js';
import { JobController } from './job-controller.js';
import type { JobControllerOptions } from './job-controller.js';
import type { HandlerContext } from './http-api.js';
import { runKubectl, spawnKubectl, writeKubeconfig } from './kubeconfig.js';
import type { KubeconfigOptions, KubectlResult } from './kubeconfig.js';
import { LogStore } from './logs.js';
import { countRequestKinds, filterRequests } from './request-log.js';
import type { RequestFilter } from './request-log.js';
import { ObjectWriter } from './objects.js';
import type { Propagation } from './objects.js';
import { ResourceCatalog, typeKey } from './resources.js';
import type { ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError } from './status.js';
import { ObjectStore } from './store.js';
import type { KubeObject, StoreEvent } from './store.js';

export interface KubeApiServerOptions {
  /** Port on 127.0.0.1; 0 or unset picks a free one. */
  port?: number;
  /** Bearer tokens and the users they authenticate. When set, requests without a known token get 401. */
  tokens?: Record<string, string>;
  /** The user of unauthenticated requests when no tokens are configured (default `kubernetes-admin`). */
  anonymousUser?: string;
  /** Groups of users (the anonymous user is in system:masters unless set here). */
  groups?: Record<string, string[]>;
  /**
   * Authorize with the stored Roles, ClusterRoles and bindings, as the RBAC authorizer does (system:masters may do
   * anything). Off by default: everyone may do everything not denied by `deny()`.
   */
  rbac?: boolean;
  /** Serve https with a certificate made by openssl for 127.0.0.1; kubeconfigs then carry its CA. */
  tls?: boolean;
  /** Namespaces to create besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** More resource types (e.g. a CRD) beyond the built-in catalog. */
  resources?: ResourceType[];
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (a real server: about a minute). */
  bookmarkIntervalMs?: number;
}

export interface ListFilter {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class KubeApiServer {
  readonly catalog: ResourceCatalog;
  readonly store = new ObjectStore();
  readonly logs = new LogStore();
  readonly writer: ObjectWriter;
  /** Temp directory for kubeconfigs and kubectl's cache; removed by close(). */
  readonly dir: string;
  private readonly deny_: DenyRule[] = [];
  private readonly requests_: RequestRecord[] = [];
  private readonly tokens: Map<string, string>;
  private server: Server | undefined;
  private port_ = 0;
  private readonly ctx: HandlerContext;
  /** The serving certificate (PEM) when `tls` is set: the CA a client must trust. */
  readonly servingCert: ServingCert | undefined;

  constructor(private readonly options: KubeApiServerOptions = {}) {
    this.catalog = new ResourceCatalog(options.resources ?? []);
    this.writer = new ObjectWriter(this.store, this.catalog, this.logs);
    this.tokens = new Map(Object.entries(options.tokens ?? {}));
    this.dir = mkdtempSync(join(tmpdir(), 'ktrace-kubeapi-'));
    this.servingCert = options.tls === true ? makeServingCert(this.dir) : undefined;
    this.ctx = {
      catalog: this.catalog,
      store: this.store,
      writer: this.writer,
      logs: this.logs,
      tokens: this.tokens,
      anonymousUser: options.anonymousUser ?? 'kubernetes-admin',
      authorize: (a) => this.authorize(a),
      requests: this.requests_,
      address: () => `127.0.0.1:${this.port_}`,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      watches: new Set(),
    };
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(options.namespaces ?? [])])
      this.ensureNamespace(ns);
  }

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `${this.servingCert === undefined ? 'http' : 'https'}://127.0.0.1:${this.port_}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens on 127.0.0.1 (the configured port, or the one used before a stop). */
  async listen(): Promise<void> {
    if (this.server !== undefined) return;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => void handle(this.ctx, req, res);
    const tls = this.servingCert;
    const server: Server =
      tls === undefined
        ? createServer(onRequest)
        : createTlsServer(
            { key: tls.key, cert: tls.cert, ca: tls.cert, requestCert: true, rejectUnauthorized: false },
            onRequest,
          );
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port_ === 0 ? (this.options.port ?? 0) : this.port_, '127.0.0.1', () => resolve());
    });
    this.port_ = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The API server goes away: the port closes and every open connection (watches, log follows) is cut. */
  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }

  /**
   * The API server comes back on the same port with the same objects. Like a restarted apiserver's watch cache, it
   * starts at the current resourceVersion: watches from older ones get 410 unless `keepHistory` is set.
   */
  async restart(opts: { keepHistory?: boolean } = {}): Promise<void> {
    await this.stop();
    if (opts.keepHistory !== true) this.store.compact();
    await this.listen();
  }

  /** Stops and removes the temp directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- clients -------------------------------------------------------------------------------------------

  /** Writes a kubeconfig for this server and returns its path. */
  kubeconfigPath(o: KubeconfigOptions = {}): string {
    const token = o.token ?? (o.user === undefined ? undefined : [...this.tokens].find(([, u]) => u === o.user)?.[0]);
    return writeKubeconfig(this.dir, this.url, {
      ...(this.servingCert === undefined
        ? {}
        : {
            certificateAuthority: this.servingCert.cert,
            clientCertificate: { cert: this.servingCert.clientCert, key: this.servingCert.clientKey },
          }),
      ...o,
      ...(token === undefined ? {} : { token }),
    });
  }

  /** Runs the real kubectl against this server (context namespace `namespace`, default `default`). */
  kubectl(
    args: readonly string[],
    o: { input?: string; kubeconfig?: string; namespace?: string; timeoutMs?: number } = {},
  ): Promise<KubectlResult> {
    const kubeconfig = o.kubeconfig ?? this.kubeconfigPath(o.namespace === undefined ? {} : { namespace: o.namespace });
    return runKubectl(args, {
      kubeconfig,
      cacheDir: join(this.dir, 'kube-cache'),
      ...(o.input === undefined ? {} : { input: o.input }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    });
  }

  /** Starts a long-running kubectl (e.g. `logs -f`); the caller kills it. */
  spawnKubectl(
    args: readonly string[],
    o: { kubeconfig?: string; namespace?: string } = {},
  ): ReturnType<typeof spawnKubectl> {
    const kubeconfig = o.kubeconfig ?? this.kubeconfigPath(o.namespace === undefined ? {} : { namespace: o.namespace });
    return spawnKubectl(args, { kubeconfig, cacheDir: join(this.dir, 'kube-cache') });
  }

  // ---- objects -------------------------------------------------------------------------------------------

  type(resource: string): ResourceType {
    const t = this.catalog.byName(resource);
    if (t === undefined) throw new Error(`unknown resource type ${resource}`);
    return t;
  }

  private typeOf(obj: KubeObject): ResourceType {
    const t = this.catalog.byKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (t === undefined) throw new Error(`unknown kind ${obj.apiVersion}/${obj.kind}`);
    return t;
  }

  ensureNamespace(name: string): void {
    const t = this.type('namespaces');
    if (this.store.get(typeKey(t), undefined, name) === undefined) {
      this.writer.create(
        t,
        undefined,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { manager: 'kube-apiserver' },
      );
    }
  }

  /**
   * Creates (or replaces) an object directly, as if another client had written it, validated like any write. Its
   * namespace is created when missing; a `status` in `obj` is stored as given (as a controller or kubelet would).
   */
  seed(obj: KubeObject, manager = 'ktrace-test-seed'): KubeObject {
    const t = this.typeOf(obj);
    const ns = t.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    if (ns !== undefined) this.ensureNamespace(ns);
    const existing = this.store.get(typeKey(t), ns, obj.metadata.name!);
    const body = structuredClone(obj);
    delete body.metadata.resourceVersion;
    let out =
      existing === undefined
        ? this.writer.create(t, ns, body, { manager, fieldValidation: 'Strict' })
        : this.writer.update(t, ns, obj.metadata.name!, body, { manager, fieldValidation: 'Strict' });
    if (t.status && obj['status'] !== undefined) {
      out = this.writer.update(
        t,
        ns,
        out.metadata.name!,
        { ...out, status: obj['status'] },
        { manager, subresource: 'status', fieldValidation: 'Strict' },
      );
    }
    return out;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const t = this.type(resource);
    return this.store.get(typeKey(t), t.namespaced ? namespace : undefined, name);
  }

  list(resource: string, filter: ListFilter = {}): KubeObject[] {
    const t = this.type(resource);
    const labels = parseLabelSelector(filter.labelSelector);
    const fields = parseFieldSelector(filter.fieldSelector, t);
    return this.store
      .list(typeKey(t), filter.namespace)
      .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
  }

  /** Deletes like an API DELETE (garbage collection included); false when it did not exist. */
  delete(resource: string, namespace: string | undefined, name: string, propagation?: Propagation): boolean {
    const t = this.type(resource);
    try {
      this.writer.delete(t, namespace, name, propagation === undefined ? {} : { propagation });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status.code === 404) return false;
      throw e;
    }
  }

  /** What the scheduler and kubelet would write: nodeName binding, phase, IPs, container statuses. */
  setPodStatus(namespace: string, name: string, u: PodStatusUpdate): KubeObject {
    const t = this.type('pods');
    let pod = this.store.get(typeKey(t), namespace, name);
    if (pod === undefined) throw new Error(`pod ${namespace}/${name} does not exist`);
    if (u.nodeName !== undefined) {
      const spec = (pod['spec'] ?? {}) as Record<string, unknown>;
      if (spec['nodeName'] !== u.nodeName)
        pod = this.writer.update(
          t,
          namespace,
          name,
          { ...pod, spec: { ...spec, nodeName: u.nodeName } },
          { manager: 'kube-scheduler' },
        );
    }
    const status = podStatusAfter(pod, u);
    return this.writer.update(t, namespace, name, { ...pod, status }, { manager: 'kubelet', subresource: 'status' });
  }

  appendLog(namespace: string, pod: string, container: string, text: string): void {
    this.logs.append(namespace, pod, container, text);
  }

  /** The container has exited: `logs -f` readers get the rest and end. */
  endLog(namespace: string, pod: string, container: string): void {
    this.logs.end(namespace, pod, container);
  }

  /**
   * Ends every open watch cleanly, as apiserver does when a watch reaches its request timeout; clients then
   * re-watch from their last resourceVersion. Returns how many were ended.
   */
  closeWatches(): number {
    const open = [...this.ctx.watches];
    for (const res of open) res.end();
    return open.length;
  }

  /** Open watch connections now. */
  openWatches(): number {
    return this.ctx.watches.size;
  }

  /** Compacts history: watches and exact lists from older resourceVersions get 410. Returns the compaction RV. */
  compact(): number {
    return this.store.compact();
  }

  resourceVersion(): number {
    return this.store.currentResourceVersion();
  }

  /** Whether a request with these attributes would be allowed (deny rules, then RBAC when enabled). */
  authorize(a: Attributes): boolean {
    if (this.deny_.some((r) => matchesRule(r, a))) return false;
    if (this.options.rbac !== true) return true;
    const anonymous = this.ctx.anonymousUser;
    const groups = a.groups ?? this.options.groups?.[a.user] ?? (a.user === anonymous ? ['system:masters'] : []);
    return rbacAllows(this.store, a, groupsOf(a.user, groups));
  }

  /** Accepts `token` as a bearer token for `user` from now on (turns on authentication if it was off). */
  addToken(token: string, user: string): void {
    this.tokens.set(token, user);
  }

  /** Refuses matching requests with 403 Forbidden until the returned function is called. */
  deny(rule: DenyRule): () => void {
    this.deny_.push(rule);
    return () => {
      const i = this.deny_.indexOf(rule);
      if (i >= 0) this.deny_.splice(i, 1);
    };
  }

  allowAll(): void {
    this.deny_.splice(0);
  }

  /** Plays the Job controller, scheduler and kubelet for Jobs created from now on (see job-controller.ts). */
  runJobs(options: JobControllerOptions = {}): JobController {
    return new JobController(this, options);
  }

  /** Calls `listener` for every stored change (a controller-style hook, e.g. to run pods for a Job). */
  onChange(listener: (event: StoreEvent & { type_: ResourceType }) => void): () => void {
    return this.store.subscribe((e) => {
      const t = this.catalog.types.find((x) => typeKey(x) === e.key);
      if (t !== undefined) listener({ ...e, type_: t });
    });
  }

  requests(filter: RequestFilter = {}): RequestRecord[] {
    return filterRequests(this.requests_, filter);
  }

  countRequests(filter: RequestFilter = {}): number {
    return this.requests(filter).length;
  }

  /** Requests grouped as `verb group/resource[/subresource]` (discovery and others by path) → count. */
  requestCounts(filter: RequestFilter = {}): Record<string, number> {
    return countRequestKinds(this.requests(filter));
  }

  resetRequests(): void {
    this.requests_.splice(0);
  }
}

/** Creates and starts a server. */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const s = new KubeApiServer(options);
  await s.listen();
  return s;
}
