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
export { OutputParser, parseOutput } from './stream.js';
export type { OutputParserOptions } from './stream.js';
export { JsonFormatReader } from './json-format.js';
export { TextFormatReader } from './text-format.js';
export { readProgram } from './program.js';
export { ktraceVersion } from './version.js';
export type { Emit, FormatReader, FormatReaderOptions } from './format-reader.js';
