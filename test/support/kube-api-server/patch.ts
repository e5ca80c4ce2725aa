// The non-apply patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch for
// built-in types (keyed lists merged by their key, `$patch: delete|replace`, `null` deletes).
import { badRequest, ApiError } from './status.js';
import { isPlainObject, itemSegment, listKeys } from './field-sets.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor')
    return ct.endsWith('yaml') ? 'apply' : undefined;
  return undefined;
}

export function unsupportedPatch(contentType: string | undefined, custom: boolean): ApiError {
  const accepted = custom
    ? 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'
    : 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml';
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted}`,
  );
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function strategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (isPlainObject(patch)) {
    if (patch['$patch'] === 'replace') {
      const rest = { ...patch };
      delete rest['$patch'];
      return structuredClone(rest);
    }
    const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$')) continue;
      if (v === null) delete out[k];
      else out[k] = strategicMergePatch(out[k], v, k);
    }
    return out;
  }
  if (Array.isArray(patch) && Array.isArray(target)) {
    const keys = listKeys(
      field,
      patch.filter((p) => !(isPlainObject(p) && p['$patch'] !== undefined && Object.keys(p).length === 1)),
    );
    if (keys !== undefined && listKeys(field, target) !== undefined) {
      const out = target.map((x) => structuredClone(x) as Record<string, unknown>);
      for (const item of patch as Record<string, unknown>[]) {
        const seg = itemSegment(item, keys);
        const i = out.findIndex((x) => itemSegment(x, keys) === seg);
        if (item['$patch'] === 'delete') {
          if (i >= 0) out.splice(i, 1);
        } else if (i >= 0) out[i] = strategicMergePatch(out[i], item) as Record<string, unknown>;
        else out.push(strategicMergePatch(undefined, item) as Record<string, unknown>);
      }
      return out;
    }
  }
  return structuredClone(patch);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer: "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, parts: string[], op: string): { parent: unknown; last: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isPlainObject(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined)
      throw new ApiError(
        422,
        'Invalid',
        `${op} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`,
      );
  }
  return { parent: cur, last: parts[parts.length - 1]! };
}

function getAt(doc: unknown, parts: string[]): unknown {
  let cur = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isPlainObject(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = structuredClone(doc);
  for (const raw of ops as Record<string, unknown>[]) {
    const op = typeof raw['op'] === 'string' ? raw['op'] : '';
    const parts = pointer(typeof raw['path'] === 'string' ? raw['path'] : '');
    const add = (value: unknown, at: string[]): void => {
      if (at.length === 0) {
        out = structuredClone(value);
        return;
      }
      const { parent, last } = parentOf(out, at, op);
      if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(value));
      else (parent as Record<string, unknown>)[last] = structuredClone(value);
    };
    const remove = (at: string[]): unknown => {
      const { parent, last } = parentOf(out, at, op);
      const had: unknown = Array.isArray(parent)
        ? (parent as unknown[])[Number(last)]
        : (parent as Record<string, unknown>)[last];
      if (had === undefined)
        throw new ApiError(
          422,
          'Invalid',
          `${op} operation does not apply: doc is missing key: /${at.join('/')}: missing value`,
        );
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete (parent as Record<string, unknown>)[last];
      return had;
    };
    switch (op) {
      case 'add':
        add(raw['value'], parts);
        break;
      case 'remove':
        remove(parts);
        break;
      case 'replace':
        remove(parts);
        add(raw['value'], parts);
        break;
      case 'move':
        add(remove(pointer(String(raw['from']))), parts);
        break;
      case 'copy':
        add(getAt(out, pointer(String(raw['from']))), parts);
        break;
      case 'test':
        if (JSON.stringify(getAt(out, parts)) !== JSON.stringify(raw['value'])) {
          throw new ApiError(422, 'Invalid', `testing value /${parts.join('/')} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return out;
}
