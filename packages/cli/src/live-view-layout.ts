// The screen of the live view as plain lines, from what is known (maps' rows, notes) and where the user is (which
// map, how far scrolled) to at most `rows` lines of at most `columns` characters, marking what is cut. Pure: the
// terminal side (live-view-terminal.ts) only writes these lines and feeds keys back.
import { histogramLines } from './live-view-histogram.js';
import type { KeyRow, MapRows } from './live-view-rates.js';
import { bar, fit, human, perSecond } from './live-view-text.js';

export interface ScreenInput {
  header: string;
  /** In tab order. */
  maps: readonly MapRows[];
  notes: readonly string[];
  columns: number;
  rows: number;
  selected: number;
  scroll: number;
}

export interface Screen {
  lines: string[];
  /** The selection and scroll as drawn (clamped), and how many body lines one page shows. */
  selected: number;
  scroll: number;
  page: number;
}

export const HELP = 'q quit · Tab ←→ 1-9 maps · ↑↓ PgUp PgDn Home End scroll';
const MAX_NOTES = 3;

const isHistogram = (map: MapRows): boolean => map.kind === 'hist' || map.kind === 'lhist';

/** The map's title line: name, kind, keys, and for counting maps its rate and total. */
export function mapTitle(map: MapRows, rates: boolean): string {
  const keys = `${map.keys} ${map.keys === 1 ? 'key' : 'keys'}`;
  if (!map.counted || !rates) return `${map.name} (${map.kind}) · ${keys}`;
  const what = isHistogram(map) ? ' samples' : '';
  const rate = map.rate === undefined ? '' : ` · ${perSecond(map.rate)}${what}/s`;
  return `${map.name} (${map.kind}) · ${keys}${rate} · total ${human(map.total)}${what} · ${map.rate === undefined ? 'by total' : 'by rate'}`;
}

export interface MapLines {
  head: string;
  /** The lines of `window` (all without one). */
  body: string[];
  /** How many body lines there are in all. */
  total: number;
}

/**
 * The column header and one line per key (histograms: a line per key and its buckets), `columns` wide. With
 * `rates`, a RATE/s column before the total and bars of the rate (of the total before there is a rate); without
 * (a saved dump), bars of the value. Bars are scaled to the largest over all the map's keys, not the shown ones.
 */
export function mapLines(
  map: MapRows,
  columns: number,
  rates: boolean,
  window?: { from: number; count: number },
): MapLines {
  const rows = map.rows;
  const cut = <T>(all: T[], total: number): { body: T[]; total: number } => ({
    body: window === undefined ? all : all.slice(window.from, window.from + window.count),
    total,
  });
  if (isHistogram(map)) {
    const body: string[] = [];
    for (const row of rows) {
      const label = row.key === '' ? '' : `${row.key} · `;
      const rate = rates ? ` · ${perSecond(row.rate)}/s` : '';
      body.push(fit(`  ${label}${human(rates ? row.total : Number(row.value))} samples${rate}`, columns));
      body.push(...histogramLines(row.entry, columns).map((l) => fit(l, columns)));
    }
    const head = rates ? fit('  key · samples since start · per second, then the latest buckets', columns) : '';
    return { head, ...cut(body, body.length) };
  }
  const stats = map.kind === 'stats';
  const withRate = rates && map.counted;
  const useRate = withRate && rows.some((r) => r.rate !== undefined);
  const measure = (r: KeyRow): number => {
    if (useRate) return r.rate ?? 0;
    if (map.counted) return rates ? r.total : stats ? (r.entry.stats?.count ?? 0) : Number(r.value);
    return typeof r.value === 'number' ? r.value : 0;
  };
  const max = rows.reduce((m, r) => Math.max(m, measure(r)), 0);
  const longest = rows.reduce((m, r) => Math.max(m, r.key.length), 3);
  const numbers = (withRate ? 9 : 0) + 9 + (stats ? 9 : 0);
  // Half of what the numbers leave at most: a long key (a path, a stack) is cut rather than the bars.
  const keyWidth = Math.max(3, Math.min(longest, Math.max(12, Math.floor((columns - numbers - 4) / 2))));
  const barWidth = Math.max(0, Math.min(50, columns - 3 - keyWidth - numbers));
  const cols = (key: string, rate: string, total: string, avg: string): string =>
    `  ${key.padEnd(keyWidth)}${withRate ? ` ${rate.padStart(8)}` : ''} ${total.padStart(8)}${stats ? ` ${avg.padStart(8)}` : ''}`;
  const head = fit(cols('KEY', 'RATE/s', map.counted ? (stats ? 'COUNT' : 'TOTAL') : 'VALUE', 'AVG'), columns);
  const line = (r: KeyRow): string => {
    const value = typeof r.value === 'string' ? r.value : human(r.value);
    const total = !map.counted ? value : rates ? human(r.total) : stats ? human(r.entry.stats?.count ?? 0) : value;
    const text = cols(fit(r.key, keyWidth), perSecond(r.rate), total, stats ? human(Number(r.value)) : '');
    return fit(`${text} ${bar(measure(r), max, barWidth)}`.trimEnd(), columns);
  };
  const shown = window === undefined ? rows : rows.slice(window.from, window.from + window.count);
  return { head, body: shown.map(line), total: rows.length };
}

