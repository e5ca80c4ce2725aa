// What a one-shot trace runs on: the TARGET argument (`node/NAME`, `pod/NAME[/CONTAINER]`, `deploy/NAME`) read
// and resolved against the cluster into one placement per node (a pod: its node; a deployment: the nodes of the
// pods its selector matches), each with the pods and containers the trace is restricted to there.
import type { V1Pod } from '@kubernetes/client-node';
import { KtraceError, isKtraceError } from '@ktrace/parser';
import type { KubeClient } from './kube-client.js';
import type { OneShotTarget, TargetPod } from './manifests/one-shot.js';

export type OneShotTargetKind = 'node' | 'pod' | 'deployment';

/** TARGET as written, before it is looked up. */
export interface OneShotTargetRef {
  kind: OneShotTargetKind;
  name: string;
  container?: string;
}

/** Where one Job runs and what it is restricted to. */
export interface OneShotPlacement {
  node: string;
  target: OneShotTarget;
}

const KINDS: Readonly<Record<string, OneShotTargetKind>> = {
  node: 'node',
  nodes: 'node',
  no: 'node',
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
  deploy: 'deployment',
  deployment: 'deployment',
  deployments: 'deployment',
};

/** Whether an argument is a TARGET (so `ktrace run` hands it to the cluster rather than running locally). */
export function looksLikeOneShotTarget(arg: string): boolean {
  const slash = arg.indexOf('/');
  return slash > 0 && KINDS[arg.slice(0, slash)] !== undefined;
}

function badTarget(message: string): KtraceError {
  return new KtraceError({ code: 'KTRACE_BAD_OPTION', message });
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Reads TARGET; throws KTRACE_BAD_OPTION (exit 2) naming what is wrong. */
export function parseOneShotTarget(arg: string): OneShotTargetRef {
  const parts = arg.split('/');
  const kind = KINDS[parts[0] ?? ''];
  const usage = 'TARGET is node/NAME, pod/NAME[/CONTAINER] or deploy/NAME';
  if (kind === undefined) throw badTarget(`${usage}, not "${arg}"`);
  const name = parts[1] ?? '';
  const maxParts = kind === 'pod' ? 3 : 2;
  if (parts.length > maxParts || name === '') throw badTarget(`${usage}, not "${arg}"`);
  if (name.length > 253 || !SUBDOMAIN.test(name)) throw badTarget(`${arg}: "${name}" is not a valid ${kind} name`);
  const container = parts[2];
  if (container !== undefined && (container.length > 63 || !LABEL.test(container)))
    throw badTarget(`${arg}: "${container}" is not a valid container name`);
  return { kind, name, ...(container === undefined ? {} : { container }) };
}

/** A trace name made from the target (`node-worker-1`, `pod-cart-0`): the same TARGET re-runs the same trace. */
export function defaultOneShotName(ref: OneShotTargetRef): string {
  const prefix = ref.kind === 'deployment' ? 'deploy' : ref.kind;
  const base = `${prefix}-${ref.name}${ref.container === undefined ? '' : `-${ref.container}`}`.replace(
    /[^a-z0-9-]+/g,
    '-',
  );
  return base.slice(0, 40).replace(/-+$/, '');
}

function notFound(message: string, cause?: unknown): KtraceError {
  return new KtraceError({ code: 'KTRACE_NOT_FOUND', message, ...(cause === undefined ? {} : { cause }) });
}

async function orNotFound<T>(request: Promise<T>, message: string): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (isKtraceError(error) && error.code === 'KTRACE_NOT_FOUND') throw notFound(message, error);
    throw error;
  }
}

/** The runtime's id of each container (`containerd://abc` → `abc`); containers not started yet have none. */
function containerIds(pod: V1Pod, container: string | undefined): string[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses
    .filter((s) => container === undefined || s.name === container)
    .map((s) => s.containerID?.replace(/^[a-z0-9-]+:\/\//, ''))
    .filter((id): id is string => id !== undefined && id !== '');
}

function targetPod(pod: V1Pod, container: string | undefined, described: string): TargetPod {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  if (container === undefined) return { namespace, name, uid };
  const declared = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  if (!declared.includes(container))
    throw notFound(
      `${described}: pod ${namespace}/${name} has no container "${container}" (it has ${declared.join(', ')})`,
    );
  const ids = containerIds(pod, container);
  if (ids.length === 0)
    throw badTarget(
      `${described}: container "${container}" of pod ${namespace}/${name} has not started (no container id yet); try again when it runs`,
    );
  return { namespace, name, uid, containerIds: ids };
}

function isLive(pod: V1Pod): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed'
  );
}

