// The Kubernetes API client every cluster verb and the agent share: kubeconfig loading as kubectl does it, the
// namespace rule, server-side apply with ktrace's field manager, a time bound on every request, and API failures
// turned into one KtraceError a user can act on (unreachable, Forbidden naming verb and resource, NotFound…).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node';
import type { KubernetesObject, Middleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { KtraceError } from '@ktrace/parser';

/** The field manager of the CLI's server-side applies (kubectl uses `kubectl`, Helm `helm`). */
export const cliFieldManager = 'ktrace';
/** The field manager of what the agent writes (its node's status). */
export const agentFieldManager = 'ktrace-agent';
export const defaultRequestTimeoutMillis = 15_000;

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnectionOptions {
  /** --kubeconfig: this file only (as kubectl: KUBECONFIG is then ignored). */
  kubeconfig?: string;
  /** --context: a context of the loaded config. */
  context?: string;
  /** --namespace / -n. */
  namespace?: string;
  /** Environment (KUBECONFIG, POD_NAMESPACE, HOME, KUBERNETES_SERVICE_HOST); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Bound on each request (watches excepted). Default 15 s. */
  requestTimeoutMillis?: number;
  /** Where the in-cluster service account lives (tests); default /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Where the config came from, for messages: a file list, or `in-cluster`. */
  source: string;
  server: string;
}

function configError(message: string, cause?: unknown): KtraceError {
  return new KtraceError({ code: 'KTRACE_KUBECONFIG', message, ...(cause === undefined ? {} : { cause }) });
}

function loadFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (error) {
    throw configError(
      `cannot read kubeconfig ${file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      error,
    );
  }
  return kc;
}

/** kubectl's merge of KUBECONFIG files: the first file to define a name wins, and the first current-context set. */
function mergeFiles(files: string[]): KubeConfig {
  const merged = new KubeConfig();
  merged.clusters = [];
  merged.users = [];
  merged.contexts = [];
  merged.currentContext = '';
  for (const file of files) {
    const kc = loadFile(file);
    if (merged.currentContext === '' && kc.currentContext !== undefined && kc.currentContext !== '')
      merged.currentContext = kc.currentContext;
    for (const cluster of kc.clusters)
      if (!merged.clusters.some((c) => c.name === cluster.name)) merged.clusters.push(cluster);
    for (const user of kc.users) if (!merged.users.some((u) => u.name === user.name)) merged.users.push(user);
    for (const context of kc.contexts)
      if (!merged.contexts.some((c) => c.name === context.name)) merged.contexts.push(context);
  }
  return merged;
}

/**
 * Loads the config as kubectl does: --kubeconfig; else every KUBECONFIG file (colon-separated, missing ones
 * skipped, first definition wins); else ~/.kube/config; else the in-cluster service account. Then --context, and
 * the namespace: --namespace, POD_NAMESPACE, the context's namespace (the service account's in a pod), `default`.
 */
export function loadKubeConfig(options: KubeConnectionOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const saDir = options.serviceAccountDir ?? serviceAccountDir;
  let kc: KubeConfig;
  let source: string;
  if (options.kubeconfig !== undefined) {
    if (!existsSync(options.kubeconfig)) throw configError(`--kubeconfig ${options.kubeconfig}: no such file`);
    kc = loadFile(options.kubeconfig);
    source = options.kubeconfig;
  } else {
    const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
    const present = listed.filter((f) => existsSync(f));
    const home = env['HOME'] ?? homedir();
    const defaultFile = join(home, '.kube', 'config');
    if (present.length > 0) {
      kc = mergeFiles(present);
      source = present.join(delimiter);
    } else if (listed.length === 0 && existsSync(defaultFile)) {
      kc = loadFile(defaultFile);
      source = defaultFile;
    } else if (env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(join(saDir, 'token'))) {
      kc = new KubeConfig();
      kc.loadFromCluster(saDir.replace(/\/var\/run\/secrets\/kubernetes\.io\/serviceaccount$/, ''));
      source = 'in-cluster';
    } else {
      throw configError(
        listed.length > 0
          ? `no kubeconfig: none of the KUBECONFIG files exists (${listed.join(delimiter)})`
          : `no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or create ${defaultFile} (kubectl config view shows what kubectl uses)`,
      );
    }
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      const known = kc.getContexts().map((c) => c.name);
      throw configError(
        `--context ${options.context}: no such context in ${source} (contexts: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  // client-node 1.4 refuses a plain http:// server (kubectl proxy, a loopback test server) unless the cluster says
  // insecure-skip-tls-verify, which means nothing without TLS; kubectl takes it as it is, so ktrace does too.
  kc.clusters = kc.clusters.map((c) =>
    c.server.startsWith('http:') && c.skipTLSVerify !== true ? { ...c, skipTLSVerify: true } : c,
  );
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw configError(
      kc.currentContext === '' || kc.currentContext === undefined
        ? `${source}: no current context; pick one with --context NAME`
        : `${source}: context ${kc.currentContext} names no cluster that the file defines`,
    );
  }
  const contextNamespace = kc.getContextObject(kc.currentContext)?.namespace;
  let saNamespace: string | undefined;
  if (source === 'in-cluster') {
    try {
      saNamespace = readFileSync(join(saDir, 'namespace'), 'utf8').trim();
    } catch {
      saNamespace = undefined;
    }
  }
  const namespace =
    nonEmpty(options.namespace) ??
    nonEmpty(env['POD_NAMESPACE']) ??
    nonEmpty(contextNamespace) ??
    nonEmpty(saNamespace) ??
    'default';
  return { kubeConfig: kc, namespace, source, server: cluster.server };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** What a request does, for error messages: `patch configmaps "x" in namespace "ktrace"`. */
export interface ApiCall {
  verb: 'get' | 'list' | 'watch' | 'create' | 'patch' | 'update' | 'delete';
  /** Plural resource, with its group when not core: `configmaps`, `leases.coordination.k8s.io`. */
  resource: string;
  name?: string;
  namespace?: string;
}

function describe(call: ApiCall): string {
  return `${call.verb} ${call.resource}${call.name === undefined ? '' : ` "${call.name}"`}${call.namespace === undefined ? '' : ` in namespace "${call.namespace}"`}`;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function statusOf(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return statusOf(JSON.parse(body));
    } catch {
      return body.trim() === '' ? {} : { message: body.trim().slice(0, 300) };
    }
  }
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    return {
      ...(typeof b['message'] === 'string' ? { message: b['message'] } : {}),
      ...(typeof b['reason'] === 'string' ? { reason: b['reason'] } : {}),
    };
  }
  return {};
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

/** The HTTP status of a failed request (ApiException or a watch error), or undefined for a network failure. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const e = error as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** Turns what client-node threw into a KtraceError naming the server, the request and what to do. */
export function kubeError(error: unknown, call: ApiCall, server: string): KtraceError {
  if (error instanceof KtraceError) return error;
  const status = httpStatusOf(error);
  const what = describe(call);
  if (status === undefined) {
    const e = error as { code?: unknown; name?: unknown; type?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' ? e.code : undefined;
    if (e?.name === 'AbortError' || e?.type === 'aborted' || (e as { name?: string })?.name === 'TimeoutError') {
      return new KtraceError({
        code: 'KTRACE_CLUSTER_UNREACHABLE',
        message: `the Kubernetes API server at ${server} did not answer in time (${what}); check that the cluster is up`,
        cause: error,
      });
    }
    if (code !== undefined && networkCodes.has(code)) {
      return new KtraceError({
        code: 'KTRACE_CLUSTER_UNREACHABLE',
        message: `cannot reach the Kubernetes API server at ${server} (${code}) to ${what}; check --kubeconfig/--context and that the cluster is up`,
        cause: error,
      });
    }
    return new KtraceError({
      code: 'KTRACE_CLUSTER',
      message: `cannot ${what} at ${server}: ${typeof e?.message === 'string' ? e.message.split('\n')[0] : String(error)}`,
      cause: error,
    });
  }
  const body = statusOf((error as { body?: unknown }).body);
  const said = body.message === undefined ? '' : `: ${body.message}`;
  if (status === 403) {
    return new KtraceError({
      code: 'KTRACE_FORBIDDEN',
      message: `forbidden: cannot ${what}${said}. Ask for RBAC permission to ${call.verb} ${call.resource}${call.namespace === undefined ? '' : ` in namespace ${call.namespace}`}`,
      cause: error,
    });
  }
  if (status === 401) {
    return new KtraceError({
      code: 'KTRACE_FORBIDDEN',
      message: `unauthorized: the API server at ${server} did not accept the credentials of the kubeconfig (${what})`,
      cause: error,
    });
  }
  if (status === 404)
    return new KtraceError({ code: 'KTRACE_NOT_FOUND', message: `not found: ${what}${said}`, cause: error });
  if (status === 409)
    return new KtraceError({ code: 'KTRACE_CONFLICT', message: `conflict: cannot ${what}${said}`, cause: error });
  return new KtraceError({
    code: 'KTRACE_CLUSTER',
    message: `the API server refused to ${what} (HTTP ${status}${body.reason === undefined ? '' : ` ${body.reason}`})${said}`,
    cause: error,
  });
}

function timeoutMiddleware(millis: number): Middleware {
  return {
    pre: (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(millis));
      return Promise.resolve(context);
    },
    post: (context: ResponseContext) => Promise.resolve(context),
  };
}

export interface ApplyOptions {
  /** Take ownership of fields another manager set (kubectl apply --server-side --force-conflicts). */
  force?: boolean;
  fieldManager?: string;
  dryRun?: boolean;
}

/** One connection to a cluster: typed APIs with a request time bound, and calls that fail as KtraceError. */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly server: string;
  readonly source: string;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly objects: KubernetesObjectApi;

  constructor(loaded: LoadedKubeConfig, options: { requestTimeoutMillis?: number } = {}) {
    this.kubeConfig = loaded.kubeConfig;
    this.namespace = loaded.namespace;
    this.server = loaded.server;
    this.source = loaded.source;
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(loaded.server, {}),
      authMethods: { default: loaded.kubeConfig },
      promiseMiddleware: [timeoutMiddleware(options.requestTimeoutMillis ?? defaultRequestTimeoutMillis)],
    });
    this.core = new CoreV1Api(configuration);
    this.coordination = new CoordinationV1Api(configuration);
    this.apps = new AppsV1Api(configuration);
    this.batch = new BatchV1Api(configuration);
    this.objects = new KubernetesObjectApi(configuration);
  }

  /** Runs one request; any failure becomes a KtraceError describing `call`. */
  async call<T>(call: ApiCall, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw kubeError(error, call, this.server);
    }
  }

  /** Server-side apply (PATCH application/apply-patch+yaml) of one namespaced or cluster object. */
  async apply<T extends KubernetesObject>(object: T, options: ApplyOptions = {}): Promise<T> {
    const group = object.apiVersion?.includes('/') === true ? `.${object.apiVersion.split('/')[0]}` : '';
    const resource = `${(object.kind ?? 'object').toLowerCase()}s${group}`;
    const call: ApiCall = {
      verb: 'patch',
      resource,
      ...(object.metadata?.name === undefined ? {} : { name: object.metadata.name }),
      ...(object.metadata?.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
    };
    return this.call(call, () =>
      this.objects.patch(
        object,
        undefined,
        options.dryRun === true ? 'All' : undefined,
        options.fieldManager ?? cliFieldManager,
        options.force,
        PatchStrategy.ServerSideApply,
      ),
    );
  }
}

/** Loads the kubeconfig (see loadKubeConfig) and connects. Throws KTRACE_KUBECONFIG. */
export function createKubeClient(options: KubeConnectionOptions = {}): KubeClient {
  return new KubeClient(
    loadKubeConfig(options),
    options.requestTimeoutMillis === undefined ? {} : { requestTimeoutMillis: options.requestTimeoutMillis },
  );
}
