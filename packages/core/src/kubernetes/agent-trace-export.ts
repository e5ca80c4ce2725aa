// How a cluster trace's maps are exported on this node: the program as bpftrace runs it (with `cgroup` added to the
// keys of `podLabels: true` maps, and of every exported map when the trace selects pods), the signature that says
// whether an exporter can carry on across a change, and the exporter itself with the pod labeler in front.
import { createExporter } from '@ktrace/exporter';
import type { Exporter, ExporterOptions } from '@ktrace/exporter';
import type { ProgramInfo } from '@ktrace/parser';
import { exporterOptionsFor } from '../exporter-options.js';
import { addCgroupKey, podLabelsMaps } from '../key-rewrite.js';
import { planTrace } from '../runner/trace-plan.js';
import type { TracePlan } from '../runner/trace-plan.js';
import type { TraceSpec } from '../trace-spec.js';
import type { CgroupTree } from './cgroup-tree.js';
import type { PodCache, PodMeta } from './pod-cache.js';
import { PodLabeler, podLabeledMaps } from './pod-labels.js';

/** What the node gives a trace for pod labels and pod selection. */
export interface TracePods {
  tree: CgroupTree;
  cache: PodCache;
  workload?: boolean;
  /** Whether the pod watch follows the API server now (PodWatch.current()). */
  current?: () => boolean;
}

export interface PreparedTrace {
  /** The spec bpftrace runs (its program rewritten). */
  spec: TraceSpec;
  plan: TracePlan;
  /** While it is unchanged, one exporter (and its counters) carries on. */
  signature: string;
}

/**
 * The spec as it runs here. A trace that selects pods is filtered when exported (bpftrace cannot change a filter
 * while it runs), so each of its exported maps must be keyed by cgroup: ktrace adds the key where the program does
 * not. `maxSeries` (the agent's --max-series-per-trace) caps the spec's own series limits.
 */
export function prepareTrace(input: TraceSpec, options: { selecting: boolean; maxSeries?: number }): PreparedTrace {
  const cap = options.maxSeries;
  const spec =
    cap === undefined
      ? input
      : {
          ...input,
          limits: {
            ...input.limits,
            maxSeries: Math.min(input.limits.maxSeries ?? cap, cap),
            maxSeriesPerMap: Math.min(input.limits.maxSeriesPerMap ?? cap, cap),
          },
        };
  const maps = new Set(podLabelsMaps(spec.maps));
  if (options.selecting) {
    const first = planTrace(spec);
    for (const name of first.instrumented.exported) {
      const info = first.programInfo.maps.find((m) => m.name === name);
      if (info !== undefined && !info.keyNames.includes('cgroup')) maps.add(name);
    }
  }
  const running = maps.size === 0 ? spec : { ...spec, program: addCgroupKey(spec.program, [...maps]).source };
  const plan = planTrace(running);
  return { spec: running, plan, signature: exportSignature(running, plan.programInfo, options.selecting) };
}

/** Whether an exporter is made to filter (or not) is fixed when it is made: selecting or not is part of the shape. */
function exportSignature(spec: TraceSpec, program: ProgramInfo, selecting: boolean): string {
  return JSON.stringify({
    selecting,
    maps: program.maps.map((m) => [
      m.name,
      m.kind,
      m.args,
      m.keyArity,
      m.keyNames,
      m.cleared,
      m.clearedApart ?? false,
      m.partial ?? false,
    ]),
    options: spec.maps,
    include: spec.include ?? null,
    prefix: spec.metrics.prefix ?? null,
    baseUnits: spec.metrics.baseUnits ?? null,
    limits: [
      spec.limits.maxSeries,
      spec.limits.maxSeriesPerMap,
      spec.limits.maxLabelValueLength,
      spec.limits.expireAfterDumps,
    ],
    resource: spec.metrics.resourceAttributes ?? null,
    otlp: [spec.metrics.otlpEndpoint ?? null, spec.metrics.otlpIntervalMillis ?? null],
  });
}

/** An exporter whose map samples pass through the pod labeler first. */
function labelled(exporter: Exporter, labeler: PodLabeler): Exporter {
  return {
    store: exporter.store,
    handle(event) {
      if (event.type === 'map') {
        exporter.handle(labeler.rewrite(event));
        return;
      }
      // a new bpftrace run: its maps start empty
      if (event.type === 'attached') labeler.restarted();
      exporter.handle(event);
    },
    recordRestart() {
      labeler.restarted();
      exporter.recordRestart();
    },
    setUp: (up) => exporter.setUp(up),
    start: () => exporter.start(),
    prometheusText: () => exporter.prometheusText(),
    prometheusChunks: () => exporter.prometheusChunks(),
    shutdown: () => exporter.shutdown(),
  };
}

export interface TraceExporterOptions {
  name: string;
  prepared: PreparedTrace;
  /** The node's resource attributes; the spec's own and ktrace.trace.name are added. */
  resourceAttributes: Record<string, string>;
  otlpEndpoint?: string;
  otlpIntervalMillis?: number;
  pods?: TracePods;
  /** The trace's pod selection, asked at every dump; undefined: every entry is exported. */
  select?: (pod: PodMeta) => boolean;
  onWarning: (message: string) => void;
}

/** The exporter of a trace (with the pod labeler in front when its maps are keyed by cgroup or pid). */
export function createTraceExporter(options: TraceExporterOptions): Exporter {
  const { spec, plan } = options.prepared;
  const program = plan.programInfo;
  const { listen: _listen, ...metrics } = spec.metrics;
  const maps = { ...spec.maps };
  let labeler: PodLabeler | undefined;
  const pods = options.pods;
  if (pods !== undefined) {
    const keyed = podLabeledMaps(program, { only: plan.instrumented.exported });
    if (Object.keys(keyed).length > 0) {
      labeler = new PodLabeler({
        cgroupPath: (id) => pods.tree.pathOf(id),
        procCgroup: (pid) => pods.tree.procCgroupOf(pid),
        resolvePod: (info) => pods.cache.resolve(info),
        maps: keyed,
        ...(pods.workload === undefined ? {} : { workload: pods.workload }),
        ...(pods.current === undefined ? {} : { podsCurrent: pods.current }),
        ...(options.select === undefined ? {} : { select: options.select }),
      });
      for (const name of Object.keys(keyed)) {
        const info = program.maps.find((m) => m.name === name);
        maps[name] = { ...maps[name], labels: labeler.labelNames(name, maps[name]?.labels ?? info?.keyNames ?? []) };
      }
    }
  }
  const exporterOptions: ExporterOptions = {
    ...exporterOptionsFor({ program, maps, include: plan.instrumented.exported, metrics, limits: spec.limits }),
    resourceAttributes: {
      ...options.resourceAttributes,
      ...spec.metrics.resourceAttributes,
      'ktrace.trace.name': options.name,
    },
    onWarning: options.onWarning,
  };
  const otlp = spec.metrics.otlpEndpoint ?? options.otlpEndpoint;
  if (otlp !== undefined) exporterOptions.otlpEndpoint = otlp;
  const otlpInterval = spec.metrics.otlpIntervalMillis ?? options.otlpIntervalMillis;
  if (otlpInterval !== undefined) exporterOptions.otlpIntervalMillis = otlpInterval;
  const exporter = createExporter(exporterOptions);
  return labeler === undefined ? exporter : labelled(exporter, labeler);
}
