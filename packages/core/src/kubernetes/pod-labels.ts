// PodLabeler: rewrites the samples of maps keyed by `cgroup` or `pid` before they reach the exporter, so each entry
// carries k8s_namespace_name, k8s_pod_name, k8s_container_name and container_id (optionally the workload) as key
// parts, and with a pod selection keeps only the entries of selected pods. The contract between the agent and the
// exporter's `labels` option: see labelNames().
import type { HistogramBucket, KeyPart, MapEntry, MapKind, MapSample, ProgramInfo } from '@ktrace/parser';
import { parseCgroupPath, parseProcCgroup } from './cgroup-path.js';
import type { CgroupPathInfo } from './cgroup-path.js';
import type { PodMeta, PodResolution } from './pod-cache.js';

/** The labels every pod-labelled map gets, in this order (OTel semantic conventions as Prometheus labels). */
export const podLabelNames = ['k8s_namespace_name', 'k8s_pod_name', 'k8s_container_name', 'container_id'] as const;
/** With `workload: true`, also these: at most one is non-empty per series (OTel's k8s.<kind>.name). */
export const workloadLabelNames = [
  'k8s_deployment_name',
  'k8s_replicaset_name',
  'k8s_statefulset_name',
  'k8s_daemonset_name',
  'k8s_job_name',
  'k8s_cronjob_name',
] as const;
const workloadKinds = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

/** How one map is labelled: which key position holds the cgroup id or the pid. */
export interface PodLabeledMap {
  keyPosition: number;
  /**
   * `cgroup`: the id is replaced by the pod labels (it means nothing to a reader, and a container's series must not
   * change when its cgroup is re-created); entries that land on the same labels are merged. `pid`: the pid stays
   * and the pod labels are appended.
   */
  keyKind: 'cgroup' | 'pid';
  /** Whether printed values are totals (default) or deltas (the program clear()s the map after each print). */
  reset?: 'cumulative' | 'delta';
}

export interface PodLabelerOptions {
  /** cgroup id → its cgroup v2 path (CgroupTree.pathOf), undefined when not found (yet). */
  cgroupPath: (id: bigint) => string | undefined;
  /** pid → the text of /proc/PID/cgroup (CgroupTree.procCgroupOf), undefined when the process is gone. */
  procCgroup: (pid: number) => string | undefined;
  /** What is known of the node's pods (PodCache.resolve). */
  resolvePod: (info: CgroupPathInfo) => PodResolution | undefined;
  /** Keyed by '@name'; other maps pass through untouched. See podLabeledMaps(). */
  maps: Record<string, PodLabeledMap>;
  /** Add the workload labels (workloadLabelNames). Default false. */
  workload?: boolean;
  /** How long an unknown cgroup is held out of the dumps before it is exported with empty pod labels (default 30 000 ms). */
  holdMillis?: number;
  /**
   * Whether the pod source is up to date (PodWatch.current()): while it is not (before the first list, while the API
   * server is away), pods that are not known yet are held on, and their hold restarts once it is — up to
   * maxHoldMillis, so an agent that never reaches its API server still exports everything. Default: always current.
   */
  podsCurrent?: () => boolean;
  /** The longest a pod's unknown cgroup is held while the pod source is not current (default 300 000 ms). */
  maxHoldMillis?: number;
  /**
   * A trace's pod selection (podSelector, namespaceSelector), asked at every dump so that a pod that starts or stops
   * matching is followed: entries of pods it refuses, of processes outside any pod and of cgroups that stay unknown
   * are left out. Default: every entry is kept.
   */
  select?: (pod: PodMeta) => boolean;
  now?: () => number;
}

/** The maps of a program keyed by `cgroup` (or else by `pid`), from readProgram()'s key names. */
export function podLabeledMaps(
  program: ProgramInfo,
  options: { pid?: boolean; only?: readonly string[] } = {},
): Record<string, PodLabeledMap> {
  const out: Record<string, PodLabeledMap> = {};
  for (const map of program.maps) {
    if (options.only !== undefined && !options.only.includes(map.name)) continue;
    const cgroup = map.keyNames.indexOf('cgroup');
    const pid = options.pid === false ? -1 : map.keyNames.indexOf('pid');
    const reset = map.cleared ? 'delta' : 'cumulative';
    if (cgroup >= 0) out[map.name] = { keyPosition: cgroup, keyKind: 'cgroup', reset };
    else if (pid >= 0) out[map.name] = { keyPosition: pid, keyKind: 'pid', reset };
  }
  return out;
}

