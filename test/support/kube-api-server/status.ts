// Status objects and the one error class the server throws: each failure becomes the Status body and HTTP code
// that kube-apiserver would send (reason, details, causes), built here so handlers never hand-write them.
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Invalid'
  | 'BadRequest'
  | 'Expired'
  | 'Gone'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'InternalError'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A request that fails with a Status, as kube-apiserver answers it. */
export class ApiError extends Error {
  readonly status: Status;
  constructor(code: number, reason: StatusReason | undefined, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      ...(reason === undefined ? {} : { reason }),
      ...(details === undefined ? {} : { details }),
      code,
    };
  }
}

/** `configmaps "x"` or `configmaps.apps "x"`, the way apiserver names a resource in messages. */
export function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(
    404,
    'NotFound',
    `${qualified(resource, group)} "${name}" not found`,
    detail(name, group, resource),
  );
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(
    409,
    'AlreadyExists',
    `${qualified(resource, group)} "${name}" already exists`,
    detail(name, group, resource),
  );
}

export function conflict(resource: string, group: string, name: string, why: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
    detail(name, group, resource),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 422 Invalid: `Kind "name" is invalid: field: message` (several causes are bracketed, as apiserver does). */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((c) =>
    c.field === undefined || c.field === '' ? `${c.message}` : `${c.field}: ${c.message}`,
  );
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const gk = group === '' ? kind : `${kind}.${group}`;
  return new ApiError(422, 'Invalid', `${gk} "${name}" is invalid: ${joined}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes,
  });
}

function detail(name: string, group: string, kind: string): StatusDetails {
  return { name, ...(group === '' ? {} : { group }), kind };
}
