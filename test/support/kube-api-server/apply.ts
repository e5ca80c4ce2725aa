// Server-side apply and field ownership: merges an applied configuration into the live object, keeps
// metadata.managedFields per manager (Apply and Update entries), and reports conflicts the way apiserver does.
import { ApiError } from './status.js';
import type { StatusCause } from './status.js';
import type { KubeObject, ManagedFieldsEntry } from './store.js';
import {
  deepEqual,
  fromFieldsV1,
  isPlainObject,
  itemSegment,
  leafPaths,
  listKeys,
  printPath,
  removeAt,
  toFieldsV1,
  valueAt,
} from './field-sets.js';
import type { FieldPath, Scope } from './field-sets.js';

interface Owned {
  entry: ManagedFieldsEntry;
  paths: Set<string>;
}

function owned(obj: KubeObject | undefined): Owned[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({
    entry: structuredClone(entry),
    paths: fromFieldsV1(entry.fieldsV1 ?? {}),
  }));
}

function sameManager(
  e: ManagedFieldsEntry,
  manager: string,
  operation: string,
  subresource: string | undefined,
): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

function entriesOut(list: Owned[]): ManagedFieldsEntry[] {
  return list
    .filter((o) => o.paths.size > 0)
    .map((o) => ({ ...o.entry, fieldsType: 'FieldsV1' as const, fieldsV1: toFieldsV1(o.paths) }));
}

function inScope(path: string, scope: Scope): boolean {
  return (JSON.parse(path) as FieldPath)[0] === 'f:status' ? scope === 'status' : scope === 'main';
}

/** Merges `applied` into `live`: maps member by member, keyed lists item by item, everything else replaced. */
export function mergeApplied(live: unknown, applied: unknown, field = ''): unknown {
  if (isPlainObject(live) && isPlainObject(applied)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(live[k], v, k);
    }
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied)) {
    const keys = listKeys(field, applied);
    if (keys !== undefined && listKeys(field, live) !== undefined) {
      const out = live.map((x) => structuredClone(x) as Record<string, unknown>);
      for (const item of applied as Record<string, unknown>[]) {
        const seg = itemSegment(item, keys);
        const i = out.findIndex((x) => itemSegment(x, keys) === seg);
        if (i >= 0) out[i] = mergeApplied(out[i], item) as Record<string, unknown>;
        else out.push(structuredClone(item));
      }
      return out;
    }
  }
  return structuredClone(applied);
}

