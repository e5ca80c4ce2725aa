// The server's record of the requests it answered, as tests ask it: filtered by verb, resource, user, time…, and
// grouped into counts per `verb group/resource[/subresource]`.
import type { RequestRecord } from './access.js';

export type RequestFilter = Partial<
  Pick<
    RequestRecord,
    'verb' | 'group' | 'resource' | 'subresource' | 'namespace' | 'name' | 'user' | 'userAgent' | 'method'
  >
> & {
  since?: number;
};

/** The records that match every field of `filter` (`since`: at or after that time). */
export function filterRequests(records: readonly RequestRecord[], filter: RequestFilter = {}): RequestRecord[] {
  return records.filter((r) =>
    Object.entries(filter).every(([k, v]) =>
      k === 'since' ? r.time >= (v as number) : r[k as keyof RequestRecord] === v,
    ),
  );
}

/** Records grouped as `verb group/resource[/subresource]` (discovery and others by path) → count. */
export function countRequestKinds(records: readonly RequestRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const res = `${r.group === '' ? '' : `${r.group}/`}${r.resource}${r.subresource === '' ? '' : `/${r.subresource}`}`;
    const k = r.verb === 'discovery' || r.verb === 'other' ? `${r.verb} ${r.path}` : `${r.verb} ${res}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
