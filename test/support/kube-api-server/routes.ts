// URL → resource request: /api/v1/… and /apis/<group>/<version>/…, namespaced or cluster-scoped, the legacy
// /watch/ prefix, subresources; and the verb apiserver's authorizer would see for it.
import type { Verb } from './access.js';
import type { ResourceCatalog, ResourceType } from './resources.js';

export interface ResourceRoute {
  kind: 'resource';
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string;
  verb: Verb;
}

export interface DiscoveryRoute {
  kind: 'discovery';
  group: string;
  version: string | undefined;
}

export type Route = ResourceRoute | DiscoveryRoute | { kind: 'unknown' };

function verbOf(method: string, name: string | undefined, watch: boolean): Verb | undefined {
  switch (method) {
    case 'GET':
      return name !== undefined ? (watch ? 'watch' : 'get') : watch ? 'watch' : 'list';
    case 'POST':
      return name === undefined ? 'create' : undefined;
    case 'PUT':
      return name === undefined ? undefined : 'update';
    case 'PATCH':
      return name === undefined ? undefined : 'patch';
    case 'DELETE':
      return name === undefined ? 'deletecollection' : 'delete';
    default:
      return undefined;
  }
}

export function route(
  catalog: ResourceCatalog,
  method: string,
  pathname: string,
  query: URLSearchParams,
): Route | { kind: 'method'; type: ResourceType } {
  const seg = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (seg[0] === 'api') {
    group = '';
    version = seg[1];
    rest = seg.slice(2);
  } else if (seg[0] === 'apis') {
    group = seg[1] ?? '';
    version = seg[2];
    rest = seg.slice(3);
    if (group === '') return { kind: 'discovery', group: '', version: undefined };
  } else return { kind: 'unknown' };
  if (version === undefined || rest.length === 0) return { kind: 'discovery', group, version };
  let watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  let plural: string | undefined;
  let name: string | undefined;
  let subresource = '';
  const nsType = rest[0] === 'namespaces' && rest.length >= 3 ? catalog.byPath(group, version, rest[2]!) : undefined;
  if (nsType?.namespaced === true) {
    namespace = rest[1];
    plural = rest[2];
    name = rest[3];
    subresource = rest[4] ?? '';
    if (rest.length > 5) return { kind: 'unknown' };
  } else {
    plural = rest[0];
    name = rest[1];
    subresource = rest[2] ?? '';
    if (rest.length > 3) return { kind: 'unknown' };
  }
  const type = catalog.byPath(group, version, plural!);
  if (type === undefined) return { kind: 'unknown' };
  if (!type.namespaced && namespace !== undefined) return { kind: 'unknown' };
  if (
    subresource !== '' &&
    !(subresource === 'status' && type.status) &&
    !(subresource === 'log' && type.plural === 'pods' && type.group === '')
  ) {
    return { kind: 'unknown' };
  }
  const verb = verbOf(method, name, watch);
  if (verb === undefined) return { kind: 'method', type };
  if (subresource === 'log' && verb !== 'get') return { kind: 'method', type };
  if (subresource === 'status' && !['get', 'update', 'patch'].includes(verb)) return { kind: 'method', type };
  return { kind: 'resource', type, namespace, name, subresource, verb };
}
