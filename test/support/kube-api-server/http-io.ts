// Request and response bodies as apiserver reads and writes them: JSON and YAML objects in, JSON with Warning
// headers out, and the query parameters every write shares (fieldManager, fieldValidation).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { FieldValidation } from './objects.js';
import { ApiError, badRequest } from './status.js';
import { decodeProtobuf } from './protobuf.js';
import type { KubeObject } from './store.js';

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
  warnings: readonly string[] = [],
): void {
  const text = JSON.stringify(body);
  const warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  if (typeof headers['Warning'] === 'string') warning.unshift(headers['Warning']);
  const all = { ...headers, ...(warning.length === 0 ? {} : { Warning: warning }) };
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...all });
  res.end(text);
}

/** A create or update body: JSON or YAML, as apiserver accepts them (protobuf and CBOR are not implemented). */
export async function readObject(req: IncomingMessage): Promise<KubeObject> {
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const bytes = await readBytes(req);
  if (ct === 'application/vnd.kubernetes.protobuf') {
    const decoded = decodeProtobuf(bytes);
    if (decoded !== undefined) return decoded;
  }
  const text = bytes.toString('utf8');
  if (ct === 'application/json' || ct === '') return parseJson(text) as KubeObject;
  if (ct === 'application/yaml') {
    try {
      return parseYaml(text) as KubeObject;
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  throw new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
  );
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`json: cannot unmarshal request body: ${(e as Error).message}`);
  }
}

export function managerOf(q: URLSearchParams, userAgent: string, required: boolean): string {
  const m = q.get('fieldManager');
  if (m !== null && m !== '') {
    if (m.length > 128) throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    return m;
  }
  if (required) {
    throw new ApiError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      },
    );
  }
  return (userAgent.split('/')[0] ?? '').slice(0, 128) || 'unknown';
}

export function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  }
  return v;
}
