// Maps drawn as text, all of them one below the other: what `ktrace run TARGET --attach` and `ktrace logs` print
// (the latest or final dump of a one-shot trace). The interactive view of `ktrace run` is live-view-terminal.ts;
// both draw keys, bars and histograms with the same pieces (live-view-layout.ts).
import type { MapSample } from '@ktrace/parser';
import { mapLines, mapTitle } from './live-view-layout.js';
import { MapTracker } from './live-view-rates.js';
import { fit } from './live-view-text.js';

export { visible } from './live-view-text.js';

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

/** The whole text (no escape codes): counting maps first, histograms (long) after them. */
export function renderLiveView(state: LiveViewState): string[] {
  const lines: string[] = [fit(state.header, state.columns), ''];
  const isHistogram = (name: string): boolean => ['hist', 'lhist'].includes(state.maps.get(name)?.kind ?? '');
  const names = [...state.maps.keys()].sort(
    (a, b) => Number(isHistogram(a)) - Number(isHistogram(b)) || a.localeCompare(b),
  );
  for (const name of names) {
    const sample = state.maps.get(name);
    if (sample === undefined) continue;
    const tracker = new MapTracker(name, sample.kind);
    tracker.ingest(sample, 0, 'cumulative');
    const all = tracker.rows();
    const shown = { ...all, rows: all.rows.slice(0, isHistogram(name) ? TOP_HIST_KEYS : TOP_KEYS) };
    const top = all.rows.length > shown.rows.length ? `, top ${shown.rows.length}` : '';
    lines.push(fit(`${mapTitle(all, false)}${top}`, state.columns));
    lines.push(...mapLines(shown, state.columns, false).body);
    lines.push('');
  }
  if (names.length === 0) lines.push('waiting for the first map dump…', '');
  for (const note of state.notes.slice(-5)) lines.push(fit(note, state.columns));
  return lines.slice(0, Math.max(5, state.rows - 1));
}
