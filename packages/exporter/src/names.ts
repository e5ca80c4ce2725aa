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

/**
 * A label value that is valid UTF-8, truncated to `maxLength` code units if longer. The parser keeps each byte
 * bpftrace printed that is not UTF-8 as a lone surrogate (U+DC80–U+DCFF): it is written `\xHH`, and any other
 * lone surrogate `\uHHHH`, so keys that differ only there stay distinct and readable.
 */
export function labelValue(raw: string, maxLength: number): string {
  let value = escapeLoneSurrogates(raw);
  if (value.length > maxLength) value = truncateLabelValue(value, maxLength);
  return value;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Lone surrogates as visible escapes: `\xHH` for a byte the parser kept, `\uHHHH` otherwise. */
export function escapeLoneSurrogates(raw: string): string {
  if ((raw as unknown as { isWellFormed(): boolean }).isWellFormed()) return raw;
  return raw.replace(LONE_SURROGATE, (c) => {
    const code = c.charCodeAt(0);
    return code >= 0xdc80 && code <= 0xdcff
      ? `\\x${(code - 0xdc00).toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16)}`;
  });
}

/**
 * Truncation keeps the value recognisable and distinct: the first `maxLength - 9` characters, `…`, and the first
 * 8 hex digits of the SHA-256 of the full value, so two long keys sharing a prefix stay two series.
 */
export function truncateLabelValue(value: string, maxLength: number): string {
  return hashSuffixed(value, value, maxLength);
}

/** `value` cut to leave room, then `…` and 8 hex digits of the SHA-256 of `seed`: at most `maxLength` long. */
export function hashSuffixed(value: string, seed: string, maxLength: number): string {
  const hash = createHash('sha256').update(escapeLoneSurrogates(seed), 'utf8').digest('hex').slice(0, 8);
  const keep = Math.max(0, Math.min(value.length, maxLength - 9));
  // a cut through a surrogate pair leaves half of it: that half becomes U+FFFD
  return (`${value.slice(0, keep)}…${hash}` as unknown as { toWellFormed(): string }).toWellFormed();
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
