// Field paths of an object as server-side apply tracks them (structured-merge-diff's FieldsV1): `f:<field>` map
// members, `k:{"name":…}` items of keyed lists, `.` for an item itself; other lists and scalars are leaves.
export type FieldPath = string[];
export type Scope = 'main' | 'status';

const META_IGNORED = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The key fields of a list that server-side apply merges by item, or undefined for an atomic list. */
export function listKeys(field: string, items: readonly unknown[]): string[] | undefined {
  if (items.length === 0 || !items.every(isPlainObject)) return undefined;
  const objs = items as Record<string, unknown>[];
  if (field === 'ports') {
    const port = objs.every((i) => 'containerPort' in i)
      ? 'containerPort'
      : objs.every((i) => 'port' in i)
        ? 'port'
        : '';
    return port === '' ? undefined : [port, 'protocol'];
  }
  if (field === 'volumeMounts' || field === 'volumeDevices')
    return objs.every((i) => 'mountPath' in i || 'devicePath' in i)
      ? [field === 'volumeMounts' ? 'mountPath' : 'devicePath']
      : undefined;
  if (field === 'ownerReferences') return ['uid'];
  if (['tolerations', 'rules', 'subjects', 'podMetricsEndpoints', 'args', 'command'].includes(field)) return undefined;
  return objs.every((i) => typeof i['name'] === 'string') ? ['name'] : undefined;
}

export function itemSegment(item: Record<string, unknown>, keys: readonly string[]): string {
  const k: Record<string, unknown> = {};
  // protocol is defaulted to TCP before keys are compared, as apiserver defaults the applied object first.
  for (const key of keys) if (item[key] !== undefined || key === 'protocol') k[key] = item[key] ?? 'TCP';
  return `k:${JSON.stringify(k)}`;
}

function matchesItem(item: unknown, seg: string): boolean {
  if (!isPlainObject(item)) return false;
  const key = JSON.parse(seg.slice(2)) as Record<string, unknown>;
  return Object.entries(key).every(([k, v]) => item[k] === v);
}

/** Every leaf path of `obj` within `scope` (status alone, or all but status and server-owned metadata). */
export function leafPaths(obj: Record<string, unknown>, scope: Scope): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if ((k === 'status') !== (scope === 'status')) continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!META_IGNORED.has(mk)) walk(mv, ['f:metadata', `f:${mk}`], mk, out);
      continue;
    }
    walk(v, [`f:${k}`], k, out);
  }
  return out;
}

function walk(value: unknown, path: FieldPath, field: string, out: Set<string>): void {
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.add(JSON.stringify(path));
    for (const [k, v] of entries) walk(v, [...path, `f:${k}`], k, out);
    return;
  }
  if (Array.isArray(value)) {
    const keys = listKeys(field, value);
    if (keys === undefined) {
      out.add(JSON.stringify(path));
      return;
    }
    for (const item of value as Record<string, unknown>[]) {
      const ip = [...path, itemSegment(item, keys)];
      out.add(JSON.stringify([...ip, '.']));
      for (const [k, v] of Object.entries(item)) walk(v, [...ip, `f:${k}`], k, out);
    }
    return;
  }
  out.add(JSON.stringify(path));
}

/** The value at a field path, or `found: false`. */
export function valueAt(obj: unknown, path: FieldPath): { found: boolean; value?: unknown } {
  let cur = obj;
  for (const seg of path) {
    if (seg === '.') return { found: true, value: cur };
    if (seg.startsWith('f:')) {
      if (!isPlainObject(cur) || !Object.hasOwn(cur, seg.slice(2))) return { found: false };
      cur = cur[seg.slice(2)];
    } else {
      if (!Array.isArray(cur)) return { found: false };
      const item: unknown = (cur as unknown[]).find((i) => matchesItem(i, seg));
      if (item === undefined) return { found: false };
      cur = item;
    }
  }
  return { found: true, value: cur };
}

/** Removes the field (or, for a `.` path, the list item) at `path` from `obj` in place. */
export function removeAt(obj: unknown, path: FieldPath): void {
  const p = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const parent = valueAt(obj, p.slice(0, -1));
  const last = p[p.length - 1];
  if (!parent.found || last === undefined) return;
  if (last.startsWith('f:') && isPlainObject(parent.value)) delete parent.value[last.slice(2)];
  else if (Array.isArray(parent.value)) {
    const i = parent.value.findIndex((x) => matchesItem(x, last));
    if (i >= 0) parent.value.splice(i, 1);
  }
}

/** `.spec.containers[name="c"].image`, the way apiserver prints a field path in conflicts. */
export function printPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (seg === '.') continue;
    if (seg.startsWith('f:')) out += `.${seg.slice(2)}`;
    else {
      const key = JSON.parse(seg.slice(2)) as Record<string, unknown>;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    }
  }
  return out;
}

/** A set of paths as a FieldsV1 tree: `{"f:data":{"f:a":{}}}`. */
export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of [...paths].sort()) {
    let cur = root;
    for (const seg of JSON.parse(p) as FieldPath) {
      cur[seg] ??= {};
      cur = cur[seg] as Record<string, unknown>;
    }
  }
  return root;
}

export function fromFieldsV1(
  tree: Record<string, unknown>,
  prefix: FieldPath = [],
  out = new Set<string>(),
): Set<string> {
  for (const [seg, child] of Object.entries(tree)) {
    const p = [...prefix, seg];
    if (!isPlainObject(child) || Object.keys(child).length === 0) out.add(JSON.stringify(p));
    else fromFieldsV1(child, p, out);
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
