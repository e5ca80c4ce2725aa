// Prometheus text of one exported map, written the way OTel's PrometheusSerializer writes the producer's
// MetricData (withoutScopeInfo), so both renderers serve the same text; the store caches it per map.

import type { BucketLayout } from './histogram.js';
import { counterName } from './metric-names.js';
import { escapeHelp, escapeLabelValue, formatValue } from './names.js';
import type { Series } from './series.js';
import type { MapState } from './series-store.js';

export function labelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    out += `${i === 0 ? '' : ','}${names[i] as string}="${escapeLabelValue(values[i] as string)}"`;
  }
  return out;
}

function header(name: string, help: string, unit: string | undefined, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n${unit ? `# UNIT ${name} ${escapeHelp(unit)}\n` : ''}# TYPE ${name} ${type}\n`;
}

function seriesList(state: MapState): Series[] {
  const list = [...state.series.values()];
  if (state.overflow !== undefined) list.push(state.overflow);
  return list;
}

/** Renders one map the way OTel's PrometheusSerializer renders the producer's MetricData (withoutScopeInfo). */
export function renderMap(state: MapState): string {
  const all = seriesList(state);
  switch (state.shape) {
    case 'counter': {
      const name = counterName(state.metric);
      let out = header(name, state.help, state.unit, 'counter');
      for (const s of all) out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(s.total)}\n`;
      return out;
    }
    case 'gauge': {
      const name = state.metric;
      let out = header(name, state.help, state.unit, 'gauge');
      for (const s of all) out += `${name}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(s.gauge)}\n`;
      return out;
    }
    case 'stats': {
      const count = counterName(`${state.metric}_count`);
      const sum = counterName(`${state.metric}_sum`);
      const average = `${state.metric}_average`;
      let a = header(count, `${state.help} count`, undefined, 'counter');
      let b = header(sum, `${state.help} sum`, state.unit, 'counter');
      let c = header(average, `${state.help} average`, state.unit, 'gauge');
      for (const s of all) {
        const labels = s.labelText === '' ? '' : `{${s.labelText}}`;
        a += `${count}${labels} ${formatValue(s.total)}\n`;
        b += `${sum}${labels} ${formatValue(s.sumTotal)}\n`;
        c += `${average}${labels} ${formatValue(s.gauge)}\n`;
      }
      return a + b + c;
    }
    case 'histogram': {
      const layout = state.layout as BucketLayout;
      const length = layout.bounds.length + 1;
      const les = layout.bounds.map((bound) => `le="${formatValue(bound)}"`);
      les.push('le="+Inf"');
      const countName = `${state.metric}_count`;
      const bucketName = `${state.metric}_bucket`;
      let out = header(state.metric, state.help, state.unit, 'histogram');
      for (const s of all) {
        const counts = s.bucketCounts(length);
        let total = 0;
        for (let i = 0; i < length; i++) total += counts[i] as number;
        const labels = s.labelText === '' ? '' : `${s.labelText},`;
        out += `${countName}${s.labelText === '' ? '' : `{${s.labelText}}`} ${formatValue(total)}\n`;
        let cumulative = 0;
        for (let i = 0; i < length; i++) {
          cumulative += counts[i] as number;
          out += `${bucketName}{${labels}${les[i] as string}} ${formatValue(cumulative)}\n`;
        }
      }
      return out;
    }
  }
}
