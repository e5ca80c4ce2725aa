// Panels shared by several dashboards: a bpftrace histogram, counter or gauge map, and the agent's own health.

import { RATE, SEL } from './model.ts';
import type { LayoutItem, PanelSpec } from './model.ts';

/** Heatmap, p50/p99 and events/s of a bpftrace hist()/lhist() map exported as `${metric}_bucket` + `_count`. */
export function histogramPanels(options: { metric: string; what: string; unit: string; by?: string }): PanelSpec[] {
  const { metric, what, unit } = options;
  const buckets = `rate(${metric}_bucket{${SEL}}${RATE})`;
  const panels: PanelSpec[] = [
    {
      type: 'heatmap',
      title: `${what}: distribution`,
      description: `How many ${what} samples per second fell in each bucket of the bpftrace histogram (${metric}).`,
      queries: [{ expr: `sum by (le) (${buckets})`, legend: '{{le}}', format: 'heatmap' }],
      unit,
      width: 12,
      height: 9,
    },
    {
      type: 'timeseries',
      title: `${what}: p50 and p99`,
      description:
        'Quantiles interpolated inside power-of-two buckets by histogram_quantile: good for trends, not exact values.',
      queries: [
        { expr: `histogram_quantile(0.5, sum by (le) (${buckets}))`, legend: 'p50' },
        { expr: `histogram_quantile(0.99, sum by (le) (${buckets}))`, legend: 'p99' },
      ],
      unit,
      width: 12,
      height: 9,
    },
  ];
  if (options.by !== undefined) {
    const by = options.by;
    panels.push(
      {
        type: 'timeseries',
        title: `${what}: p99 by ${by} (top 10 by rate)`,
        description: `The p99 of each ${by} among the 10 with the most samples per second.`,
        queries: [
          {
            expr:
              `histogram_quantile(0.99, sum by (${by}, le) (${buckets})) and on (${by}) ` +
              `topk(10, sum by (${by}) (rate(${metric}_count{${SEL}}${RATE})))`,
            legend: `{{${by}}}`,
          },
        ],
        unit,
        width: 12,
        height: 9,
      },
      {
        type: 'bargauge',
        title: `${what}: samples per second by ${by} (top 10)`,
        description: `Which ${by} produce the most ${what} samples right now.`,
        queries: [
          {
            expr: `topk(10, sum by (${by}) (rate(${metric}_count{${SEL}}${RATE})))`,
            legend: `{{${by}}}`,
            instant: true,
          },
        ],
        unit: 'ops',
        width: 12,
        height: 9,
      },
    );
  } else {
    panels.push({
      type: 'timeseries',
      title: `${what}: samples per second`,
      description: `Events recorded in ${metric} per second (the rate of its _count).`,
      queries: [{ expr: `sum by (instance) (rate(${metric}_count{${SEL}}${RATE}))`, legend: '{{instance}}' }],
      unit: 'ops',
      width: 24,
      height: 7,
    });
  }
  return panels;
}

/** Top-k over time and as a table of a bpftrace count()/sum() map exported as `${metric}` (ends in _total). */
export function counterPanels(options: { metric: string; what: string; by: string; unit: string }): PanelSpec[] {
  const { metric, what, by, unit } = options;
  const top = `topk(10, sum by (${by}) (rate(${metric}{${SEL}}${RATE})))`;
  return [
    {
      type: 'timeseries',
      title: `${what} per second by ${by} (top 10)`,
      description: `The 10 ${by} values with the highest rate of ${metric}.`,
      queries: [{ expr: top, legend: `{{${by}}}` }],
      unit,
      width: 16,
      height: 9,
    },
    {
      type: 'table',
      title: `${what}: top 10 ${by} now`,
      description: `The same top 10 as a table, at the end of the time range.`,
      queries: [{ expr: top, legend: `{{${by}}}`, instant: true, format: 'table' }],
      unit,
      width: 8,
      height: 9,
    },
  ];
}

/** Top-k over time and now of a bpftrace min()/max()/avg() map (or a stats() _average), exported as a gauge. */
export function gaugePanels(options: { metric: string; what: string; by: string }): PanelSpec[] {
  const { metric, what, by } = options;
  const top = `topk(10, max by (${by}) (${metric}{${SEL}}))`;
  return [
    {
      type: 'timeseries',
      title: `${what} by ${by} (top 10)`,
      description: `The 10 ${by} values with the highest ${metric} (the largest over the selected hosts).`,
      queries: [{ expr: top, legend: `{{${by}}}` }],
      width: 16,
      height: 9,
    },
    {
      type: 'bargauge',
      title: `${what}: top 10 ${by} now`,
      description: 'The same top 10 at the end of the time range.',
      queries: [{ expr: top, legend: `{{${by}}}`, instant: true }],
      width: 8,
      height: 9,
    },
  ];
}

