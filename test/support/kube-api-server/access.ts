// Who is asking and whether they may: bearer-token authentication (401 without a known token when tokens are
// configured), test-configured deny rules answered with apiserver's Forbidden message, and the request log that
// counts calls per verb and resource.
import { ApiError, qualified } from './status.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** A request the test wants refused with 403. Unset fields match anything. */
export interface DenyRule {
  verb?: Verb | Verb[];
  /** API group: '' for core. */
  group?: string;
  /** Plural, with subresource when it is one: `configmaps`, `pods/log`. */
  resource: string;
  namespace?: string;
  name?: string;
  user?: string;
}

export interface RequestRecord {
  time: number;
  method: string;
  verb: Verb | 'discovery' | 'other';
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  user: string;
  userAgent: string;
  code: number;
}

export interface Attributes {
  verb: Verb;
  group: string;
  resource: string;
  subresource: string;
  namespace: string | undefined;
  name: string | undefined;
  user: string;
}

export function matchesRule(rule: DenyRule, a: Attributes): boolean {
  const full = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const verbs = rule.verb === undefined ? undefined : Array.isArray(rule.verb) ? rule.verb : [rule.verb];
  return (
    (verbs === undefined || verbs.includes(a.verb)) &&
    (rule.group === undefined || rule.group === a.group) &&
    rule.resource === full &&
    (rule.namespace === undefined || rule.namespace === a.namespace) &&
    (rule.name === undefined || rule.name === a.name) &&
    (rule.user === undefined || rule.user === a.user)
  );
}

/** `configmaps "x" is forbidden: User "u" cannot get resource "configmaps" in API group "" in the namespace "ns"`. */
export function forbidden(a: Attributes): ApiError {
  const full = a.subresource === '' ? a.resource : `${a.resource}/${a.subresource}`;
  const subject =
    a.name === undefined || a.name === ''
      ? qualified(a.resource, a.group)
      : `${qualified(a.resource, a.group)} "${a.name}"`;
  const scope =
    a.namespace === undefined || a.namespace === '' ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${a.user}" cannot ${a.verb} resource "${full}" in API group "${a.group}" ${scope}`,
    {
      ...(a.name === undefined || a.name === '' ? {} : { name: a.name }),
      ...(a.group === '' ? {} : { group: a.group }),
      kind: a.resource,
    },
  );
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** The user of a request: the token's user, or `anonymousUser` when no tokens are configured. */
export function authenticate(
  authorization: string | undefined,
  tokens: ReadonlyMap<string, string>,
  anonymousUser: string,
): string {
  if (tokens.size === 0) return anonymousUser;
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  const user = m === null ? undefined : tokens.get(m[1]!);
  if (user === undefined) throw unauthorized();
  return user;
}

interface AccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** The answer to a SelfSubjectAccessReview (`kubectl auth can-i`): allowed unless a deny rule matches. */
export function reviewAccess(
  body: { spec?: AccessReviewSpec },
  user: string,
  rules: readonly DenyRule[],
): Record<string, unknown> {
  const ra = body.spec?.resourceAttributes;
  let allowed = true;
  if (ra !== undefined) {
    const a: Attributes = {
      verb: (ra.verb ?? 'get') as Verb,
      group: ra.group ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource ?? '',
      namespace: ra.namespace === '' ? undefined : ra.namespace,
      name: ra.name === '' ? undefined : ra.name,
      user,
    };
    allowed = !rules.some((r) => matchesRule(r, a) || (ra.verb === '*' && r.resource === a.resource));
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: allowed
      ? {
          allowed: true,
          reason:
            'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to User "' + user + '"',
        }
      : { allowed: false },
  };
}
