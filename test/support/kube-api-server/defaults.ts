// Server-side defaulting for the kinds tests create (Pod, Job, DaemonSet, Namespace, Service), so that objects read
// back carry the fields a real apiserver fills in; only absent fields are set, on every write, like API defaulting.
import type { KubeObject } from './store.js';
import { isPlainObject } from './field-sets.js';

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  if (!isPlainObject(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = value;
}

function defaultContainer(c: unknown): void {
  if (!isPlainObject(c)) return;
  const image = typeof c['image'] === 'string' ? c['image'] : '';
  const tag = image.includes('@') ? 'digest' : (/:[^/]+$/.exec(image)?.[0].slice(1) ?? 'latest');
  setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  if (Array.isArray(c['ports'])) for (const p of c['ports']) if (isPlainObject(p)) setDefault(p, 'protocol', 'TCP');
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'enableServiceLinks', true);
  if (spec['serviceAccountName'] === undefined) spec['serviceAccountName'] = spec['serviceAccount'] ?? 'default';
  setDefault(spec, 'serviceAccount', spec['serviceAccountName']);
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list]) defaultContainer(c);
  }
}

function defaultTemplate(spec: Obj): void {
  const template = obj(spec, 'template');
  defaultPodSpec(obj(template, 'spec'));
}

/** Fills defaults in place; `created` is true on the first write (status defaults apply then only). */
export function applyDefaults(o: KubeObject, created: boolean): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const body = o as Obj;
  switch (key) {
    case 'v1/Pod': {
      defaultPodSpec(obj(body, 'spec'));
      if (created) setDefault(obj(body, 'status'), 'phase', 'Pending');
      break;
    }
    case 'v1/Namespace': {
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name! };
      setDefault(obj(body, 'spec'), 'finalizers', ['kubernetes']);
      if (created) setDefault(obj(body, 'status'), 'phase', 'Active');
      break;
    }
    case 'batch/v1/Job': {
      const spec = obj(body, 'spec');
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
      const uid = o.metadata.uid!;
      const labels = {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': o.metadata.name!,
        'controller-uid': uid,
        'job-name': o.metadata.name!,
      };
      if (spec['manualSelector'] !== true)
        setDefault(spec, 'selector', { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
      const tmeta = obj(obj(spec, 'template'), 'metadata');
      tmeta['labels'] = { ...(tmeta['labels'] as Obj | undefined), ...labels };
      defaultTemplate(spec);
      break;
    }
    case 'apps/v1/DaemonSet': {
      const spec = obj(body, 'spec');
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      defaultTemplate(spec);
      break;
    }
    case 'apps/v1/Deployment':
    case 'apps/v1/ReplicaSet': {
      const spec = obj(body, 'spec');
      setDefault(spec, 'replicas', 1);
      if (o.kind === 'Deployment') {
        setDefault(spec, 'revisionHistoryLimit', 10);
        setDefault(spec, 'progressDeadlineSeconds', 600);
        setDefault(spec, 'strategy', {
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
        });
      }
      defaultTemplate(spec);
      break;
    }
    case 'v1/Service': {
      const spec = obj(body, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports']) {
          if (!isPlainObject(p)) continue;
          setDefault(p, 'protocol', 'TCP');
          setDefault(p, 'targetPort', p['port']);
        }
      }
      break;
    }
    default:
      break;
  }
}
