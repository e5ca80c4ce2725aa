// The write path every change takes (HTTP or programmatic): identity and defaults on create, resourceVersion
// preconditions, generation, managedFields, validation, no-op detection, and deletion with ownerReference
// garbage collection (Background, Foreground, Orphan) and namespace teardown.
import { randomUUID } from 'node:crypto';
import { serverSideApply, trackUpdate } from './apply.js';
import { applyDefaults } from './defaults.js';
import { deepEqual } from './field-sets.js';
import type { Scope } from './field-sets.js';
import type { LogStore } from './logs.js';
import { apiVersionOf, typeKey } from './resources.js';
import type { ResourceCatalog, ResourceType } from './resources.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';
import { dropField, printUnknown } from './unknown-fields.js';
import { undeclaredFields, validateObject } from './validation.js';

export type Propagation = 'Orphan' | 'Background' | 'Foreground';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  manager: string;
  dryRun?: boolean;
  subresource?: 'status';
  /** What to do with fields the schema does not declare (apiserver's default is Warn: drop them, warn). */
  fieldValidation?: FieldValidation;
  /** Receives Warning header texts. */
  warnings?: string[];
}

/** Drops undeclared fields (after a 400 under Strict), as typed decoding does. */
function checkUndeclared(obj: KubeObject, opts: WriteOptions, apply: boolean): void {
  const unknown = undeclaredFields(obj);
  if (unknown.length === 0) return;
  const mode = opts.fieldValidation ?? 'Warn';
  if (mode === 'Strict') {
    if (apply) {
      const gvk = `${obj.apiVersion?.includes('/') === true ? obj.apiVersion : `/${obj.apiVersion}`}, Kind=${obj.kind}`;
      throw badRequest(
        `failed to create typed patch object (${gvk}): ${unknown.map((p) => `.${printUnknown(p)}: field not declared in schema`).join(', ')}`,
      );
    }
    throw badRequest(`strict decoding error: ${unknown.map((p) => `unknown field "${printUnknown(p)}"`).join(', ')}`);
  }
  if (mode === 'Warn') for (const p of unknown) opts.warnings?.push(`unknown field "${printUnknown(p)}"`);
  for (const p of unknown) dropField(obj, p);
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function withoutVolatile(o: KubeObject): unknown {
  const c = structuredClone(o);
  delete c.metadata.resourceVersion;
  delete c.metadata.managedFields;
  return c;
}

function specOf(o: KubeObject): unknown {
  const c = structuredClone(o) as Record<string, unknown>;
  delete c['metadata'];
  delete c['status'];
  return c;
}

export class ObjectWriter {
  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: ResourceCatalog,
    private readonly logs: LogStore,
  ) {}

  private checkNamespace(type: ResourceType, ns: string | undefined, name: string): void {
    if (!type.namespaced) return;
    if (ns === undefined || ns === '') throw badRequest('an empty namespace may not be set during creation');
    const nsType = this.catalog.byPath('', 'v1', 'namespaces')!;
    const found = this.store.get(typeKey(nsType), undefined, ns);
    if (found === undefined) throw notFound('namespaces', '', ns);
    if ((found['status'] as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw new ApiError(
        403,
        'Forbidden',
        `${type.plural} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  private finish(
    type: ResourceType,
    old: KubeObject | undefined,
    next: KubeObject,
    opts: WriteOptions,
    scope: Scope,
  ): KubeObject {
    applyDefaults(next, old === undefined);
    if (type.generation !== true) delete next.metadata.generation;
    else if (old !== undefined && !deepEqual(specOf(old), specOf(next)))
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    const causes = validateObject(next, type.plural);
    if (causes.length > 0) throw invalid(type.kind, type.group, next.metadata.name ?? '', causes);
    if (old !== undefined && deepEqual(withoutVolatile(old), withoutVolatile(next))) {
      const sameOwners = deepEqual(
        (old.metadata.managedFields ?? []).map((e) => e.fieldsV1),
        (next.metadata.managedFields ?? []).map((e) => e.fieldsV1),
      );
      if (sameOwners) return old;
    }
    void scope;
    if (opts.dryRun === true) return next;
    return this.store.put(typeKey(type), next);
  }

  create(type: ResourceType, ns: string | undefined, body: KubeObject, opts: WriteOptions): KubeObject {
    const obj = this.prepare(type, ns, body);
    checkUndeclared(obj, opts, false);
    if (obj.metadata.name === undefined || obj.metadata.name === '') {
      if (obj.metadata.generateName !== undefined && obj.metadata.generateName !== '') {
        let suffix = '';
        for (let i = 0; i < 5; i++) suffix += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
        obj.metadata.name = `${obj.metadata.generateName}${suffix}`;
      } else {
        throw invalid(type.kind, type.group, '', [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: name or generateName is required',
            field: 'metadata.name',
          },
        ]);
      }
    }
    this.checkNamespace(type, obj.metadata.namespace, obj.metadata.name);
    if (this.store.get(typeKey(type), obj.metadata.namespace, obj.metadata.name) !== undefined) {
      throw alreadyExists(type.plural, type.group, obj.metadata.name);
    }
    this.stamp(obj);
    // Create resets status where a status subresource owns it (Pods then start Pending, Namespaces Active).
    if (type.status) delete obj['status'];
    applyDefaults(obj, true);
    obj.metadata.managedFields = trackUpdate(undefined, obj, {
      manager: opts.manager,
      apiVersion: apiVersionOf(type),
      scope: 'main',
      now: now(),
    });
    const stored = this.finish(type, undefined, obj, opts, 'main');
    if (type.plural === 'namespaces' && opts.dryRun !== true) this.populateNamespace(stored.metadata.name!);
    return stored;
  }

  /** Server-side apply of `body` to type/ns/name; creates the object when it is absent. */
  apply(
    type: ResourceType,
    ns: string | undefined,
    name: string,
    body: KubeObject,
    opts: WriteOptions & { force: boolean },
  ): { object: KubeObject; created: boolean } {
    const applied = this.prepare(type, ns, body);
    checkUndeclared(applied, opts, true);
    if (applied.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${applied.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    const live = this.store.get(typeKey(type), applied.metadata.namespace, name);
    const scope: Scope = opts.subresource === 'status' ? 'status' : 'main';
    if (live === undefined && scope === 'status') throw notFound(type.plural, type.group, name);
    if (live === undefined) this.checkNamespace(type, applied.metadata.namespace, name);
    const next = serverSideApply({
      live,
      applied,
      manager: opts.manager,
      force: opts.force,
      apiVersion: apiVersionOf(type),
      scope,
      ...(opts.subresource === undefined ? {} : { subresource: opts.subresource }),
      now: now(),
    });
    next.metadata.name = name;
    if (type.namespaced) next.metadata.namespace = applied.metadata.namespace!;
    if (live === undefined) this.stamp(next);
    const stored = this.finish(type, live, next, opts, scope);
    if (live === undefined && type.plural === 'namespaces' && opts.dryRun !== true) this.populateNamespace(name);
    return { object: stored, created: live === undefined };
  }

  /** PUT (or the result of a non-apply patch): replaces the object, or only its status for `/status`. */
  update(type: ResourceType, ns: string | undefined, name: string, body: KubeObject, opts: WriteOptions): KubeObject {
    const next = this.prepare(type, ns, body);
    checkUndeclared(next, opts, false);
    if (next.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`,
      );
    }
    const live = this.store.get(typeKey(type), next.metadata.namespace, name);
    if (live === undefined) throw notFound(type.plural, type.group, name);
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== live.metadata.resourceVersion) {
      throw conflict(
        type.plural,
        type.group,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    if (next.metadata.uid !== undefined && next.metadata.uid !== live.metadata.uid) {
      throw conflict(
        type.plural,
        type.group,
        name,
        `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${live.metadata.uid}`,
      );
    }
    const scope: Scope = opts.subresource === 'status' ? 'status' : 'main';
    let result: KubeObject;
    if (scope === 'status') {
      result = structuredClone(live);
      result['status'] = next['status'];
    } else {
      result = next;
      if (type.status) result['status'] = live['status'];
      else if (live['status'] !== undefined && result['status'] === undefined) result['status'] = live['status'];
    }
    for (const k of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp'] as const) {
      if (live.metadata[k] !== undefined) result.metadata[k] = live.metadata[k] as never;
    }
    result.metadata.resourceVersion = live.metadata.resourceVersion!;
    result.metadata.managedFields = trackUpdate(live, result, {
      manager: opts.manager,
      apiVersion: apiVersionOf(type),
      scope,
      ...(opts.subresource === undefined ? {} : { subresource: opts.subresource }),
      now: now(),
    });
    return this.finish(type, live, result, opts, scope);
  }

  delete(
    type: ResourceType,
    ns: string | undefined,
    name: string,
    opts: {
      propagation?: Propagation;
      dryRun?: boolean;
      preconditions?: { uid?: string; resourceVersion?: string };
    } = {},
  ): KubeObject {
    const live = this.store.get(typeKey(type), type.namespaced ? ns : undefined, name);
    if (live === undefined) throw notFound(type.plural, type.group, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== live.metadata.uid) {
      throw conflict(
        type.plural,
        type.group,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${live.metadata.uid}`,
      );
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== live.metadata.resourceVersion) {
      throw conflict(
        type.plural,
        type.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.metadata.resourceVersion}`,
      );
    }
    if (opts.dryRun === true) return live;
    const policy = opts.propagation ?? type.defaultPropagation ?? 'Background';
    if (type.plural === 'namespaces') return this.deleteNamespace(type, live);
    const dependents = this.dependentsOf(live.metadata.uid!);
    if (policy === 'Orphan') {
      for (const d of dependents) this.dropOwner(d.type, d.object, live.metadata.uid!);
      return this.remove(type, live);
    }
    if (policy === 'Foreground') {
      for (const d of dependents) this.collect(d.type, d.object, live.metadata.uid!, 'Foreground');
      return this.remove(type, live);
    }
    const gone = this.remove(type, live);
    for (const d of dependents) this.collect(d.type, d.object, live.metadata.uid!, 'Background');
    return gone;
  }

  private remove(type: ResourceType, live: KubeObject): KubeObject {
    const gone = this.store.remove(typeKey(type), live.metadata.namespace, live.metadata.name!);
    if (type.plural === 'pods' && type.group === '') this.logs.forgetPod(live.metadata.namespace!, live.metadata.name!);
    return gone ?? live;
  }

  /** The garbage collector's step for one dependent of a deleted owner. */
  private collect(type: ResourceType, dep: KubeObject, ownerUid: string, policy: Propagation): void {
    const otherOwners = (dep.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid && this.uidExists(r.uid));
    if (otherOwners.length > 0) this.dropOwner(type, dep, ownerUid);
    else if (this.store.get(typeKey(type), dep.metadata.namespace, dep.metadata.name!) !== undefined) {
      this.delete(type, dep.metadata.namespace, dep.metadata.name!, { propagation: policy });
    }
  }

  private dropOwner(type: ResourceType, dep: KubeObject, ownerUid: string): void {
    const next = structuredClone(dep);
    next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
    if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
    next.metadata.managedFields = trackUpdate(dep, next, {
      manager: 'kube-controller-manager',
      apiVersion: apiVersionOf(type),
      scope: 'main',
      now: now(),
    });
    this.store.put(typeKey(type), next);
  }

  private uidExists(uid: string): boolean {
    return this.catalog.types.some((t) => this.store.list(typeKey(t)).some((o) => o.metadata.uid === uid));
  }

  private dependentsOf(uid: string): { type: ResourceType; object: KubeObject }[] {
    return this.catalog.types.flatMap((t) =>
      this.store
        .list(typeKey(t))
        .filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid) === true)
        .map((object) => ({ type: t, object })),
    );
  }

  private deleteNamespace(type: ResourceType, live: KubeObject): KubeObject {
    const terminating = structuredClone(live);
    terminating.metadata.deletionTimestamp = now();
    terminating['status'] = { phase: 'Terminating' };
    this.store.put(typeKey(type), terminating);
    const ns = live.metadata.name!;
    for (const t of this.catalog.types.filter((x) => x.namespaced)) {
      for (const o of this.store.list(typeKey(t), ns)) {
        if (this.store.get(typeKey(t), ns, o.metadata.name!) !== undefined)
          this.delete(t, ns, o.metadata.name!, { propagation: 'Background' });
      }
    }
    return this.remove(type, terminating);
  }

  /** What the namespace controllers add to a new namespace: the `default` ServiceAccount and kube-root-ca.crt. */
  private populateNamespace(ns: string): void {
    const sa = this.catalog.byPath('', 'v1', 'serviceaccounts')!;
    const cm = this.catalog.byPath('', 'v1', 'configmaps')!;
    this.create(
      sa,
      ns,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
      { manager: 'kube-controller-manager' },
    );
    this.create(
      cm,
      ns,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-root-ca.crt',
          annotations: {
            'kubernetes.io/description':
              'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
          },
        },
        data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n' },
      },
      { manager: 'kube-controller-manager' },
    );
  }

  private stamp(obj: KubeObject): void {
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = now();
    obj.metadata.generation = 1;
    delete obj.metadata.resourceVersion;
    delete obj.metadata.deletionTimestamp;
  }

  /** Checks apiVersion/kind and namespace against the URL; returns a copy with the namespace set. */
  private prepare(type: ResourceType, ns: string | undefined, body: KubeObject): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw badRequest("Object 'Kind' is missing in 'null'");
    const obj = structuredClone(body);
    obj.metadata = obj.metadata ?? {};
    const want = apiVersionOf(type);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== type.kind) {
      throw badRequest(
        `${obj.kind} in version "${type.version}" cannot be handled as a ${type.kind}: no kind "${obj.kind}" is registered for version "${want}"`,
      );
    }
    obj.apiVersion = want;
    obj.kind = type.kind;
    if (type.namespaced) {
      if (
        obj.metadata.namespace !== undefined &&
        obj.metadata.namespace !== '' &&
        ns !== undefined &&
        obj.metadata.namespace !== ns
      ) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns ?? obj.metadata.namespace ?? '';
    } else delete obj.metadata.namespace;
    return obj;
  }
}
