// RBAC evaluation from the stored Roles, ClusterRoles and their bindings (when a server runs with `rbac: true`):
// users in system:masters may do anything; everyone else only what a binding grants, as the RBAC authorizer decides.
import type { Attributes } from './access.js';
import type { ObjectStore } from './store.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}
interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}
interface Binding {
  metadata: { namespace?: string };
  subjects?: Subject[];
  roleRef?: { kind: string; name: string };
}

/** The groups apiserver puts a user in: service accounts' groups, system:authenticated, and configured ones. */
export function groupsOf(user: string, extra: readonly string[] = []): string[] {
  const m = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user);
  return [
    ...extra,
    ...(m === null ? [] : ['system:serviceaccounts', `system:serviceaccounts:${m[1]}`]),
    'system:authenticated',
  ];
}

function subjectMatches(s: Subject, bindingNs: string | undefined, user: string, groups: readonly string[]): boolean {
  if (s.kind === 'User') return s.name === user;
  if (s.kind === 'Group') return groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user === `system:serviceaccount:${s.namespace ?? bindingNs ?? ''}:${s.name}`;
  return false;
}

function ruleMatches(r: Rule, a: Attributes): boolean {
  const full = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const verbs = r.verbs ?? [];
  const groups = r.apiGroups ?? [];
  const resources = r.resources ?? [];
  const names = r.resourceNames ?? [];
  return (
    (verbs.includes('*') || verbs.includes(a.verb)) &&
    (groups.includes('*') || groups.includes(a.group)) &&
    (resources.includes('*') ||
      resources.includes(full) ||
      (a.subresource !== '' && resources.includes(`*/${a.subresource}`))) &&
    (names.length === 0 || (a.name !== undefined && names.includes(a.name)))
  );
}

/** Whether the stored RBAC objects allow `a` for a user in `groups`. */
export function rbacAllows(store: ObjectStore, a: Attributes, groups: readonly string[]): boolean {
  if (groups.includes('system:masters')) return true;
  const rulesOf = (kind: string, name: string, ns: string | undefined): Rule[] => {
    const o =
      kind === 'ClusterRole'
        ? store.get('clusterroles.rbac.authorization.k8s.io', undefined, name)
        : store.get('roles.rbac.authorization.k8s.io', ns, name);
    return (o?.['rules'] as Rule[] | undefined) ?? [];
  };
  const granted = (b: Binding, scopeNs: string | undefined): boolean =>
    (b.subjects ?? []).some((s) => subjectMatches(s, b.metadata.namespace, a.user, groups)) &&
    b.roleRef !== undefined &&
    rulesOf(b.roleRef.kind, b.roleRef.name, scopeNs).some((r) => ruleMatches(r, a));
  const cluster = store.list('clusterrolebindings.rbac.authorization.k8s.io') as unknown as Binding[];
  if (cluster.some((b) => granted(b, undefined))) return true;
  if (a.namespace === undefined || a.namespace === '') return false;
  const local = store.list('rolebindings.rbac.authorization.k8s.io', a.namespace) as unknown as Binding[];
  return local.some((b) => granted(b, a.namespace));
}
