// The resource types the server knows (group, version, plural, kind, scope, verbs, short names): the one table that
// discovery, routing, storage keys, selectors and RBAC messages all read.
export interface ResourceType {
  group: string;
  version: string;
  /** Lower-case plural, as in URLs: `configmaps`. */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Whether `<plural>/status` exists (the main resource then ignores status writes). */
  status: boolean;
  /** Extra field selector labels beyond metadata.name and metadata.namespace. */
  fieldLabels?: string[];
  /** Whether metadata.generation is kept (workloads and custom resources; not ConfigMaps, Pods, RBAC…). */
  generation?: boolean;
  /** Default deletion propagation when a DELETE names none (batch/v1 Jobs orphan, as on a real server). */
  defaultPropagation?: 'Orphan' | 'Background';
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function rt(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    verbs: ALL,
    status: false,
    ...extra,
  };
}

/** The built-in catalog; `start({ resources })` can add more. */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  rt('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  rt('', 'v1', 'events', 'Event', true, {
    shortNames: ['ev'],
    fieldLabels: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  }),
  rt('', 'v1', 'namespaces', 'Namespace', false, {
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    status: true,
    fieldLabels: ['status.phase'],
  }),
  rt('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], status: true, fieldLabels: ['spec.unschedulable'] }),
  rt('', 'v1', 'pods', 'Pod', true, {
    shortNames: ['po'],
    categories: ['all'],
    status: true,
    fieldLabels: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
  }),
  rt('', 'v1', 'secrets', 'Secret', true, { fieldLabels: ['type'] }),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  rt('', 'v1', 'services', 'Service', true, {
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    status: true,
  }),
  rt('apps', 'v1', 'daemonsets', 'DaemonSet', true, {
    shortNames: ['ds'],
    generation: true,
    categories: ['all'],
    status: true,
  }),
  rt('apps', 'v1', 'deployments', 'Deployment', true, {
    shortNames: ['deploy'],
    generation: true,
    categories: ['all'],
    status: true,
  }),
  rt('apps', 'v1', 'replicasets', 'ReplicaSet', true, {
    shortNames: ['rs'],
    generation: true,
    categories: ['all'],
    status: true,
  }),
  rt('batch', 'v1', 'jobs', 'Job', true, {
    generation: true,
    categories: ['all'],
    status: true,
    fieldLabels: ['status.successful'],
    defaultPropagation: 'Orphan',
  }),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  rt('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  rt('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  rt('monitoring.coreos.com', 'v1', 'podmonitors', 'PodMonitor', true, {
    shortNames: ['pmon'],
    generation: true,
    categories: ['prometheus-operator'],
  }),
];

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** `configmaps` for the core group, `jobs.batch` otherwise: the storage and message key of a type. */
export function typeKey(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

export class ResourceCatalog {
  readonly types: ResourceType[];
  constructor(extra: readonly ResourceType[] = []) {
    this.types = [...BUILTIN_RESOURCES, ...extra];
  }

  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  /** `pods`, `pod`, `po`, `jobs.batch`, `Pod`: what tests (and kubectl users) call a type. */
  byName(name: string): ResourceType | undefined {
    const [head, ...rest] = name.split('.');
    const group = rest.join('.');
    const lower = (head ?? '').toLowerCase();
    return this.types.find(
      (t) =>
        (rest.length === 0 || t.group === group) &&
        (t.plural === lower || t.singular === lower || t.shortNames?.includes(lower) === true),
    );
  }

  groups(): { group: string; versions: string[] }[] {
    const out: { group: string; versions: string[] }[] = [];
    for (const t of this.types) {
      if (t.group === '') continue;
      const g = out.find((x) => x.group === t.group);
      if (g === undefined) out.push({ group: t.group, versions: [t.version] });
      else if (!g.versions.includes(t.version)) g.versions.push(t.version);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }
}
