// Public API of @ktrace/core: trace specs, program instrumentation, preflight checks and the local runner.
export { startTrace } from './runner.js';
export { KtraceError, isKtraceError } from '@ktrace/parser';
export type { KtraceErrorCode } from '@ktrace/parser';
export type {
  LogLevel,
  LogRecord,
  StartTraceOptions,
  TraceHandle,
  TraceResult,
  TraceState,
  TraceStatus,
} from './runner.js';
export { onTerminatingSignal, terminatingSignals } from './runner/signals.js';
export { judgeSilence, silenceThresholdMillis } from './runner/staleness.js';
export type { Silence, SilenceInput } from './runner/staleness.js';
export { decideRestart, initialRestartHistory, isTransientSpawnError } from './runner/restart-policy.js';
export type { RestartDecision, RestartHistory, RestartPolicyOptions, RunEnd } from './runner/restart-policy.js';
export {
  allowedBpftraceEnv,
  allowedBpftraceFlags,
  defaultIntervalMillis,
  defaultMaxLineBytes,
  defaultMaxOutputBytesPerSecond,
  loadTraceSpec,
  parseDuration,
  parseTraceSpec,
} from './trace-spec.js';
export type { MapSpec, ParseTraceSpecOptions, TraceSpec, TraceSpecInput } from './trace-spec.js';
export { exporterOptionsFor } from './exporter-options.js';
export {
  checkProgramText,
  maxProgramBytes,
  maxSpecBytes,
  readBoundedText,
  readSpecProgramFile,
} from './program-file.js';
export type { ReadBoundedOptions } from './program-file.js';
export type { ExportDeclaration } from './exporter-options.js';
export { callsExit, defaultExportedMaps, instrumentProgram, programProbes } from './instrument.js';
export type { InstrumentOptions, InstrumentedProgram } from './instrument.js';
export {
  bpftraceVersion,
  checkKernelFeatures,
  checkPrivileges,
  checkProgram,
  findBpftrace,
  preflight,
  programCheckArgs,
  tracefsDir,
} from './preflight.js';
export type { PreflightLog, PreflightOptions, PreflightResult, PreflightStep } from './preflight.js';
export { defaultTraceSpec, syscallsProgram } from './bundled-examples.js';
export { restrictToCgroups } from './cgroup-filter.js';