function tabsLine(maps: readonly MapRows[], selected: number, columns: number): string {
  const items = maps.map((m, i) => (i === selected ? `[${i + 1} ${m.name}]` : ` ${i + 1} ${m.name} `));
  let from = 0;
  let to = items.length;
  const width = (a: number, b: number): number =>
    items.slice(a, b).join('').length + (a > 0 ? 2 : 0) + (b < items.length ? 2 : 0);
  // Keep the selected map in view: drop tabs from the far end until the line fits.
  while (width(from, to) > columns && to - from > 1) {
    if (to - 1 > selected) to--;
    else from++;
  }
  return fit(`${from > 0 ? '… ' : ''}${items.slice(from, to).join('')}${to < items.length ? ' …' : ''}`, columns);
}

function marker(scroll: number, page: number, total: number): string {
  const below = total - scroll - page;
  if (scroll === 0 && below <= 0) return '';
  const range = `rows ${scroll + 1}–${Math.min(total, scroll + page)} of ${total}`;
  if (below > 0) return `… ${below} more ${below === 1 ? 'row' : 'rows'} (↓ PgDn End) · ${range}`;
  return `↑ ${scroll} ${scroll === 1 ? 'row' : 'rows'} above (↑ PgUp Home) · ${range}`;
}

/** The whole screen: never more than `rows` lines, none wider than `columns`. */
export function layoutScreen(input: ScreenInput): Screen {
  const { columns, rows } = input;
  const selected = Math.min(Math.max(0, input.selected), Math.max(0, input.maps.length - 1));
  const map = input.maps[selected];
  const notes = input.notes.slice(-MAX_NOTES).map((n) => fit(n, columns));
  const header = fit(input.header, columns);
  if (map === undefined) {
    return {
      lines: [header, '', 'waiting for the first map dump…', '', ...notes].slice(0, rows),
      selected,
      scroll: 0,
      page: 0,
    };
  }
  let tabs: string[] = [tabsLine(input.maps, selected, columns)];
  let help = [fit(HELP, columns)];
  let shownNotes = notes;
  const fixed = (): number => 1 + tabs.length + 2 + 1 + shownNotes.length + help.length;
  // A short terminal gives up the help line, then the notes, then the tabs, before the rows.
  if (rows - fixed() < 1) help = [];
  if (rows - fixed() < 1) shownNotes = [];
  if (rows - fixed() < 1) tabs = [];
  const page = Math.max(0, rows - fixed());
  const all = isHistogram(map) ? undefined : map.rows.length;
  const scroll = Math.max(0, Math.min(input.scroll, (all ?? Infinity) - page));
  const drawn = mapLines(map, columns, true, { from: scroll, count: page });
  const clamped = Math.max(0, Math.min(scroll, drawn.total - page));
  const body = clamped === scroll ? drawn.body : mapLines(map, columns, true, { from: clamped, count: page }).body;
  const lines = [header, ...tabs, fit(mapTitle(map, true), columns), drawn.head, ...body];
  while (lines.length < rows - (1 + shownNotes.length + help.length)) lines.push('');
  lines.push(fit(marker(clamped, page, drawn.total), columns), ...shownNotes, ...help);
  return { lines: lines.slice(0, rows), selected, scroll: clamped, page };
}
