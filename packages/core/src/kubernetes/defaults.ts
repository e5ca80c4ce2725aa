// The cluster layer's defaults that a command shows in its --help: the version and image, the namespace, the
// listen port, the privilege and seccomp profiles. Exported alone as @ktrace/core/kubernetes-defaults and free of
// dependencies (the version is @ktrace/parser/version's), so defining a cluster verb's options loads no client.
import { ktraceVersion } from '@ktrace/parser/version';

export { PRIVILEGES_PROFILES, SECCOMP_PROFILES } from './manifests/privileges.js';

/** The version written into `app.kubernetes.io/version` and the default image tag. */
export const KTRACE_VERSION = ktraceVersion;

export const DEFAULT_NAMESPACE = 'ktrace';
export const DEFAULT_IMAGE = `ghcr.io/ktrace/ktrace:${KTRACE_VERSION}`;
export const DEFAULT_LISTEN_PORT = 9464;
