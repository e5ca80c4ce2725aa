// Names and label values as Prometheus and OTel see them: metric and label names sanitized to
// [a-zA-Z_][a-zA-Z0-9_]*, label values made well-formed, escaped, and visibly truncated past a length limit.

import { createHash } from 'node:crypto';

const INVALID_NAME_CHARS = /[^a-zA-Z0-9_]/g;
const MULTIPLE_UNDERSCORES = /_{2,}/g;

/** Label names the exporter itself writes, or Prometheus reserves: a key position named so is renamed `key_<name>`. */
const RESERVED_LABELS = new Set(['le', 'otel_metric_overflow', 'quantile']);

/**
 * A metric name part: invalid characters become `_`, runs of `_` collapse to one (as OTel's serializer does,
 * so the name we register is the name served), and a leading digit gets a `_` in front.
 */
export function sanitizeMetricName(name: string): string {
  let out = name.replace(INVALID_NAME_CHARS, '_').replace(MULTIPLE_UNDERSCORES, '_');
  if (out === '' || out === '_') out = 'map';
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/**
 * Label names for a map's key positions. Rule: invalid characters → `_`, runs of `_` collapse, a leading digit
 * or `_` is dropped in favour of the prefix `key_` (so nothing starts with `__`), reserved names
 * (`le`, `quantile`, `otel_metric_overflow`) become `key_<name>`, empty names become `key<i>`, and duplicates
 * get `_<position>` appended.
 */
export function sanitizeLabelNames(names: readonly string[]): string[] {
  const out: string[] = [];
  const used = new Set<string>();
  names.forEach((raw, index) => {
    let name = raw.replace(INVALID_NAME_CHARS, '_').replace(MULTIPLE_UNDERSCORES, '_');
    if (name === '' || name === '_') name = `key${index}`;
    if (/^[0-9_]/.test(name)) name = `key_${name.replace(/^_+/, '')}`;
    if (RESERVED_LABELS.has(name)) name = `key_${name}`;
    if (used.has(name)) name = `${name}_${index}`;
    used.add(name);
    out.push(name);
  });
  return out;
}

/** A label value that is valid UTF-8 (lone surrogates → U+FFFD), truncated to `maxLength` code units if longer. */
export function labelValue(raw: string, maxLength: number): string {
  let value = wellFormed(raw);
  if (value.length > maxLength) value = truncateLabelValue(value, maxLength);
  return value;
}

/**
 * Truncation keeps the value recognisable and distinct: the first `maxLength - 9` characters, `…`, and the first
 * 8 hex digits of the SHA-256 of the full value, so two long keys sharing a prefix stay two series.
 */
export function truncateLabelValue(value: string, maxLength: number): string {
  const hash = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8);
  const keep = Math.max(0, maxLength - 9);
  return wellFormed(`${value.slice(0, keep)}…${hash}`);
}

// String.prototype.toWellFormed is in Node 20 but not in the ES2023 lib typings.
function wellFormed(value: string): string {
  return (value as unknown as { toWellFormed(): string }).toWellFormed();
}

/** Escapes a label value for the text exposition format: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Escapes `# HELP` text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Number formatting shared with OTel's serializer, so both renderers print the same text. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}
