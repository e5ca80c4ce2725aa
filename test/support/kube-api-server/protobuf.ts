// Just enough of apiserver's protobuf encoding (`application/vnd.kubernetes.protobuf`, the "k8s\0" envelope around
// runtime.Unknown) to read the bodies kubectl's typed clients send for `kubectl auth can-i` (SelfSubjectAccessReview)
// and `kubectl create namespace|configmap|serviceaccount`; other kinds are 415 as before.
import type { KubeObject } from './store.js';

type Field = { no: number; wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated protobuf');
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const str = (f: Field | undefined): string | undefined =>
  f !== undefined && Buffer.isBuffer(f.value) ? f.value.toString('utf8') : undefined;
const get = (fs: Field[], no: number): Field | undefined => fs.find((f) => f.no === no);

function map(fs: Field[], no: number, bytes = false): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no && Buffer.isBuffer(f.value));
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.value as Buffer);
    const v = get(kv, 2);
    out[str(get(kv, 1)) ?? ''] =
      bytes && v !== undefined && Buffer.isBuffer(v.value) ? v.value.toString('base64') : (str(v) ?? '');
  }
  return out;
}

function objectMeta(buf: Buffer | undefined): KubeObject['metadata'] {
  const fs = buf === undefined ? [] : fields(buf);
  const m: KubeObject['metadata'] = {};
  const set = (k: 'name' | 'generateName' | 'namespace', no: number): void => {
    const v = str(get(fs, no));
    if (v !== undefined && v !== '') m[k] = v;
  };
  set('name', 1);
  set('generateName', 2);
  set('namespace', 3);
  const labels = map(fs, 11);
  const annotations = map(fs, 12);
  if (labels !== undefined) m.labels = labels;
  if (annotations !== undefined) m.annotations = annotations;
  return m;
}

const sub = (fs: Field[], no: number): Buffer | undefined => {
  const f = get(fs, no);
  return f !== undefined && Buffer.isBuffer(f.value) ? f.value : undefined;
};

/** The object in a protobuf request body, or undefined when its kind is not one decoded here. */
export function decodeProtobuf(body: Buffer): KubeObject | undefined {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') return undefined;
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(sub(unknown, 1) ?? Buffer.alloc(0));
  const apiVersion = str(get(typeMeta, 1)) ?? '';
  const kind = str(get(typeMeta, 2)) ?? '';
  const raw = fields(sub(unknown, 2) ?? Buffer.alloc(0));
  const metadata = objectMeta(sub(raw, 1));
  switch (`${apiVersion}/${kind}`) {
    case 'v1/Namespace':
    case 'v1/ServiceAccount':
      return { apiVersion, kind, metadata };
    case 'v1/ConfigMap': {
      const data = map(raw, 2);
      const binaryData = map(raw, 3, true);
      return {
        apiVersion,
        kind,
        metadata,
        ...(data === undefined ? {} : { data }),
        ...(binaryData === undefined ? {} : { binaryData }),
      };
    }
    case 'authorization.k8s.io/v1/SelfSubjectAccessReview': {
      const spec = fields(sub(raw, 2) ?? Buffer.alloc(0));
      const ra = sub(spec, 1);
      const nra = sub(spec, 2);
      const attrs = (buf: Buffer, names: string[]): Record<string, string> => {
        const fs = fields(buf);
        return Object.fromEntries(
          names.flatMap((n, i) => (str(get(fs, i + 1)) === undefined ? [] : [[n, str(get(fs, i + 1))!]])),
        );
      };
      return {
        apiVersion,
        kind,
        metadata,
        spec: {
          ...(ra === undefined
            ? {}
            : {
                resourceAttributes: attrs(ra, [
                  'namespace',
                  'verb',
                  'group',
                  'version',
                  'resource',
                  'subresource',
                  'name',
                ]),
              }),
          ...(nra === undefined ? {} : { nonResourceAttributes: attrs(nra, ['path', 'verb']) }),
        },
      };
    }
    default:
      return undefined;
  }
}
