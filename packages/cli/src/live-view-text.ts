// Text pieces every map view draws: control characters made visible, lines cut to a width (and marked), numbers
// abbreviated, and bars whose length is proportional to a value over its map's largest (eighths of a cell).

/**
 * Keys and notes come from the traced system (a file name, a comm): every control character (C0, DEL, C1, and the
 * bidi overrides that reorder a line) is drawn as a visible escape, so nothing reaches the terminal as a command.
 */
export function visible(text: string, keep: 'nothing' | 'newlines' = 'nothing'): string {
  return text.replace(
    keep === 'newlines'
      ? /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
      : /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => {
      const code = c.charCodeAt(0);
      if (c === '\t') return '\\t';
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/** One screen line: newlines (a kstack key's frames, a multi-line note) become ' ← ', and a cut ends in '…'. */
export function fit(text: string, width: number): string {
  const flat = visible(text.replace(/\s*\n\s*/g, ' ← '));
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/**
 * A bar `width` cells long for `max`: length proportional to value / max in eighths of a cell, so 3 next to 700 is a
 * sliver, not a block; anything above zero shows at least one eighth, zero and negatives nothing.
 */
export function bar(value: number, max: number, width: number): string {
  if (!(max > 0) || !(value > 0) || width <= 0) return '';
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
}

/** A count or value in at most 7 characters: 9999, 12.3k, 4.5M, 1.2G; fractions with two decimals. */
export function human(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e12) return `${(n / 1e12).toFixed(1)}T`;
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** A per-second rate with three significant digits (0.25, 9.80, 12.5, 340, 12.3k); '-' before there is one. */
export function perSecond(rate: number | undefined): string {
  if (rate === undefined || !Number.isFinite(rate)) return '-';
  if (rate === 0) return '0';
  const abs = Math.abs(rate);
  if (abs >= 1e4) return human(rate);
  if (abs >= 100) return rate.toFixed(0);
  if (abs >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

/** How long a run took: 45s, 3m 05s, 2h 01m. */
export function duration(millis: number): string {
  const s = Math.max(0, Math.round(millis / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
