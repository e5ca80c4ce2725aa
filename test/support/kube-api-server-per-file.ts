// The loopback API server's hooks for a whole test file, in one place: started before the file's tests (with the
// file's own seeding), closed after them, and with `allowAll` its deny() rules lifted after each test.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startKubeApiServer } from './kube-api-server/index.js';
import type { KubeApiServer, KubeApiServerOptions } from './kube-api-server/index.js';

export interface PerFileOptions extends KubeApiServerOptions {
  /** Lift every deny() rule after each test. */
  allowAll?: boolean;
  /** Runs once the server is up, before the first test: seeding, kubeconfigs. */
  setup?: (api: KubeApiServer) => void | Promise<void>;
}

/**
 * The file's server. It exists once beforeAll has run: the object returned stands for it (every property is the
 * running server's), so a test file keeps `const api = kubeApiServerPerFile(…)` and uses `api` in its tests.
 */
export function kubeApiServerPerFile(options: PerFileOptions = {}): KubeApiServer {
  const { allowAll = false, setup, ...serverOptions } = options;
  let server: KubeApiServer | undefined;
  beforeAll(async () => {
    server = await startKubeApiServer(serverOptions);
    await setup?.(server);
  });
  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
  if (allowAll) afterEach(() => server?.allowAll());
  return new Proxy({} as KubeApiServer, {
    get(_target, property) {
      if (server === undefined) throw new Error('the test API server is used before its beforeAll or after afterAll');
      const value: unknown = Reflect.get(server, property, server);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(server) : value;
    },
  });
}
