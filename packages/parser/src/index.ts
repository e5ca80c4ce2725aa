// Public API of @ktrace/parser.
export type {
  AttachedEvent,
  HistogramBucket,
  KeyPart,
  KeyType,
  LostEvent,
  MapEntry,
  MapInfo,
  MapKind,
  MapSample,
  OutputFormat,
  ParseEvent,
  PlainValue,
  ProblemEvent,
  ProgramInfo,
  RuntimeErrorEvent,
  StatsValue,
  TextEvent,
} from './types.js';
export { KtraceError, isKtraceError } from './errors.js';
export type { KtraceErrorCode, KtraceErrorOptions } from './errors.js';
export { JsonFormatReader } from './json-format.js';
export { readProgram } from './program.js';
export type { Emit, FormatReader, FormatReaderOptions } from './format-reader.js';