/** The entries of one dump that land on the same rewritten key. */
interface Group {
  key: KeyPart[];
  entry: MapEntry;
  members: { original: string; entry: MapEntry }[];
}

interface KeyState {
  /** Values of the added labels once resolved: sticky until the key leaves the dumps. */
  labels?: string[];
  firstSeen: number;
  /** The pod the labels name: once the pod cache has dropped it (deleted, grace over), the key's series expire. */
  pod?: CgroupPathInfo;
  gone?: boolean;
}

interface MapState {
  keys: Map<string, KeyState>;
  /** delta maps: what held entries printed meanwhile (by original key), released once their key part is labelled. */
  heldValues: Map<string, { id: string; entry: MapEntry }>;
  /** cumulative cgroup maps: each exported entry of the last dump, by original key, with its group. */
  last: Map<string, { group: string; entry: MapEntry }>;
  /** cumulative cgroup maps: the last totals of entries that left a group still exported, so it never goes down. */
  carried: Map<string, MapEntry>;
}

export class PodLabeler {
  private readonly options: PodLabelerOptions;
  private readonly holdMillis: number;
  private readonly maxHoldMillis: number;
  /** When the pod source was last seen not current. */
  private podsStaleAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly added: string[];
  private readonly states = new Map<string, MapState>();

  constructor(options: PodLabelerOptions) {
    this.options = options;
    this.holdMillis = options.holdMillis ?? 30_000;
    this.maxHoldMillis = Math.max(this.holdMillis, options.maxHoldMillis ?? 300_000);
    this.now = options.now ?? Date.now;
    this.added = [...podLabelNames, ...(options.workload === true ? workloadLabelNames : [])];
  }

  /** The label names this labeler appends, in order. */
  get addedLabels(): readonly string[] {
    return this.added;
  }

  /**
   * The label names of a map's rewritten keys, for MapExportOptions.labels: `names` are the map's own (readProgram's
   * keyNames or the spec's labels); a cgroup position is removed, the pod labels are appended.
   */
  labelNames(map: string, names: readonly string[]): string[] {
    const config = this.options.maps[map];
    if (config === undefined) return [...names];
    const kept = config.keyKind === 'cgroup' ? names.filter((_, i) => i !== config.keyPosition) : [...names];
    return [...kept, ...this.added];
  }

  /** Forgets what a bpftrace run printed (call when bpftrace restarts: its maps start empty). Labels stay sticky. */
  restarted(): void {
    for (const state of this.states.values()) {
      state.last.clear();
      state.carried.clear();
    }
  }

