// TraceSpec: the typed, validated description of one continuous trace (program, interval, maps, limits,
// bpftrace flags, target, metrics), from an object or a YAML file. Bad fields become KTRACE_BAD_SPEC naming the field.
import { dirname, resolve } from 'node:path';
import type { MapExportOptions } from '@ktrace/exporter';
import { DEFAULT_MAX_LINE_LENGTH, KtraceError, MAP_KINDS } from '@ktrace/parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkProgramText, maxSpecBytes, readBoundedText, readSpecProgramFile } from './program-file.js';

/** bpftrace environment variables a spec may set: sizes and limits only, nothing that changes what runs. */
export const allowedBpftraceEnv = [
  'BPFTRACE_STRLEN',
  'BPFTRACE_MAP_KEYS_MAX',
  'BPFTRACE_MAX_MAP_KEYS',
  'BPFTRACE_PERF_RB_PAGES',
  'BPFTRACE_MAX_PROBES',
  'BPFTRACE_MAX_BPF_PROGS',
  'BPFTRACE_LOG_SIZE',
  'BPFTRACE_CACHE_USER_SYMBOLS',
  'BPFTRACE_NO_CPP_DEMANGLE',
  'BPFTRACE_STACK_MODE',
  'BPFTRACE_MAX_TYPE_RES_ITERATIONS',
] as const;

/** bpftrace flags a spec may pass. Never `-c`, `-p`, `-o`, `--unsafe`, `-e`/files: ktrace owns what runs and where output goes. */
export const allowedBpftraceFlags = ['-k', '-kk'] as const;

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * '500ms', '1s', '10m', '1h' → whole milliseconds (at least 1: bpftrace's interval probes take whole units); a bare
 * number is milliseconds. Throws KTRACE_BAD_SPEC.
 */
export function parseDuration(value: string | number, field = 'duration'): number {
  let ms: number | undefined;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) ms = value;
  } else {
    const match = durationPattern.exec(value.trim());
    if (match !== null) ms = Number(match[1]) * (durationUnits[match[2] ?? 'ms'] ?? 1);
  }
  if (ms !== undefined && Math.round(ms) >= 1) return Math.round(ms);
  throw new KtraceError({
    code: 'KTRACE_BAD_SPEC',
    message: `${field}: expected a duration such as 500ms, 1s, 10m or 1h, got ${JSON.stringify(value)}${ms === undefined ? '' : ' (shorter than 1ms, the smallest interval bpftrace can run)'}`,
  });
}

const durationSchema = z.union([
  z.string().regex(durationPattern, 'expected a duration such as 500ms, 1s, 10m or 1h'),
  z.number().positive(),
]);
const listenPattern = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const mapSpecSchema = z
  .object({
    metric: z
      .string()
      .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a Prometheus metric name')
      .optional(),
    kind: z.enum(MAP_KINDS).optional(),
    labels: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a Prometheus label name')).optional(),
    /** ns, us, ms, s → exported in seconds; By, bytes → bytes; anything else as given (default: from the name). */
    unit: z.string().optional(),
    /** false: keep the map's name, unit and values as bpftrace prints them (no conversion to seconds or bytes). */
    baseUnits: z.boolean().optional(),
    help: z.string().optional(),
    reset: z.enum(['cumulative', 'delta']).optional(),
    /** hist(): the values the map holds, [low, high]; its buckets are all served from the first scrape. */
    range: z
      .tuple([z.number(), z.number()])
      .refine(([low, high]) => low <= high, 'expected [low, high] with low <= high')
      .optional(),
    /** The program prints only part of the map (print(@m, 10)): a missing key is not a deleted key. */
    partial: z.boolean().optional(),
    /** Add bpftrace's `cgroup` to the map's key (key-rewrite.ts) so the agent labels each entry with its pod. */
    podLabels: z.boolean().optional(),
  })
  .strict();

