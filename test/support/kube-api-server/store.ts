// Object storage like etcd behind kube-apiserver: one global increasing resourceVersion, objects per resource type
// keyed by namespace/name in key order, a history of changes that watches replay, and compaction that expires it.
import { expired } from './status.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: WatchEventType;
  /** typeKey of the resource (`configmaps`, `jobs.batch`). */
  key: string;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED change, for selector transitions. */
  oldObject?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

function slot(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

export class ObjectStore {
  private rv: number;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  private compactedAt: number;
  private readonly listeners = new Set<StoreListener>();

  constructor(firstResourceVersion = 1000) {
    this.rv = firstResourceVersion;
    this.compactedAt = firstResourceVersion;
  }

  currentResourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may start from. */
  oldestResourceVersion(): number {
    return this.compactedAt;
  }

  get(key: string, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(key)?.get(slot(ns, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  /** Objects of one type (optionally one namespace), in etcd key order. */
  list(key: string, ns?: string): KubeObject[] {
    const m = this.objects.get(key);
    if (m === undefined) return [];
    return [...m.entries()]
      .filter(([, o]) => ns === undefined || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /** Stores `obj` (a new version) and records the change; sets metadata.resourceVersion. */
  put(key: string, obj: KubeObject): KubeObject {
    const s = slot(obj.metadata.namespace, obj.metadata.name!);
    let m = this.objects.get(key);
    if (m === undefined) this.objects.set(key, (m = new Map<string, KubeObject>()));
    const old = m.get(s);
    this.rv++;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(this.rv);
    m.set(s, stored);
    this.record({
      rv: this.rv,
      type: old === undefined ? 'ADDED' : 'MODIFIED',
      key,
      object: stored,
      ...(old === undefined ? {} : { oldObject: old }),
    });
    return structuredClone(stored);
  }

  remove(key: string, ns: string | undefined, name: string): KubeObject | undefined {
    const m = this.objects.get(key);
    const old = m?.get(slot(ns, name));
    if (m === undefined || old === undefined) return undefined;
    m.delete(slot(ns, name));
    this.rv++;
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(this.rv);
    this.record({ rv: this.rv, type: 'DELETED', key, object: gone, oldObject: old });
    return structuredClone(gone);
  }

  /** Changes of one type after `rv`; 410 Expired when history before it was compacted away. */
  since(key: string, rv: number): StoreEvent[] {
    if (rv < this.compactedAt) throw expired(`too old resource version: ${rv} (${this.compactedAt})`);
    return this.history.filter((e) => e.key === key && e.rv > rv);
  }

  /** Forgets all history up to now, as etcd compaction does: older resourceVersions then get 410. */
  compact(): number {
    this.compactedAt = this.rv;
    this.history = [];
    return this.compactedAt;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(e: StoreEvent): void {
    this.history.push(e);
    for (const l of [...this.listeners]) l(e);
  }
}
