// Discovery documents (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]) built from the catalog, in the
// legacy (unaggregated) form: kubectl and client-node fall back to it when aggregated discovery is not offered.
import type { ResourceCatalog, ResourceType } from './resources.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(address: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
  };
}

function group(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(catalog: ResourceCatalog): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: catalog.groups().map((g) => group(g.group, g.versions)),
  };
}

export function apiGroup(catalog: ResourceCatalog, name: string): Record<string, unknown> | undefined {
  const g = catalog.groups().find((x) => x.group === name);
  return g === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...group(g.group, g.versions) };
}

function entries(t: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
    ...(t.shortNames === undefined ? {} : { shortNames: t.shortNames }),
    ...(t.categories === undefined ? {} : { categories: t.categories }),
  };
  // The main resource precedes its subresources, as on a real server (client-node takes the first kind match).
  const out = [main];
  if (t.plural === 'pods') {
    out.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  }
  if (t.status) {
    out.push({
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  return out;
}

export function apiResourceList(
  catalog: ResourceCatalog,
  groupName: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = catalog.inGroupVersion(groupName, version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`,
    resources: types.flatMap(entries),
  };
}
