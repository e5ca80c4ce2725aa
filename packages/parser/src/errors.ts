// The one error class of ktrace: a stable string `code` to match on, a message a user can act on,
// and the standard `cause`. It lives in the parser, the root of the dependency graph, so every package shares it.

export type KtraceErrorCode =
  | 'KTRACE_BAD_PROGRAM'
  | 'KTRACE_BAD_SPEC'
  | 'KTRACE_BAD_INPUT'
  | 'KTRACE_BAD_OPTION'
  | 'KTRACE_NO_BPFTRACE'
  | 'KTRACE_NOT_ROOT'
  | 'KTRACE_MISSING_KERNEL_FEATURE'
  | 'KTRACE_BPFTRACE_FAILED'
  | 'KTRACE_OUTPUT_LIMIT'
  | 'KTRACE_LISTEN'
  | 'KTRACE_IO'
  // Kubernetes: no usable kubeconfig, the API server cannot be reached or timed out, RBAC said no, no such
  // object, a conflicting write, anything else the API server refused.
  | 'KTRACE_KUBECONFIG'
  | 'KTRACE_CLUSTER_UNREACHABLE'
  | 'KTRACE_FORBIDDEN'
  | 'KTRACE_NOT_FOUND'
  | 'KTRACE_CONFLICT'
  | 'KTRACE_CLUSTER';

export interface KtraceErrorOptions {
  code: KtraceErrorCode;
  message: string;
  cause?: unknown;
  /** Where in a program or file the problem is (1-based), when known. */
  line?: number;
  column?: number;
}

export class KtraceError extends Error {
  override readonly name = 'KtraceError';
  readonly code: KtraceErrorCode;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(options: KtraceErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.line = options.line;
    this.column = options.column;
  }
}

/** True for a KtraceError, also across duplicate copies of the package. */
export function isKtraceError(error: unknown): error is KtraceError {
  return error instanceof KtraceError || (error instanceof Error && error.name === 'KtraceError' && 'code' in error);
}
