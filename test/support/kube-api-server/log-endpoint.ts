// GET /api/v1/namespaces/<ns>/pods/<name>/log: picks the container as the kubelet would (400s for a missing or
// unknown one, or one still waiting to start), then sends the text, or follows it until the container ends.
import type { ServerResponse } from 'node:http';
import { render, selectLines } from './logs.js';
import type { LogReadOptions, LogStore } from './logs.js';
import type { ResourceCatalog } from './resources.js';
import { typeKey } from './resources.js';
import { badRequest, notFound } from './status.js';
import type { ObjectStore } from './store.js';

interface PodShape {
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] };
  status?: { phase?: string };
}

function num(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(`${key}: Invalid value: "${v}": must be greater than or equal to 0`);
  return n;
}

export function serveLog(
  store: ObjectStore,
  logs: LogStore,
  catalog: ResourceCatalog,
  ns: string,
  name: string,
  q: URLSearchParams,
  res: ServerResponse,
): void {
  const pods = catalog.byPath('', 'v1', 'pods')!;
  const pod = store.get(typeKey(pods), ns, name) as (PodShape & { metadata: unknown }) | undefined;
  if (pod === undefined) throw notFound('pods', '', name);
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
  let container = q.get('container') ?? '';
  if (container === '') {
    if (containers.length === 1 && inits.length === 0) container = containers[0]!;
    else {
      const initPart = inits.length === 0 ? '' : ` or one of the init containers: [${inits.join(' ')}]`;
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]${initPart}`,
      );
    }
  }
  if (!containers.includes(container) && !inits.includes(container))
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  if (q.get('previous') === 'true')
    throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  const phase = pod.status?.phase ?? 'Pending';
  if (!logs.has(ns, name, container) && phase === 'Pending') {
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  }
  const sinceTime = q.get('sinceTime');
  const opts: LogReadOptions = {
    timestamps: q.get('timestamps') === 'true',
    ...(num(q, 'tailLines') === undefined ? {} : { tailLines: num(q, 'tailLines')! }),
    ...(num(q, 'sinceSeconds') === undefined ? {} : { sinceSeconds: num(q, 'sinceSeconds')! }),
    ...(sinceTime === null ? {} : { sinceTime: new Date(sinceTime) }),
    ...(num(q, 'limitBytes') === undefined ? {} : { limitBytes: num(q, 'limitBytes')! }),
  };
  let budget = opts.limitBytes ?? Infinity;
  const send = (text: string): boolean => {
    const chunk = Buffer.from(text).subarray(0, Math.max(0, Math.min(budget, Number.MAX_SAFE_INTEGER)));
    budget -= chunk.length;
    if (chunk.length > 0) res.write(chunk);
    return budget > 0;
  };
  const first = selectLines(logs.lines(ns, name, container), opts);
  const follow = q.get('follow') === 'true';
  res.writeHead(200, { 'Content-Type': 'text/plain', ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
  let open = true;
  for (const l of first) if (!(open = send(render(l, opts.timestamps === true)))) break;
  if (
    !follow ||
    !open ||
    logs.ended(ns, name, container) ||
    (!logs.has(ns, name, container) && phase !== 'Pending' && phase !== 'Running')
  ) {
    res.end();
    return;
  }
  res.flushHeaders();
  let sent = logs.lines(ns, name, container).length;
  const stop = logs.listen(ns, name, container, () => {
    const all = logs.lines(ns, name, container);
    for (const l of all.slice(sent)) if (!send(render(l, opts.timestamps === true))) break;
    sent = all.length;
    if (budget <= 0 || logs.ended(ns, name, container) || store.get(typeKey(pods), ns, name) === undefined) {
      stop();
      res.end();
    }
  });
  res.on('close', stop);
}