  /**
   * The sample with pod labels. Entries of cgroups (or pids) not known yet are left out for up to holdMillis (their
   * values are kept for delta maps), then exported with the container id the path gives and empty pod labels; in the
   * exit-time dump they are exported at once. Entries of a pod the pod cache has dropped (deleted, grace over) are left
   * out, so the exporter expires their series.
   */
  rewrite(sample: MapSample): MapSample {
    const config = this.options.maps[sample.name];
    if (config === undefined) return sample;
    let state = this.states.get(sample.name);
    if (state === undefined)
      this.states.set(
        sample.name,
        (state = { keys: new Map(), heldValues: new Map(), last: new Map(), carried: new Map() }),
      );
    const now = this.now();
    if (this.options.podsCurrent?.() === false) this.podsStaleAt = now;
    const delta = config.reset === 'delta';
    // One resolution per cgroup id (or pid) and dump, however many entries share it.
    const seen = new Map<string, string[] | 'gone' | 'unselected' | undefined>();
    const groups = new Map<string, Group>();
    for (const entry of sample.entries) {
      const part = entry.key[config.keyPosition];
      if (part === undefined) continue;
      const id = String(part);
      let labels = seen.get(id);
      if (labels === undefined && !seen.has(id))
        seen.set(id, (labels = this.selected(state, id, this.labelsOf(state, config, id, now, sample.final === true))));
      if (labels === 'gone' || labels === 'unselected') continue;
      const original = JSON.stringify(entry.key);
      if (labels === undefined) {
        if (delta)
          state.heldValues.set(original, {
            id,
            entry: mergeEntry(sample.kind, state.heldValues.get(original)?.entry, entry),
          });
        continue;
      }
      let full = entry;
      const held = state.heldValues.get(original);
      if (held !== undefined) {
        full = mergeEntry(sample.kind, held.entry, entry);
        state.heldValues.delete(original);
      }
      this.addToGroup(groups, sample.kind, config, original, full, labels);
    }
    // Held values of a delta map whose key did not print this time are released once their hold ends all the same.
    for (const [original, held] of state.heldValues) {
      if (seen.has(held.id)) continue;
      const labels = this.selected(state, held.id, this.labelsOf(state, config, held.id, now, sample.final === true));
      if (labels === undefined) continue;
      state.heldValues.delete(original);
      if (labels !== 'gone' && labels !== 'unselected')
        this.addToGroup(groups, sample.kind, config, original, held.entry, labels);
    }
    // Labelled keys that left the dumps are forgotten; held ones stay while they have values to release.
    const heldIds = new Set([...state.heldValues.values()].map((h) => h.id));
    for (const [id, key] of state.keys) {
      if (!seen.has(id) && (key.labels !== undefined || key.gone === true || !heldIds.has(id))) state.keys.delete(id);
    }
    if (!delta && config.keyKind === 'cgroup') this.carry(state, sample.kind, groups);
    return { ...sample, entries: [...groups.values()].map((g) => g.entry) };
  }

  private addToGroup(
    groups: Map<string, Group>,
    kind: MapKind,
    config: PodLabeledMap,
    original: string,
    entry: MapEntry,
    labels: string[],
  ): void {
    const kept = config.keyKind === 'cgroup' ? entry.key.filter((_, i) => i !== config.keyPosition) : entry.key;
    const key = [...kept, ...labels];
    const name = JSON.stringify(key);
    const existing = groups.get(name);
    if (existing === undefined) groups.set(name, { key, entry: { ...entry, key }, members: [{ original, entry }] });
    else {
      existing.entry = { ...mergeEntry(kind, existing.entry, entry), key };
      existing.members.push({ original, entry });
    }
  }

  /** Keeps merged cgroup groups monotonic when one of their members leaves the dumps. */
  private carry(state: MapState, kind: MapKind, groups: Map<string, Group>): void {
    const present = new Set<string>();
    for (const group of groups.values()) for (const member of group.members) present.add(member.original);
    for (const [member, last] of state.last) {
      if (!present.has(member) && groups.has(last.group))
        state.carried.set(last.group, mergeEntry(kind, state.carried.get(last.group), last.entry));
    }
    for (const group of state.carried.keys()) if (!groups.has(group)) state.carried.delete(group);
    state.last.clear();
    for (const [name, group] of groups) {
      // Members' own values, not the carry: a second departure must not count the first one twice.
      for (const member of group.members) state.last.set(member.original, { group: name, entry: member.entry });
      const carried = state.carried.get(name);
      if (carried !== undefined) group.entry = { ...mergeEntry(kind, carried, group.entry), key: group.key };
    }
  }

  /** `labels`, or 'unselected' when the selection refuses the key's pod (or it has none). */
  private selected(
    state: MapState,
    id: string,
    labels: string[] | 'gone' | undefined,
  ): string[] | 'gone' | 'unselected' | undefined {
    const select = this.options.select;
    if (select === undefined || !Array.isArray(labels)) return labels;
    const info = state.keys.get(id)?.pod;
    const pod = info === undefined ? undefined : this.options.resolvePod(info)?.pod;
    return pod !== undefined && select(pod) ? labels : 'unselected';
  }

