// Fields the official schema does not declare, found by running the schema's compiled validator over a proxy that
// records which members it reads: a member never read of an object the validator inspected member by member is
// unknown. Objects it enumerates (maps) or never looks into (free-form) have no unknown members.
import { isPlainObject } from './field-sets.js';

interface Seen {
  path: (string | number)[];
  keys: string[];
  read: Set<string>;
  enumerated: boolean;
}

function track(value: unknown, path: (string | number)[], seen: Seen[]): unknown {
  if (Array.isArray(value)) {
    return new Proxy(value, {
      get(t, k, r): unknown {
        const v: unknown = Reflect.get(t, k, r);
        return typeof k === 'string' && /^\d+$/.test(k) ? track(v, [...path, Number(k)], seen) : v;
      },
    });
  }
  if (!isPlainObject(value)) return value;
  const entry: Seen = { path, keys: Object.keys(value), read: new Set(), enumerated: false };
  seen.push(entry);
  const children = new Map<string, unknown>();
  return new Proxy(value, {
    get(t, k, r): unknown {
      const v: unknown = Reflect.get(t, k, r);
      if (typeof k !== 'string') return v;
      entry.read.add(k);
      if (!children.has(k)) children.set(k, track(v, [...path, k], seen));
      return children.get(k);
    },
    has(t, k) {
      if (typeof k === 'string') entry.read.add(k);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      entry.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

/** Paths (`['spec', 'containers', 0, 'imagee']`) of members `validate` never read. */
export function unknownFields(obj: unknown, validate: (data: unknown) => void): (string | number)[][] {
  const seen: Seen[] = [];
  try {
    validate(track(obj, [], seen));
  } catch {
    // Schema errors are reported by the caller's own validation pass.
  }
  const out: (string | number)[][] = [];
  for (const s of seen) {
    if (s.enumerated || s.read.size === 0) continue;
    for (const k of s.keys) if (!s.read.has(k)) out.push([...s.path, k]);
  }
  return out;
}

/** `spec.containers[0].imagee`, as apiserver's strict decoding names an unknown field. */
export function printUnknown(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function dropField(obj: unknown, path: readonly (string | number)[]): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  if (cur !== null && typeof cur === 'object') delete (cur as Record<string | number, unknown>)[path[path.length - 1]!];
}