function printManager(e: ManagedFieldsEntry): string {
  const sub = e.subresource === undefined || e.subresource === '' ? '' : ` with subresource "${e.subresource}"`;
  return e.operation === 'Update' ? `"${e.manager}"${sub} using ${e.apiVersion}` : `"${e.manager}"${sub}`;
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: FieldPath }[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.entry)}`,
    field: printPath(c.path),
  }));
  let text: string;
  if (conflicts.length === 1) text = `${causes[0]!.message}: ${causes[0]!.field}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of causes) byManager.set(c.message!, [...(byManager.get(c.message!) ?? []), c.field!]);
    text = [...byManager.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([m, fields]) =>
        fields.length === 1
          ? `${m}: ${fields[0]}`
          : `${m.replace(/^conflict with/, 'conflicts with')}:${fields.map((f) => `\n- ${f}`).join('')}`,
      )
      .join('\n');
  }
  const n = conflicts.length;
  return new ApiError(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${text}`, { causes });
}

export interface ApplyRequest {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  apiVersion: string;
  scope: Scope;
  subresource?: string;
  now: string;
}

/** The object after applying `applied` as `manager`, with managedFields updated; throws a 409 on conflicts. */
export function serverSideApply(req: ApplyRequest): KubeObject {
  const appliedPaths = leafPaths(req.applied, req.scope);
  const owners = owned(req.live);
  const mine = owners.find((o) => sameManager(o.entry, req.manager, 'Apply', req.subresource));
  const others = owners.filter((o) => o !== mine);
  const conflicts: { entry: ManagedFieldsEntry; path: FieldPath; owner: Owned; key: string }[] = [];
  if (req.live !== undefined) {
    for (const key of appliedPaths) {
      const path = JSON.parse(key) as FieldPath;
      if (path[path.length - 1] === '.') continue;
      for (const o of others) {
        if (!o.paths.has(key)) continue;
        if (!deepEqual(valueAt(req.live, path).value, valueAt(req.applied, path).value)) {
          conflicts.push({ entry: o.entry, path, owner: o, key });
        }
      }
    }
  }
  if (conflicts.length > 0 && !req.force) throw conflictError(conflicts);
  for (const c of conflicts) c.owner.paths.delete(c.key);

  const next: KubeObject = structuredClone(req.live ?? { metadata: {} });
  // Fields this manager applied before and no longer applies go away unless someone else still owns them.
  for (const key of mine?.paths ?? []) {
    if (appliedPaths.has(key) || others.some((o) => o.paths.has(key))) continue;
    if (!inScope(key, req.scope)) continue;
    removeAt(next, JSON.parse(key) as FieldPath);
  }
  const body = structuredClone(req.applied) as Record<string, unknown>;
  delete body['apiVersion'];
  delete body['kind'];
  if (req.scope === 'main') delete body['status'];
  else for (const k of Object.keys(body)) if (k !== 'status') delete body[k];
  const merged = mergeApplied(next, body) as KubeObject;
  merged.apiVersion = req.applied.apiVersion ?? req.live?.apiVersion ?? req.apiVersion;
  merged.kind = req.applied.kind ?? req.live?.kind ?? '';
  const entry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Apply',
    apiVersion: req.apiVersion,
    time: req.now,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
    ...(req.subresource === undefined ? {} : { subresource: req.subresource }),
  };
  // Managers keep their order; this manager's entry is replaced in place, or appended.
  const ordered =
    mine === undefined
      ? [...others, { entry, paths: appliedPaths }]
      : owners.map((o) => (o === mine ? { entry, paths: appliedPaths } : o));
  merged.metadata.managedFields = entriesOut(ordered);
  return merged;
}

/** managedFields after a non-apply write (create, update, patch) by `manager`: it takes every field it changed. */
export function trackUpdate(
  old: KubeObject | undefined,
  next: KubeObject,
  opts: { manager: string; apiVersion: string; scope: Scope; subresource?: string; now: string },
): ManagedFieldsEntry[] {
  const owners = owned(old);
  const before = old === undefined ? new Set<string>() : leafPaths(old, opts.scope);
  const after = leafPaths(next, opts.scope);
  const changed = new Set<string>();
  for (const key of after) {
    const path = JSON.parse(key) as FieldPath;
    if (!before.has(key) || !deepEqual(valueAt(old, path).value, valueAt(next, path).value)) changed.add(key);
  }
  const removed = [...before].filter((k) => !after.has(k));
  for (const o of owners) for (const k of [...changed, ...removed]) o.paths.delete(k);
  let mine = owners.find((o) => sameManager(o.entry, opts.manager, 'Update', opts.subresource));
  if (mine === undefined && changed.size > 0) {
    mine = {
      entry: {
        manager: opts.manager,
        operation: 'Update',
        apiVersion: opts.apiVersion,
        time: opts.now,
        fieldsType: 'FieldsV1',
        fieldsV1: {},
        ...(opts.subresource === undefined ? {} : { subresource: opts.subresource }),
      },
      paths: new Set(),
    };
    owners.push(mine);
  }
  if (mine !== undefined && changed.size > 0) {
    for (const k of changed) mine.paths.add(k);
    mine.entry.time = opts.now;
    mine.entry.apiVersion = opts.apiVersion;
  }
  return entriesOut(owners);
}
