// A loopback npm registry that knows only the versions package-lock.json pins, so a test can `npm install` the
// packed tarballs into an empty prefix without the network: it answers package metadata, and npm takes each
// tarball from its own cache by integrity (filled by `npm ci`). Anything else (an @ktrace/* name) is a 404.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  [field: string]: unknown;
}

/** What npm reads of a version to place it in a tree; the rest comes from the tarball. */
const VERSION_FIELDS = [
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'engines',
  'os',
  'cpu',
  'bin',
  'license',
] as const;

export interface LockfileRegistry {
  /** For npm_config_registry. */
  url: string;
  close(): Promise<void>;
}

export async function startLockfileRegistry(lockfile: string): Promise<LockfileRegistry> {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockEntry> };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const documents = new Map<string, { name: string; 'dist-tags': { latest: string }; versions: object }>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.link === true || entry.version === undefined || entry.integrity === undefined) continue;
    const name = path.slice(at + 'node_modules/'.length);
    const { version, integrity } = entry;
    const document = documents.get(name) ?? { name, 'dist-tags': { latest: version }, versions: {} };
    const fields = Object.fromEntries(VERSION_FIELDS.filter((f) => entry[f] !== undefined).map((f) => [f, entry[f]]));
    const tarball = `${url}${name}/-/${name.split('/').at(-1) ?? name}-${version}.tgz`;
    Object.assign(document.versions, { [version]: { name, version, ...fields, dist: { tarball, integrity } } });
    documents.set(name, document);
  }

  server.on('request', (request, response) => {
    const name = decodeURIComponent((request.url ?? '/').slice(1));
    const document = documents.get(name);
    if (document === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    // no-store: npm must not cache metadata of a registry that is gone after the test
    response
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(document));
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