  /** The added label values of a key part; undefined while it is held; 'gone' once its pod was deleted and dropped. */
  private labelsOf(
    state: MapState,
    config: PodLabeledMap,
    id: string,
    now: number,
    final: boolean,
  ): string[] | 'gone' | undefined {
    let key = state.keys.get(id);
    if (key?.gone === true) return 'gone';
    if (key?.labels !== undefined) {
      if (key.pod !== undefined && this.options.resolvePod(key.pod) === undefined) {
        key.gone = true;
        return 'gone';
      }
      return key.labels;
    }
    if (key === undefined) state.keys.set(id, (key = { firstSeen: now }));
    const expired = final || now - key.firstSeen >= this.holdMillis;
    let info: CgroupPathInfo | undefined;
    let known: boolean;
    if (config.keyKind === 'cgroup') {
      const path = /^\d+$/.test(id) ? this.options.cgroupPath(BigInt(id)) : undefined;
      known = path !== undefined;
      info = path === undefined ? undefined : parseCgroupPath(path);
    } else {
      const text = /^\d+$/.test(id) ? this.options.procCgroup(Number(id)) : undefined;
      known = text !== undefined;
      info = text === undefined ? undefined : parseProcCgroup(text);
    }
    if (!known && !expired) return undefined;
    // Outside any pod (a node daemon, a Docker container of its own): empty pod labels, now.
    if (info?.podUid === undefined) return (key.labels = this.values(undefined, info?.containerId));
    const resolved = this.options.resolvePod(info);
    const complete = resolved !== undefined && (resolved.containerName !== '' || info.containerId === undefined);
    // A pod the source may not have told us of yet: the hold counts from when the source was last current.
    const podExpired =
      final || now - key.firstSeen >= this.maxHoldMillis || (expired && now - this.podsStaleAt >= this.holdMillis);
    if (!complete && !podExpired) return undefined;
    if (resolved !== undefined) key.pod = info;
    return (key.labels = this.values(resolved, info.containerId));
  }

  private values(resolved: PodResolution | undefined, containerId: string | undefined): string[] {
    const values = [
      resolved?.pod.namespace ?? '',
      resolved?.pod.name ?? '',
      resolved?.containerName ?? '',
      containerId ?? '',
    ];
    if (this.options.workload === true) {
      const workload = resolved?.pod.workload;
      for (const kind of workloadKinds) values.push(workload?.kind === kind ? workload.name : '');
    }
    return values;
  }
}

/** Two printed entries of one map as one: counts, sums, stats and buckets add; min/max keep the extreme; else the later. */
export function mergeEntry(kind: MapKind, a: MapEntry | undefined, b: MapEntry): MapEntry {
  if (a === undefined) return b;
  switch (kind) {
    case 'count':
    case 'sum':
      return { ...b, value: Number(a.value ?? 0) + Number(b.value ?? 0) };
    case 'min':
      return { ...b, value: Math.min(Number(a.value), Number(b.value)) };
    case 'max':
      return { ...b, value: Math.max(Number(a.value), Number(b.value)) };
    case 'stats': {
      const count = (a.stats?.count ?? 0) + (b.stats?.count ?? 0);
      const total = (a.stats?.total ?? 0) + (b.stats?.total ?? 0);
      return { ...b, stats: { count, total, average: count === 0 ? 0 : Math.trunc(total / count) } };
    }
    case 'hist':
    case 'lhist':
      return { ...b, buckets: mergeBuckets(a.buckets ?? [], b.buckets ?? []) };
    default:
      return b;
  }
}

function mergeBuckets(a: HistogramBucket[], b: HistogramBucket[]): HistogramBucket[] {
  const byBounds = new Map<string, HistogramBucket>();
  for (const bucket of [...a, ...b]) {
    const bounds = `${bucket.min}:${bucket.max}`;
    const existing = byBounds.get(bounds);
    byBounds.set(
      bounds,
      existing === undefined ? { ...bucket } : { ...existing, count: existing.count + bucket.count },
    );
  }
  return [...byBounds.values()].sort(
    (x, y) => (x.min ?? Number.NEGATIVE_INFINITY) - (y.min ?? Number.NEGATIVE_INFINITY),
  );
}
