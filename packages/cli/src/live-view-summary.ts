// What `ktrace run` leaves on the normal screen when the live view ends: how long it ran, and per map its total, its
// average rate and the keys that counted most (or the latest values of maps that do not count).
import type { KeyRow, MapRows } from './live-view-rates.js';
import { duration, fit, human, perSecond } from './live-view-text.js';

const TOP = 5;

export interface SummaryInput {
  /** The first line (how the run ended, which bpftrace). */
  title: string;
  maps: readonly MapRows[];
  runMillis: number;
  columns: number;
}

export function summaryLines(input: SummaryInput): string[] {
  const { columns } = input;
  const seconds = input.runMillis / 1000;
  const lines = [fit(`${input.title} · ran ${duration(input.runMillis)}`, columns)];
  if (input.maps.length === 0) lines.push('no map was printed');
  for (const map of input.maps) {
    const keys = `${map.keys} ${map.keys === 1 ? 'key' : 'keys'}`;
    const samples = map.kind === 'hist' || map.kind === 'lhist' ? ' samples' : '';
    lines.push(
      fit(
        map.counted
          ? `${map.name} (${map.kind}) · ${keys} · total ${human(map.total)}${samples} · ${perSecond(seconds > 0 ? map.total / seconds : undefined)}/s on average`
          : `${map.name} (${map.kind}) · ${keys} · latest values`,
        columns,
      ),
    );
    const top = [...map.rows]
      .sort((a: KeyRow, b: KeyRow) =>
        map.counted
          ? b.total - a.total || a.key.localeCompare(b.key)
          : (typeof b.value === 'number' ? b.value : -Infinity) - (typeof a.value === 'number' ? a.value : -Infinity) ||
            a.key.localeCompare(b.key),
      )
      .slice(0, TOP);
    const label = (row: KeyRow): string => (row.key === '' ? '(no key)' : row.key);
    const keyWidth = Math.min(40, Math.max(3, ...top.map((r) => label(r).length)));
    for (const row of top) {
      const value = map.counted ? human(row.total) : typeof row.value === 'string' ? row.value : human(row.value);
      lines.push(fit(`  ${fit(label(row), keyWidth).padEnd(keyWidth)} ${value.padStart(8)}`, columns));
    }
    if (map.rows.length > top.length) {
      const more = map.rows.length - top.length;
      lines.push(fit(`  … ${more} more ${more === 1 ? 'key' : 'keys'}`, columns));
    }
  }
  return lines;
}