const traceSpecSchema = z
  .object({
    name: z.string().min(1).optional(),
    program: z.string().min(1, 'expected the bpftrace program text').optional(),
    programFile: z.string().min(1, 'expected a path to a .bt file').optional(),
    interval: durationSchema.optional(),
    maps: z
      .record(z.string().regex(/^@[A-Za-z0-9_]*$/, 'expected a map name such as @syscalls'), mapSpecSchema)
      .optional(),
    include: z.array(z.string().regex(/^@[A-Za-z0-9_]*$/, 'expected a map name such as @syscalls')).optional(),
    limits: z
      .object({
        maxSeries: z.number().int().positive().optional(),
        maxSeriesPerMap: z.number().int().positive().optional(),
        maxLabelValueLength: z.number().int().positive().optional(),
        maxOutputBytesPerSecond: z.number().int().positive().optional(),
        maxLineBytes: z.number().int().positive().optional(),
        /** 0: never. */
        expireAfterDumps: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
    bpftrace: z
      .object({
        env: z.partialRecord(z.enum(allowedBpftraceEnv), z.union([z.string(), z.number()])).optional(),
        flags: z.array(z.enum(allowedBpftraceFlags)).optional(),
        includeDirs: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    target: z
      .union([z.literal('local'), z.literal('kubernetes'), z.object({ kind: z.enum(['local', 'kubernetes']) }).loose()])
      .optional(),
    metrics: z
      .object({
        listen: z
          .union([z.string().regex(listenPattern, 'expected host:port such as 127.0.0.1:9464'), z.literal(false)])
          .optional(),
        otlpEndpoint: z
          .url({ protocol: /^https?$/, message: 'expected an http(s) URL such as http://127.0.0.1:4318/v1/metrics' })
          .optional(),
        otlpInterval: durationSchema.optional(),
        prefix: z
          .string()
          .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a metric name prefix such as bpftrace')
          .optional(),
        /** false: export every map's name, unit and values as bpftrace prints them (no seconds, no bytes). */
        baseUnits: z.boolean().optional(),
        resourceAttributes: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type TraceSpecInput = z.input<typeof traceSpecSchema>;
/** How one map is exported (the exporter's MapExportOptions), and whether ktrace keys it by cgroup for pod labels. */
export type MapSpec = MapExportOptions & { podLabels?: boolean };

function definedFields<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** A validated trace spec, resolved: the program text is loaded and durations are milliseconds. */
export interface TraceSpec {
  name?: string;
  program: string;
  /** Where the program came from, for error messages: a file path, or `<inline>`. */
  programSource: string;
  intervalMillis: number;
  maps: Record<string, MapSpec>;
  include?: string[];
  limits: {
    maxSeries?: number;
    maxSeriesPerMap?: number;
    maxLabelValueLength?: number;
    maxOutputBytesPerSecond: number;
    maxLineBytes: number;
    expireAfterDumps?: number;
  };
  /** How bpftrace is run. Not which binary: whoever starts ktrace chooses that (--bpftrace, startTrace's `bpftrace`). */
  bpftrace: { env: Record<string, string>; flags: string[]; includeDirs: string[] };
  target: 'local';
  metrics: {
    /** Where /metrics is served; `false`: the spec says not to serve it (a command line must not add its default). */
    listen?: string | false;
    otlpEndpoint?: string;
    otlpIntervalMillis?: number;
    prefix?: string;
    /** false: no conversion of durations to seconds and sizes to bytes (maps.@m.baseUnits for one map). */
    baseUnits?: boolean;
    resourceAttributes?: Record<string, string>;
  };
}

export const defaultIntervalMillis = 1000;
/** Sustained output above this (averaged over 5 s) means the program floods: ktrace stops it. */
export const defaultMaxOutputBytesPerSecond = 32 * 1024 * 1024;
/** The largest single output line (one map dump in JSON) ktrace holds in memory: the parser's, as for parse and export. */
export const defaultMaxLineBytes = DEFAULT_MAX_LINE_LENGTH;

function pathOf(path: readonly PropertyKey[]): string {
  let out = 'spec';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

export interface ParseTraceSpecOptions {
  /** Directory that `programFile` is relative to (the spec file's directory); defaults to the working directory. */
  baseDir?: string;
  /** Where an inline `program` came from, for messages (a file the caller read, e.g. `ktrace run -f`). */
  programSource?: string;
}

/** Validates a spec object (as written in YAML or code) and resolves it. Throws KtraceError KTRACE_BAD_SPEC. */
export function parseTraceSpec(input: unknown, options: ParseTraceSpecOptions = {}): TraceSpec {
  const bpftrace = (input as { bpftrace?: unknown } | null)?.bpftrace;
  if (bpftrace !== null && typeof bpftrace === 'object' && 'path' in bpftrace) {
    // A spec may come from someone who does not start ktrace (soon: from the cluster); the binary runs as root.
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message:
        'spec.bpftrace.path: a spec cannot choose the bpftrace binary (it runs as root); whoever starts ktrace chooses it: ktrace run --bpftrace PATH, or startTrace({ bpftrace: PATH }) in the SDK',
    });
  }
  const result = traceSpecSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `${pathOf(issue.path)}: unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      }
      if (issue.code === 'invalid_key') {
        return `${pathOf(issue.path)}: expected a map name such as @syscalls (as written in the program, with its @)`;
      }
      return `${pathOf(issue.path)}: ${issue.message}`;
    });
    throw new KtraceError({ code: 'KTRACE_BAD_SPEC', message: `invalid trace spec:\n  ${lines.join('\n  ')}` });
  }
  const raw = result.data;
  const target = typeof raw.target === 'object' ? raw.target.kind : (raw.target ?? 'local');
  if (target === 'kubernetes') {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: 'spec.target: kubernetes is not supported yet; use target: local (runs bpftrace on this machine)',
    });
  }
  if (raw.program !== undefined && raw.programFile !== undefined) {
    throw new KtraceError({ code: 'KTRACE_BAD_SPEC', message: 'spec: give either program or programFile, not both' });
  }
  let program: string;
  let programSource: string;
  if (raw.program !== undefined) {
    program = raw.program;
    programSource = options.programSource ?? '<inline>';
    checkProgramText(program, 'spec.program', 'KTRACE_BAD_SPEC');
  } else if (raw.programFile !== undefined) {
    programSource = resolve(options.baseDir ?? process.cwd(), raw.programFile);
    program = readSpecProgramFile(programSource);
  } else {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message:
        'spec: a program is required: set program (the bpftrace text) or programFile (a .bt file next to the spec)',
    });
  }

  const spec: TraceSpec = {
    program,
    programSource,
    intervalMillis: raw.interval === undefined ? defaultIntervalMillis : parseDuration(raw.interval, 'spec.interval'),
    maps: Object.fromEntries(
      Object.entries(raw.maps ?? {}).map(([name, options]) => [name, definedFields(options) as MapSpec]),
    ),
    limits: {
      maxOutputBytesPerSecond: raw.limits?.maxOutputBytesPerSecond ?? defaultMaxOutputBytesPerSecond,
      maxLineBytes: raw.limits?.maxLineBytes ?? defaultMaxLineBytes,
    },
    bpftrace: {
      env: Object.fromEntries(Object.entries(raw.bpftrace?.env ?? {}).map(([k, v]) => [k, String(v)])),
      flags: [...(raw.bpftrace?.flags ?? [])],
      includeDirs: [...(raw.bpftrace?.includeDirs ?? [])],
    },
    target: 'local',
    metrics: {},
  };
  if (raw.name !== undefined) spec.name = raw.name;
  if (raw.include !== undefined) spec.include = raw.include;
  const limits = raw.limits ?? {};
  if (limits.maxSeries !== undefined) spec.limits.maxSeries = limits.maxSeries;
  if (limits.maxSeriesPerMap !== undefined) spec.limits.maxSeriesPerMap = limits.maxSeriesPerMap;
  if (limits.maxLabelValueLength !== undefined) spec.limits.maxLabelValueLength = limits.maxLabelValueLength;
  if (limits.expireAfterDumps !== undefined) spec.limits.expireAfterDumps = limits.expireAfterDumps;
  const metrics = raw.metrics ?? {};
  if (metrics.listen !== undefined) spec.metrics.listen = metrics.listen;
  if (metrics.otlpEndpoint !== undefined) spec.metrics.otlpEndpoint = metrics.otlpEndpoint;
  if (metrics.otlpInterval !== undefined)
    spec.metrics.otlpIntervalMillis = parseDuration(metrics.otlpInterval, 'spec.metrics.otlpInterval');
  if (metrics.prefix !== undefined) spec.metrics.prefix = metrics.prefix;
  if (metrics.baseUnits !== undefined) spec.metrics.baseUnits = metrics.baseUnits;
  if (metrics.resourceAttributes !== undefined) spec.metrics.resourceAttributes = metrics.resourceAttributes;
  return spec;
}

/** Reads and validates a YAML (or JSON) spec file; `programFile` is resolved next to it. */
export function loadTraceSpec(file: string): TraceSpec {
  const text = readBoundedText(file, { what: 'trace spec', limit: maxSpecBytes, code: 'KTRACE_BAD_SPEC' });
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new KtraceError({
      code: 'KTRACE_BAD_SPEC',
      message: `${file}: expected a mapping with program or programFile, interval, maps…`,
    });
  }
  try {
    return parseTraceSpec(data, { baseDir: dirname(resolve(file)) });
  } catch (error) {
    if (error instanceof KtraceError) {
      throw new KtraceError({ code: error.code, message: `${file}: ${error.message}`, cause: error.cause });
    }
    throw error;
  }
}
