// A hist/lhist entry drawn as bpftrace draws it: one line per bucket with its bounds, count and a bar scaled to the
// fullest bucket; runs of three or more empty buckets fold into one line.
import type { MapEntry } from '@ktrace/parser';
import { bar, human } from './live-view-text.js';

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

export function bucketLabel(min: number | null, max: number | null): string {
  if (min === null) return `(..., ${max === null ? '' : pow2Label(max + 1)})`;
  if (max === null) return `[${pow2Label(min)}, ...)`;
  if (min === max) return `[${pow2Label(min)}]`;
  return `[${pow2Label(min)}, ${pow2Label(max + 1)})`;
}

/** The bucket lines of one entry, at most `columns` wide when columns ≥ 40. */
export function histogramLines(entry: MapEntry, columns: number): string[] {
  const buckets = entry.buckets ?? [];
  const max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  const width = Math.max(10, Math.min(40, columns - 32));
  const lines: string[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    if (b === undefined) continue;
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
