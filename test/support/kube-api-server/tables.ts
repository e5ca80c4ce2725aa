// meta.k8s.io/v1 Table responses for `kubectl get` (it asks with `Accept: …;as=Table`): the columns apiserver's
// printers give the common kinds, NAME and AGE for the rest, rows carrying PartialObjectMetadata or the object.
import type { ResourceType } from './resources.js';
import type { KubeObject } from './store.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (o: KubeObject) => unknown;
}

export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((part) => part.includes('as=Table') && part.includes('g=meta.k8s.io') && part.includes('v=v1'));
}

/** Go's duration.HumanDuration, as kubectl prints AGE. */
export function humanAge(since: string | undefined, now = Date.now()): string {
  if (since === undefined) return '<unknown>';
  const s = Math.floor((now - Date.parse(since)) / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (cur, k) => (cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined),
      o,
    );

function col(name: string, cell: (o: KubeObject) => unknown, extra: Partial<Column> = {}): Column {
  return { name, type: 'string', format: '', description: name, priority: 0, cell, ...extra };
}

const NAME = col('Name', (o) => o.metadata.name, {
  format: 'name',
  description: 'Name must be unique within a namespace.',
});
const AGE = col('Age', (o) => humanAge(o.metadata.creationTimestamp), {
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
});

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
}

const COLUMNS: Record<string, Column[]> = {
  'v1/ConfigMap': [
    NAME,
    col(
      'Data',
      (o) =>
        Object.keys((o['data'] as object | undefined) ?? {}).length +
        Object.keys((o['binaryData'] as object | undefined) ?? {}).length,
      { type: 'integer' },
    ),
    AGE,
  ],
  'v1/Pod': [
    NAME,
    col('Ready', (o) => {
      const cs = (get(o, 'status.containerStatuses') as ContainerStatus[] | undefined) ?? [];
      const n = ((get(o, 'spec.containers') as unknown[] | undefined) ?? []).length;
      return `${cs.filter((c) => c.ready === true).length}/${n}`;
    }),
    col('Status', (o) =>
      get(o, 'metadata.deletionTimestamp') !== undefined
        ? 'Terminating'
        : (get(o, 'status.reason') ?? get(o, 'status.phase') ?? 'Pending'),
    ),
    col(
      'Restarts',
      (o) =>
        ((get(o, 'status.containerStatuses') as ContainerStatus[] | undefined) ?? []).reduce(
          (n, c) => n + (c.restartCount ?? 0),
          0,
        ),
      { type: 'integer' },
    ),
    AGE,
    col('IP', (o) => get(o, 'status.podIP') ?? '<none>', { priority: 1 }),
    col('Node', (o) => get(o, 'spec.nodeName') ?? '<none>', { priority: 1 }),
  ],
  'v1/Namespace': [NAME, col('Status', (o) => get(o, 'status.phase') ?? ''), AGE],
  'v1/Node': [
    NAME,
    col('Status', (o) => {
      const ready = ((get(o, 'status.conditions') as { type: string; status: string }[] | undefined) ?? []).find(
        (c) => c.type === 'Ready',
      );
      return ready?.status === 'True' ? 'Ready' : ready === undefined ? 'Unknown' : 'NotReady';
    }),
    col('Roles', () => '<none>'),
    AGE,
    col('Version', (o) => get(o, 'status.nodeInfo.kubeletVersion') ?? ''),
  ],
  'batch/v1/Job': [
    NAME,
    col('Status', (o) => {
      const conds = (get(o, 'status.conditions') as { type: string; status: string }[] | undefined) ?? [];
      const c = conds.find((x) => x.status === 'True' && ['Complete', 'Failed', 'Suspended'].includes(x.type));
      return c?.type ?? 'Running';
    }),
    col(
      'Completions',
      (o) =>
        `${(get(o, 'status.succeeded') as number | undefined) ?? 0}/${(get(o, 'spec.completions') as number | undefined) ?? 1}`,
    ),
    col('Duration', (o) => {
      const start = get(o, 'status.startTime') as string | undefined;
      if (start === undefined) return '';
      const end = (get(o, 'status.completionTime') as string | undefined) ?? new Date().toISOString();
      return humanAge(start, Date.parse(end));
    }),
    AGE,
  ],
  'apps/v1/DaemonSet': [
    NAME,
    ...[
      'desiredNumberScheduled',
      'currentNumberScheduled',
      'numberReady',
      'updatedNumberScheduled',
      'numberAvailable',
    ].map((f, i) =>
      col(['Desired', 'Current', 'Ready', 'Up-to-date', 'Available'][i]!, (o) => get(o, `status.${f}`) ?? 0, {
        type: 'integer',
      }),
    ),
    col('Node Selector', (o) => {
      const sel = (get(o, 'spec.template.spec.nodeSelector') as Record<string, string> | undefined) ?? {};
      const s = Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return s === '' ? '<none>' : s;
    }),
    AGE,
  ],
  'v1/Service': [
    NAME,
    col('Type', (o) => get(o, 'spec.type') ?? 'ClusterIP'),
    col('Cluster-IP', (o) => get(o, 'spec.clusterIP') ?? '<none>'),
    col('External-IP', () => '<none>'),
    col(
      'Port(s)',
      (o) =>
        ((get(o, 'spec.ports') as { port: number; protocol?: string }[] | undefined) ?? [])
          .map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)
          .join(',') || '<none>',
    ),
    AGE,
  ],
};

export function toTable(
  type: ResourceType,
  items: readonly KubeObject[],
  q: URLSearchParams,
  resourceVersion: string,
  next?: string,
  withoutColumns = false,
): Record<string, unknown> {
  const cols = COLUMNS[`${type.group === '' ? '' : `${type.group}/`}${type.version}/${type.kind}`] ?? [NAME, AGE];
  const include = q.get('includeObject') ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(resourceVersion === '' ? {} : { resourceVersion }),
      ...(next === undefined ? {} : { continue: next }),
    },
    // Watch events after the first carry no column definitions, as on a real server.
    columnDefinitions: withoutColumns ? [] : cols.map(({ cell, ...c }) => (void cell, c)),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      ...(include === 'None'
        ? {}
        : {
            object:
              include === 'Object'
                ? o
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
          }),
    })),
  };
}
