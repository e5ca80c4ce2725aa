// The live view of `ktrace run`, as a user sees it in a terminal: the built CLI runs a real bpftrace program with known
// rates inside tmux, and the captured pane shows per-second rates beside totals, rows sorted by rate, bars, a switch
// of maps and a scroll on keys, a re-layout on resize, and after Ctrl-C (or q) a summary on the normal screen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxTerminal } from './support/tmux.js';
import { ROOT, eventually, requireBuiltCli } from './support/ktrace-process.js';

// "early" counts 100/s for its first 1.5 s and then stops: it ends with the largest total and no rate, below
// "steady" (10/s) and "half" (2/s) when rows are sorted by rate. @many has a new key every 100 ms, 40 in all.
const PROGRAM = `
interval:ms:100 { @ticks["steady"] = count(); }
interval:ms:500 { @ticks["half"] = count(); }
interval:ms:10 /elapsed < 1500000000/ { @ticks["early"] = count(); }
interval:ms:100 { @sizes = hist(1000); @many[elapsed / 100000000 % 40] = count(); }
`;
const HELP = 'q quit · Tab ←→ 1-9 maps · ↑↓ PgUp PgDn Home End scroll';

let terminal: TmuxTerminal | undefined;
let dir: string | undefined;

afterEach(() => {
  terminal?.kill();
  terminal = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function start(columns: number, rows: number): TmuxTerminal {
  dir = mkdtempSync(join(tmpdir(), 'ktrace-live-'));
  const file = join(dir, 'ticks.bt');
  writeFileSync(file, PROGRAM);
  terminal = new TmuxTerminal(
    [process.execPath, requireBuiltCli(), 'run', '-f', file, '--no-listen'],
    { columns, rows },
    ROOT,
  );
  return terminal;
}

interface Row {
  key: string;
  rate: number;
  total: number;
  bar: number;
}

/** The key rows of a counting map on screen: KEY, RATE/s, TOTAL and the bar's length in cells. */
function rows(screen: string[]): Row[] {
  return screen.flatMap((line) => {
    const m = /^ {2}(\S+) +([\d.]+) +(\d+) ?([█▏▎▍▌▋▊▉]*)$/.exec(line);
    return m === null ? [] : [{ key: m[1] ?? '', rate: Number(m[2]), total: Number(m[3]), bar: (m[4] ?? '').length }];
  });
}

/** Polls the pane until `probe` accepts it; a timeout shows the last pane. */
async function until<T>(t: TmuxTerminal, what: string, probe: (screen: string[]) => T | undefined): Promise<T> {
  let last: string[] = [];
  return eventually(
    () => {
      last = t.screen();
      return probe(last);
    },
    what,
    60_000,
    () => last.join('\n'),
  );
}

describe('ktrace run on a terminal', () => {
  it('shows rates beside totals sorted by rate, switches and scrolls maps on keys, and sums up after Ctrl-C', async () => {
    const t = start(80, 24);
    // Rates: "early" has stopped (rate 0) though its total is the largest; rows are by rate, highest first.
    const ticks = await until(t, 'rates of @ticks with "early" stopped', (screen) => {
      const r = rows(screen);
      return r.length === 3 && r.find((x) => x.key === 'early')?.rate === 0 && r[1]?.rate !== 0 ? screen : undefined;
    });
    expect(ticks).toHaveLength(24);
    expect(ticks[0]).toMatch(/^ktrace · running \d+s · bpftrace /);
    expect(ticks[1]).toBe('[1 @ticks] 2 @sizes  3 @many');
    expect(ticks[2]).toMatch(/^@ticks \(count\) · 3 keys · [\d.]+\/s · total \d+ · by rate$/);
    expect(ticks[3]).toMatch(/^ {2}KEY +RATE\/s +TOTAL$/);
    expect(ticks[23]).toBe(HELP);
    const [steady, half, early] = rows(ticks);
    expect([steady?.key, half?.key, early?.key]).toEqual(['steady', 'half', 'early']);
    expect(steady?.rate).toBeGreaterThanOrEqual(7);
    expect(steady?.rate).toBeLessThanOrEqual(13);
    expect(early?.total).toBeGreaterThan(steady?.total ?? Infinity);
    // Bars of the rate, over the map's largest: full for steady, a few cells for half, none for early.
    expect(steady?.bar).toBeGreaterThanOrEqual(40);
    expect(half?.bar).toBeGreaterThan(0);
    expect(half?.bar).toBeLessThan((steady?.bar ?? 0) / 2);
    expect(early?.bar).toBe(0);

    // Tab: the histogram, drawn as bpftrace does.
    t.keys('Tab');
    const sizes = await until(t, 'the @sizes tab', (s) => (s[1] === ' 1 @ticks [2 @sizes] 3 @many' ? s : undefined));
    expect(sizes[2]).toMatch(/^@sizes \(hist\) · 1 key · [\d.]+ samples\/s · total \d+ samples · by rate$/);
    expect(sizes).toContainEqual(expect.stringMatching(/^ {4}\[512, 1K\) +\d+ \|█{40}\|$/));

    // 3: the map with more keys than fit; what is cut is said, and End scrolls to the last rows.
    t.keys('3');
    const many = await until(t, '@many cut at the bottom', (s) =>
      s[1] === ' 1 @ticks  2 @sizes [3 @many]' && s.some((l) => /^… \d+ more rows/.test(l)) ? s : undefined,
    );
    expect(many).toHaveLength(24);
    const cut = many.find((l) => l.startsWith('… ')) ?? '';
    const [, more, last, all] = /^… (\d+) more rows \(↓ PgDn End\) · rows 1–(\d+) of (\d+)$/.exec(cut) ?? [];
    expect(Number(more)).toBe(Number(all) - Number(last));
    expect(rows(many)).toHaveLength(Number(last));
    t.keys('End');
    await until(t, 'the last rows of @many', (s) => (s.some((l) => /^↑ \d+ rows? above/.test(l)) ? s : undefined));

    // A bigger terminal: the same view laid out again to its size.
    t.resize(100, 40);
    const big = await until(t, 'the view laid out at 100×40', (s) =>
      s.length === 40 && s[39] === HELP ? s : undefined,
    );
    expect(big[1]).toBe(' 1 @ticks  2 @sizes [3 @many]');

    // Ctrl-C: bpftrace stops, the normal screen is back with the run's summary, and ktrace exits 0.
    t.keys('C-c');
    const summary = await until(t, 'the summary and exit', (s) => (s.includes('exited 0') ? s : undefined));
    expect(summary).not.toContain(HELP);
    const first = summary.findIndex((l) => l.startsWith('ktrace run '));
    expect(summary[first]).toMatch(/^ktrace run stopped · bpftrace \S+ · restarts 0 · ran \d+s$/);
    const line = summary.find((l) => l.startsWith('@ticks (count) · 3 keys · total ')) ?? '';
    const total = Number(/total (\d+)/.exec(line)?.[1]);
    const keys = summary
      .slice(summary.indexOf(line) + 1, summary.indexOf(line) + 4)
      .map((l) => /^ {2}(\w+) +(\d+)$/.exec(l));
    expect(keys.map((m) => m?.[1])).toEqual(['early', 'steady', 'half']);
    expect(keys.reduce((sum, m) => sum + Number(m?.[2]), 0)).toBe(total);
    expect(summary).toContainEqual(expect.stringMatching(/^@sizes \(hist\) · 1 key · total \d+ samples/));
    expect(summary).toContainEqual(expect.stringMatching(/^@many \(count\) · \d+ keys · total \d+/));
    expect(summary).toContainEqual(expect.stringMatching(/^ {2}… \d+ more keys$/));
  });

  it('q stops the trace as Ctrl-C does', async () => {
    const t = start(80, 24);
    await until(t, 'the first dump', (s) => (rows(s).length > 0 ? s : undefined));
    t.keys('q');
    const summary = await until(t, 'the summary and exit', (s) => (s.includes('exited 0') ? s : undefined));
    expect(summary).toContainEqual(
      expect.stringMatching(/^ktrace run stopped · bpftrace \S+ · restarts 0 · ran \d+s$/),
    );
    expect(summary).toContainEqual(expect.stringMatching(/^@ticks \(count\) · 3 keys · total \d+/));
  });
});
