// Objects the server's own tests seed: kept here so the kubectl and the client-node halves build them alike.
import type { KubeObject } from './store.js';

/** A minimal valid Pod (one busybox container per name) in `ns`, with `labels`. */
export function testPod(
  name: string,
  labels: Record<string, string>,
  ns = 'team-a',
  containers = ['main'],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { containers: containers.map((c) => ({ name: c, image: 'busybox:1.36' })) },
  };
}