/**
 * Looks TARGET up: a node must exist; a pod must be scheduled (its node is where the Job runs); a deployment must
 * have live pods on some node (one Job per node, each restricted to the deployment's pods there). Missing
 * objects are KTRACE_NOT_FOUND, a pod on no node or a deployment without pods KTRACE_BAD_OPTION (both exit 2).
 */
export async function resolveOneShotTarget(
  client: KubeClient,
  ref: OneShotTargetRef,
  targetNamespace: string,
): Promise<OneShotPlacement[]> {
  if (ref.kind === 'node') {
    await orNotFound(
      client.call({ verb: 'get', resource: 'nodes', name: ref.name }, () => client.core.readNode({ name: ref.name })),
      `node/${ref.name}: no such node (kubectl get nodes lists them)`,
    );
    return [{ node: ref.name, target: { kind: 'node' } }];
  }
  const described = `${ref.kind === 'pod' ? 'pod' : 'deploy'}/${ref.name}`;
  if (ref.kind === 'pod') {
    const pod = await orNotFound(
      client.call({ verb: 'get', resource: 'pods', name: ref.name, namespace: targetNamespace }, () =>
        client.core.readNamespacedPod({ name: ref.name, namespace: targetNamespace }),
      ),
      `${described}: no such pod in namespace ${targetNamespace} (--target-namespace NS names another)`,
    );
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') {
      throw badTarget(
        `${described} in namespace ${targetNamespace} is on no node (phase ${pod.status?.phase ?? 'unknown'}: not scheduled yet); trace it once it is scheduled, or trace a node`,
      );
    }
    if (!isLive(pod))
      throw badTarget(
        `${described} in namespace ${targetNamespace} has ended (phase ${pod.status?.phase ?? 'terminating'}): nothing of it is left to trace`,
      );
    const pods = [targetPod(pod, ref.container, described)];
    return [
      {
        node,
        target: {
          kind: 'pod',
          namespace: targetNamespace,
          name: ref.name,
          ...(ref.container === undefined ? {} : { container: ref.container }),
          pods,
        },
      },
    ];
  }
  const deployment = await orNotFound(
    client.call({ verb: 'get', resource: 'deployments.apps', name: ref.name, namespace: targetNamespace }, () =>
      client.apps.readNamespacedDeployment({ name: ref.name, namespace: targetNamespace }),
    ),
    `${described}: no such deployment in namespace ${targetNamespace} (--target-namespace NS names another)`,
  );
  const labels = deployment.spec?.selector.matchLabels ?? {};
  const expressions = deployment.spec?.selector.matchExpressions ?? [];
  const selector = [
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ...expressions.map((e) =>
      e.operator === 'Exists'
        ? e.key
        : e.operator === 'DoesNotExist'
          ? `!${e.key}`
          : `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`,
    ),
  ].join(',');
  const list = await client.call({ verb: 'list', resource: 'pods', namespace: targetNamespace }, () =>
    client.core.listNamespacedPod({
      namespace: targetNamespace,
      ...(selector === '' ? {} : { labelSelector: selector }),
    }),
  );
  const byNode = new Map<string, TargetPod[]>();
  for (const pod of list.items.filter(isLive)) {
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') continue;
    byNode.set(node, [...(byNode.get(node) ?? []), targetPod(pod, ref.container, described)]);
  }
  if (byNode.size === 0) {
    const pending = list.items.filter(isLive).length;
    throw badTarget(
      pending > 0
        ? `${described} in namespace ${targetNamespace}: none of its ${pending} pods is on a node yet (not scheduled)`
        : `${described} in namespace ${targetNamespace} has no pods (selector ${selector || '<none>'}); is it scaled to 0?`,
    );
  }
  return [...byNode.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, pods]) => ({
      node,
      target: {
        kind: 'deployment',
        namespace: targetNamespace,
        name: ref.name,
        ...(ref.container === undefined ? {} : { container: ref.container }),
        pods,
      },
    }));
}
