// Prometheus text of one exported map, written the way OTel's PrometheusSerializer writes the producer's
// MetricData (withoutScopeInfo), so both renderers serve the same text; the store caches it per map. A map's text
// is a list of chunks of about CHUNK_LINES sample lines each: a map of a million histogram keys is hundreds of
// megabytes of text, near or past the longest string V8 can hold (512 MiB), and is served chunk by chunk, never joined.

import type { BucketLayout } from './histogram.js';
import { counterName } from './metric-names.js';
import { escapeHelp, escapeLabelValue, formatValue } from './names.js';
import type { Series } from './series.js';
import type { PlannedMetric } from './map-plan.js';
import type { MapState } from './map-state.js';
import { inBaseUnit } from './units.js';

export function labelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    out += `${i === 0 ? '' : ','}${names[i] as string}="${escapeLabelValue(values[i] as string)}"`;
  }
  return out;
}

/**
 * The label values written into `text` by labelText, unescaped, in order: the series keep only their label text,
 * and the OTel producer reads its attributes back from it (label names never hold `=` or `"`).
 */
export function labelValuesOf(text: string): string[] {
  const values: string[] = [];
  let at = text.indexOf('="');
  while (at >= 0) {
    let value = '';
    let i = at + 2;
    for (; i < text.length; i++) {
      const c = text[i] as string;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[++i];
        value += next === 'n' ? '\n' : (next ?? '');
      } else value += c;
    }
    values.push(value);
    at = text.indexOf('="', i + 1);
  }
  return values;
}

function header(name: string, help: string, unit: string | undefined, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n${unit ? `# UNIT ${name} ${escapeHelp(unit)}\n` : ''}# TYPE ${name} ${type}\n`;
}

function seriesList(state: MapState): Series[] {
  const list = [...state.series.values()];
  if (state.overflow !== undefined) list.push(state.overflow);
  return list;
}

/** Sample lines per chunk of rendered text (a histogram's key is never split): about a megabyte. */
export const CHUNK_LINES = 16_384;

/**
 * Renders one map the way OTel's PrometheusSerializer renders the producer's MetricData (withoutScopeInfo), as
 * chunks whose concatenation is the text.
 */
export function renderMap(state: MapState): string[] {
  const all = seriesList(state);
  const chunks: string[] = [];
  for (const metric of state.metrics) renderMetric(state, metric, all, chunks);
  return chunks;
}

/**
 * `text` (built by `+=`, a tree of pieces in V8) flattened once: reading a character makes V8 flatten the string in
 * place, so the cached chunk is copied to each scrape's socket (and joined) at memory speed, not re-walked each time.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** Appends `metric`'s text to `chunks`, a chunk per CHUNK_LINES lines or so (the header starts the first). */
function renderMetric(state: MapState, metric: PlannedMetric, all: readonly Series[], chunks: string[]): void {
  let out = '';
  let lines = 0;
  const wrote = (count: number): void => {
    lines += count;
    if (lines < CHUNK_LINES) return;
    chunks.push(flat(out));
    out = '';
    lines = 0;
  };
  switch (metric.type) {
    case 'counter': {
      const name = counterName(metric.name);
      const sums = metric.reads === 'sumTotal';
      const { divisor } = metric;
      out = header(name, metric.help, metric.prometheusUnit, 'counter');
      for (const s of all) {
        const value = inBaseUnit(sums ? s.sumTotal : s.total, divisor);
        out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(value)}\n`;
        wrote(1);
      }
      break;
    }
    case 'gauge': {
      const name = metric.name;
      const { divisor } = metric;
      out = header(name, metric.help, metric.prometheusUnit, 'gauge');
      for (const s of all) {
        out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(inBaseUnit(s.gauge, divisor))}\n`;
        wrote(1);
      }
      break;
    }
    case 'histogram': {
      const layout = state.layout as BucketLayout;
      const length = layout.bounds.length + 1;
      const les = layout.bounds.map((bound) => `le="${formatValue(inBaseUnit(bound, metric.divisor))}"`);
      les.push('le="+Inf"');
      const countName = `${metric.name}_count`;
      const bucketName = `${metric.name}_bucket`;
      out = header(metric.name, metric.help, metric.prometheusUnit, 'histogram');
      const counts = new Float64Array(length);
      for (const s of all) {
        s.bucketCounts(length, counts);
        let total = 0;
        for (let i = 0; i < length; i++) total += counts[i] as number;
        const labels = s.labelText === '' ? '' : `${s.labelText},`;
        out += `${countName}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(total)}\n`;
        let cumulative = 0;
        for (let i = 0; i < length; i++) {
          cumulative += counts[i] as number;
          out += `${bucketName}{${labels}${les[i] as string}} ${formatValue(cumulative)}\n`;
        }
        wrote(length + 1);
      }
      break;
    }
  }
  if (out !== '') chunks.push(flat(out));
}
