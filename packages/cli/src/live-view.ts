// The terminal view of `ktrace run`: the latest sample of every exported map, top keys with bars and
// histograms drawn, redrawn each interval. Pure rendering from state to text, so it is testable without a TTY.
import type { MapEntry, MapSample } from '@ktrace/parser';

export interface LiveViewState {
  header: string;
  /** Latest sample per map name. */
  maps: Map<string, MapSample>;
  /** Recent warnings and errors, newest last. */
  notes: string[];
  /** Terminal width and height. */
  columns: number;
  rows: number;
}

const TOP_KEYS = 8;
const TOP_HIST_KEYS = 2;

function keyText(entry: MapEntry): string {
  return entry.key.length === 0 ? '' : visible(entry.key.join(', '));
}

function scalar(entry: MapEntry): number {
  if (typeof entry.value === 'number') return entry.value;
  if (entry.stats !== undefined) return entry.stats.average;
  if (entry.buckets !== undefined) return entry.buckets.reduce((a, b) => a + b.count, 0);
  return 0;
}

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

function fit(text: string, width: number): string {
  // One screen line each: a kstack/ustack key is frames joined by newlines, a note may span lines.
  const flat = visible(text.replace(/\s*\n\s*/g, ' ← '));
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((value / max) * width)));
}

function human(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function pow2Label(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  let v = n;
  while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}

function bucketLabel(min: number | null, max: number | null): string {
  if (min === null) return `(..., ${max === null ? '' : pow2Label(max + 1)})`;
  if (max === null) return `[${pow2Label(min)}, ...)`;
  if (min === max) return `[${pow2Label(min)}]`;
  return `[${pow2Label(min)}, ${pow2Label(max + 1)})`;
}

function renderHistogram(entry: MapEntry, columns: number): string[] {
  const buckets = entry.buckets ?? [];
  const max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  const width = Math.max(10, Math.min(40, columns - 32));
  const lines: string[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (b === undefined) continue;
    // A run of three or more empty buckets is folded into one line.
    let j = i;
    while (buckets[j]?.count === 0) j++;
    if (j - i >= 3) {
      lines.push(`    ${'…'.padEnd(16)} ${'0'.padStart(7)} |${''.padEnd(width)}|`);
      i = j - 1;
      continue;
    }
    lines.push(
      `    ${bucketLabel(b.min, b.max).padEnd(16)} ${human(b.count).padStart(7)} |${bar(b.count, max, width).padEnd(width)}|`,
    );
  }
  return lines;
}

/** The whole screen as text (no escape codes). */
export function renderLiveView(state: LiveViewState): string[] {
  const lines: string[] = [fit(state.header, state.columns), ''];
  // Keyed counters first: they are short, and histograms below them may run past the bottom of the screen.
  const isHistogram = (name: string): boolean => ['hist', 'lhist'].includes(state.maps.get(name)?.kind ?? '');
  const names = [...state.maps.keys()].sort(
    (a, b) => Number(isHistogram(a)) - Number(isHistogram(b)) || a.localeCompare(b),
  );
  for (const name of names) {
    const sample = state.maps.get(name);
    if (sample === undefined) continue;
    const sorted = [...sample.entries].sort((a, b) => scalar(b) - scalar(a));
    const histogram = sample.kind === 'hist' || sample.kind === 'lhist';
    const shown = sorted.slice(0, histogram ? TOP_HIST_KEYS : TOP_KEYS);
    lines.push(
      fit(
        `${name} (${sample.kind}) · ${sample.entries.length} ${sample.entries.length === 1 ? 'key' : 'keys'}${sorted.length > shown.length ? `, top ${shown.length}` : ''}`,
        state.columns,
      ),
    );
    if (histogram) {
      for (const entry of shown) {
        const key = keyText(entry);
        lines.push(fit(`  ${key === '' ? '' : `${key} · `}${human(scalar(entry))} samples`, state.columns));
        lines.push(...renderHistogram(entry, state.columns).map((l) => fit(l, state.columns)));
      }
    } else {
      const max = shown.reduce((m, e) => Math.max(m, scalar(e)), 0);
      const keyWidth = Math.min(24, Math.max(4, ...shown.map((e) => keyText(e).length)));
      const barWidth = Math.max(5, Math.min(40, state.columns - keyWidth - 16));
      for (const entry of shown) {
        const value = entry.stats === undefined ? scalar(entry) : entry.stats.average;
        const text = typeof entry.value === 'string' ? entry.value : human(value);
        lines.push(
          fit(
            `  ${fit(keyText(entry), keyWidth).padEnd(keyWidth)} ${text.padStart(8)} ${bar(value, max, barWidth)}`,
            state.columns,
          ),
        );
      }
    }
    lines.push('');
  }
  if (names.length === 0) lines.push('waiting for the first map dump…', '');
  for (const note of state.notes.slice(-5)) lines.push(fit(note, state.columns));
  return lines.slice(0, Math.max(5, state.rows - 1));
}
