// The part of /openapi/v3 that kubectl reads: per group-version documents whose PATCH operations carry
// x-kubernetes-group-version-kind and the fieldValidation parameter, so `kubectl apply` leaves validation to the
// server (fieldValidation=Strict) instead of needing the full schemas. Component schemas are not served.
import { createHash } from 'node:crypto';
import type { ResourceCatalog, ResourceType } from './resources.js';

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const QUERY = (name: string, description: string): Record<string, unknown> => ({
  name,
  in: 'query',
  description,
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
});

function itemPath(t: ResourceType): string {
  const base = `/${gvPath(t.group, t.version)}`;
  return t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}/{name}` : `${base}/${t.plural}/{name}`;
}

function gvDocument(types: readonly ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    paths[itemPath(t)] = {
      get: {
        operationId: `read${t.kind}`,
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': gvk,
        responses: {},
      },
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [
          QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'),
          QUERY(
            'fieldManager',
            'fieldManager is a name associated with the actor or entity that is making these changes.',
          ),
          QUERY(
            'fieldValidation',
            'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
          ),
          QUERY('force', 'Force is going to "force" Apply requests.'),
        ],
        requestBody: {
          content: {
            'application/apply-patch+yaml': { schema: { type: 'object' } },
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
          },
          required: true,
        },
        responses: {},
      },
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        ...(t.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : []),
      ],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas: {} } };
}

/** The document for `/openapi/v3` or `/openapi/v3/<gv path>`, or undefined (404). */
export function openApiV3(catalog: ResourceCatalog, pathname: string): Record<string, unknown> | undefined {
  const gvs = new Map<string, ResourceType[]>();
  for (const t of catalog.types)
    gvs.set(gvPath(t.group, t.version), [...(gvs.get(gvPath(t.group, t.version)) ?? []), t]);
  const rest = pathname.replace(/^\/openapi\/v3\/?/, '');
  if (rest === '') {
    const paths: Record<string, unknown> = {};
    for (const [gv, types] of gvs) {
      const hash = createHash('sha512')
        .update(JSON.stringify(gvDocument(types)))
        .digest('hex')
        .slice(0, 128)
        .toUpperCase();
      paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
    }
    return { paths };
  }
  const types = gvs.get(rest);
  return types === undefined ? undefined : gvDocument(types);
}
