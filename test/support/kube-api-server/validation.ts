// What the server accepts: each object is checked against the official OpenAPI schema of its kind (kubernetes-models
// 4.5.1, @kubernetes-models/prometheus-operator for PodMonitor) plus apiserver's name and label rules; failures
// become the causes of a 422 Invalid Status in apiserver's field-path form (`spec.containers[0].name`).
import { ConfigMap, Event, Namespace, Node, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, ReplicaSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { StatusCause } from './status.js';
import { unknownFields } from './unknown-fields.js';
import type { KubeObject } from './store.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Event': Event,
  'v1/Namespace': Namespace,
  'v1/Node': Node,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'apps/v1/ReplicaSet': ReplicaSet,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'scheduling.k8s.io/v1/PriorityClass': PriorityClass,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `/spec/containers/0` → `spec.containers[0]`. */
export function fieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function at(obj: unknown, pointer: string): unknown {
  let cur = obj;
  for (const raw of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function schemaCauses(obj: KubeObject, errors: readonly AjvError[]): StatusCause[] {
  return errors.map((e) => {
    const base = fieldPath(e.instancePath);
    if (e.keyword === 'required') {
      const prop = String(e.params['missingProperty']);
      return { reason: 'FieldValueRequired', message: 'Required value', field: base === '' ? prop : `${base}.${prop}` };
    }
    const value = JSON.stringify(at(obj, e.instancePath));
    if (e.keyword === 'enum') {
      const allowed = (e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return {
        reason: 'FieldValueNotSupported',
        message: `Unsupported value: ${value}: supported values: ${allowed}`,
        field: base,
      };
    }
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${e.message ?? e.keyword}`, field: base };
  });
}

function nameCauses(obj: KubeObject, plural: string): StatusCause[] {
  const name = obj.metadata.name ?? '';
  const out: StatusCause[] = [];
  if (name === '') {
    return [
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ];
  }
  const dnsLabel = plural === 'namespaces';
  const dns1035 = plural === 'services';
  const ok = dns1035
    ? DNS1035.test(name) && name.length <= 63
    : dnsLabel
      ? LABEL.test(name) && name.length <= 63
      : SUBDOMAIN.test(name) && name.length <= 253;
  if (!ok) {
    const what = dns1035
      ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
      : dnsLabel
        ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    out.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${what}`, field: 'metadata.name' });
  }
  return out;
}

function labelCauses(labels: unknown, field: string, checkValues: boolean): StatusCause[] {
  if (labels === undefined || labels === null || typeof labels !== 'object') return [];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const slash = k.lastIndexOf('/');
    const prefix = slash < 0 ? '' : k.slice(0, slash);
    const name = slash < 0 ? k : k.slice(slash + 1);
    if ((slash >= 0 && (!SUBDOMAIN.test(prefix) || prefix.length > 253)) || !QUALIFIED.test(name) || name.length > 63) {
      out.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        field,
      });
    }
    if (checkValues && (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63)) {
      out.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
        field: `${field}`,
      });
    }
  }
  return out;
}

/** Every reason the server would refuse `obj` (empty when it is valid). */
export function validateObject(obj: KubeObject, plural: string): StatusCause[] {
  const causes = [
    ...nameCauses(obj, plural),
    ...labelCauses(obj.metadata.labels, 'metadata.labels', true),
    ...labelCauses(obj.metadata.annotations, 'metadata.annotations', false),
  ];
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (Model !== undefined) {
    try {
      new Model(obj as never).validate();
    } catch (e) {
      const errors = (e as { errors?: AjvError[] }).errors;
      if (errors === undefined) throw e;
      causes.push(...schemaCauses(obj, errors));
    }
  }
  return causes;
}

/** Members of `obj` its kind's schema does not declare (none for kinds without a schema here). */
export function undeclaredFields(obj: KubeObject): (string | number)[][] {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (Model === undefined) return [];
  // The model's validate() checks `this`; calling it on the proxy lets the proxy see which members it reads.
  const proto = Model.prototype as { validate: (this: unknown) => void };
  return unknownFields(obj, (data) => proto.validate.call(data));
}
