// Property test over generated hostile bpftrace output (issue 7, "Done when"): seeded random maps with clashing
// names, keys of random bytes (undecodable ones included), odd values, in text or -f json (support/hostile-output.ts),
// cut into chunks at random points. Whatever the case, the exposition passes the real promtool (2.42, and 3 when
// present) and a real Prometheus scrape stores every sample; no two series share a label set; no counter decreases
// between dumps; and every printed increment is exported, or counted as skipped (ktrace_values_skipped_total).

import { existsSync } from 'node:fs';
import { createExporter } from '@ktrace/exporter';
import type { Exporter } from '@ktrace/exporter';
import { OutputParser } from '@ktrace/parser';
import { afterAll, describe, expect, it } from 'vitest';
import { counterTypes, isCounterSample, promtool, samples } from './support/exposition-text.js';
import { generate } from './support/hostile-output.js';
import { int, prng } from './support/prng.js';
import { startPrometheus } from './support/prometheus.js';
import type { RunningPrometheus } from './support/prometheus.js';

const PROMTOOLS = ['/usr/bin/promtool', '/var/cache/ktrace/bin/promtool-3'].filter(
  (path, i) => i === 0 || existsSync(path),
);
const CASES = 30;
/**
 * promtool's lint about the wording of a name the program chose: a map @h "contains an abbreviated unit", a gauge
 * @h_bucket "should not have a _bucket suffix". Valid text; any other lint fails the test.
 */
const NAME_LINT =
  /^\S+ (metric names should not contain abbreviated units|non-histogram( and non-summary)? metrics should not have "_(bucket|count|sum)" suffix)$/;

describe('hostile dumps (property, seeded, bounded)', () => {
  const served: Array<{ exporter: Exporter; host: string; lines: number }> = [];
  let prometheus: RunningPrometheus | undefined;

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(served.map((s) => s.exporter.shutdown()));
  });

  it(`${CASES} generated outputs: valid for promtool, distinct series, monotonic counters, every increment exported or counted`, async () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const g = generate(seed * 2654435761);
      const warnings: string[] = [];
      const exporter = createExporter({
        program: g.program,
        prefix: g.prefix,
        maxSeriesPerMap: g.maxSeriesPerMap,
        listen: '127.0.0.1:0',
        onWarning: (w) => warnings.push(w),
      });
      const parser = new OutputParser({ program: g.program, onEvent: (e) => exporter.handle(e) });
      const random = prng(seed);
      const where = `seed ${seed} (${g.format}, prefix "${g.prefix}", cap ${g.maxSeriesPerMap})`;
      let at = 0;
      let previous = new Map<string, number>();
      for (const end of g.dumpEnds) {
        // random split points inside the dump's bytes
        while (at < end) {
          const next = Math.min(end, at + 1 + int(random, 200));
          parser.write(g.bytes.subarray(at, next));
          at = next;
        }
        const text = await exporter.prometheusText();
        const types = counterTypes(text);
        const now = new Map<string, number>();
        for (const s of samples(text)) {
          const id = `${s.name}${s.labels}`;
          expect(now.has(id), `${where}: ${id} twice`).toBe(false);
          now.set(id, s.value);
          if (isCounterSample(types, s.name)) {
            expect(s.value >= 0 && Number.isFinite(s.value), `${where}: ${id} = ${s.value}`).toBe(true);
            expect(s.value, `${where}: ${id} went down`).toBeGreaterThanOrEqual(previous.get(id) ?? 0);
          }
        }
        previous = now;
      }
      parser.end();
      const text = await exporter.prometheusText();
      for (const bin of PROMTOOLS) {
        // exit 1 is a text the parser rejects; exit 3 only lint about names, which the program chose (@h, @s)
        const { code, output } = await promtool(bin, text);
        const lint = output.split('\n').filter((l) => l !== '' && !NAME_LINT.test(l));
        expect({ code: code === 3 && lint.length === 0 ? 0 : code, lint }, `${where}: ${bin}`).toEqual({
          code: 0,
          lint: [],
        });
      }
      const all = samples(text);
      const types = counterTypes(text);
      expect(new Set(types.keys()).size, where).toBe([...text.matchAll(/^# TYPE /gm)].length);
      for (const info of g.program.maps) {
        const state = [...exporter.store.mapStates()].find((s) => s.map === info.name);
        expect(state, `${where}: ${info.name} exported`).toBeDefined();
        if (state === undefined) continue;
        const name =
          state.shape === 'counter'
            ? state.metric.endsWith('_total')
              ? state.metric
              : `${state.metric}_total`
            : state.shape === 'histogram'
              ? `${state.metric}_count`
              : state.shape === 'stats'
                ? `${state.metric}_count_total`
                : state.metric;
        const mine = all.filter((s) => s.name === name);
        const skippedNow = all
          .filter((s) => s.name === 'ktrace_values_skipped_total' && s.labels.includes(`map="${info.name}"`))
          .reduce((sum, s) => sum + s.value, 0);
        expect(skippedNow, `${where}: ${info.name} skipped`).toBe(g.skipped.get(info.name) ?? 0);
        if (info.kind === 'max') continue;
        const total = mine.reduce((sum, s) => sum + s.value, 0);
        expect(total, `${where}: ${info.name} total`).toBe(g.expectedTotal.get(info.name) ?? 0);
        // distinct keys stay distinct: exported series plus keys folded past the cap
        const folded =
          all.find((s) => s.name === 'ktrace_series_folded' && s.labels.includes(`map="${info.name}"`))?.value ?? 0;
        const overflow = mine.some((s) => s.labels.includes('otel_metric_overflow')) ? 1 : 0;
        expect(mine.length - overflow + folded, `${where}: ${info.name} keys`).toBe(g.keys.get(info.name) ?? 0);
      }
      const { url } = await exporter.start();
      served.push({ exporter, host: new URL(url as string).host, lines: all.length });
    }

    // One real Prometheus scrapes every case's final exposition; each target's samples must all be stored.
    prometheus = await startPrometheus({ targets: served.map((s) => s.host), scrapeInterval: '1s' });
    const rows = await prometheus.waitFor(
      'scrape_samples_scraped',
      (r) => r.length === served.length && r.every((row) => row.value > 0),
      60_000,
    );
    const stored = await prometheus.waitFor(
      'count by (instance) ({job="ktrace", __name__!~"up|scrape_.*"})',
      (r) =>
        r.length === served.length &&
        served.every((s) => r.some((row) => row.metric['instance'] === s.host && row.value === s.lines)),
      60_000,
    );
    for (const s of served) {
      expect(rows.find((row) => row.metric['instance'] === s.host)?.value, s.host).toBe(s.lines);
      expect(stored.find((row) => row.metric['instance'] === s.host)?.value, s.host).toBe(s.lines);
    }
    const up = await prometheus.query('up{job="ktrace"}');
    expect(up.map((row) => row.value)).toEqual(served.map(() => 1));
  });
});