export function agentHealthPanels(): LayoutItem[] {
  return [
    { row: 'Agent health' },
    {
      type: 'stat',
      title: 'bpftrace running',
      description: 'ktrace_up: 1 when bpftrace runs and ktrace reads its output, 0 otherwise (alert KtraceAgentDown).',
      queries: [{ expr: `ktrace_up{${SEL}}`, legend: '{{instance}}', instant: true }],
      unit: 'bool_on_off',
      width: 6,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Attached probes',
      description: 'How many probes bpftrace attached: 0 or fewer than the program has means probes are missing.',
      queries: [{ expr: `ktrace_attached_probes{${SEL}}`, legend: '{{instance}}', instant: true }],
      width: 6,
      height: 5,
    },
    {
      type: 'stat',
      title: 'bpftrace restarts in range',
      description: 'Restarts of bpftrace by ktrace over the dashboard range (alert KtraceBpftraceRestarting).',
      queries: [
        {
          expr: `sum by (instance) (increase(ktrace_bpftrace_restarts_total{${SEL}}[$__range]))`,
          legend: '{{instance}}',
          instant: true,
        },
      ],
      width: 6,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Series exported',
      description: 'Series ktrace currently exports, all maps together (ktrace_series).',
      queries: [{ expr: `sum by (instance) (ktrace_series{${SEL}})`, legend: '{{instance}}', instant: true }],
      width: 6,
      height: 5,
    },
    {
      type: 'timeseries',
      title: 'Lost events, parse problems and runtime errors per second',
      description:
        'Lost events (perf buffer overflow), lines ktrace could not parse, and bpftrace runtime errors: all should be 0.',
      queries: [
        {
          expr: `sum by (instance) (rate(ktrace_lost_events_total{${SEL}}${RATE}))`,
          legend: 'lost events {{instance}}',
        },
        {
          expr: `sum by (instance) (rate(ktrace_parse_problems_total{${SEL}}${RATE}))`,
          legend: 'parse problems {{instance}}',
        },
        {
          expr: `sum by (instance) (rate(ktrace_runtime_errors_total{${SEL}}${RATE}))`,
          legend: 'runtime errors {{instance}}',
        },
      ],
      unit: 'ops',
      width: 12,
      height: 8,
    },
    {
      type: 'timeseries',
      title: 'Series per map',
      description:
        'Series exported per bpftrace map (ktrace_series{map}), and keys folded into its overflow series now (ktrace_series_folded{map}).',
      queries: [
        { expr: `sum by (map) (ktrace_series{${SEL}})`, legend: '{{map}}' },
        { expr: `sum by (map) (ktrace_series_folded{${SEL}})`, legend: 'folded into overflow {{map}}' },
      ],
      width: 12,
      height: 8,
    },
    {
      type: 'timeseries',
      title: 'Series overflowed and expired per second, by map',
      description:
        'Overflowed: new keys folded into the otel_metric_overflow="true" series because a map hit its series limit (alert KtraceSeriesOverflow). Expired: series removed after their key stopped appearing.',
      queries: [
        { expr: `sum by (map) (rate(ktrace_series_overflowed_total{${SEL}}${RATE}))`, legend: 'overflowed {{map}}' },
        { expr: `sum by (map) (rate(ktrace_series_expired_total{${SEL}}${RATE}))`, legend: 'expired {{map}}' },
      ],
      unit: 'ops',
      width: 8,
      height: 8,
    },
    {
      type: 'timeseries',
      title: 'Map dumps per second',
      description: 'How often each map is printed by bpftrace and read by ktrace (ktrace_dumps_total).',
      queries: [{ expr: `sum by (map) (rate(ktrace_dumps_total{${SEL}}${RATE}))`, legend: '{{map}}' }],
      unit: 'ops',
      width: 8,
      height: 8,
    },
    {
      type: 'timeseries',
      title: 'Age of the last dump, by map',
      description: 'Seconds since ktrace last read each map: growing far past the interval means the data is stale.',
      queries: [{ expr: `max by (map) (ktrace_dump_age_seconds{${SEL}})`, legend: '{{map}}' }],
      unit: 's',
      width: 8,
      height: 8,
    },
  ];
}
