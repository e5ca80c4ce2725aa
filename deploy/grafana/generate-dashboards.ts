// The source of the Grafana dashboards in deploy/grafana/*.json: one generic dashboard for any ktrace map and one
// per example program. Writing them as code keeps ids, grid positions and variable wiring consistent; the JSON
// files are committed so users import them without running anything. Regenerate with:
//   npx tsx deploy/grafana/generate-dashboards.ts

import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
/** The selector every query carries, so the job/instance variables filter every panel. */
const SEL = 'job=~"$job", instance=~"$instance"';
const RATE = '[$__rate_interval]';

type PanelType = 'timeseries' | 'heatmap' | 'bargauge' | 'table' | 'stat';

interface Query {
  expr: string;
  legend?: string;
  /** Instant queries for tables, bar gauges and stats of "now". */
  instant?: boolean;
  format?: 'time_series' | 'heatmap' | 'table';
}

interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  width: number;
  height: number;
}

interface RowSpec {
  row: string;
}

type LayoutItem = PanelSpec | RowSpec;

interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  file: string;
  extraVariables?: object[];
  items: LayoutItem[];
}

function isRow(item: LayoutItem): item is RowSpec {
  return 'row' in item;
}

function panelOptions(spec: PanelSpec): object {
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (spec.type) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'heatmap':
      return {
        calculate: false,
        cellGap: 1,
        color: { mode: 'scheme', scheme: 'Oranges', exponent: 0.5, fill: 'dark-orange', reverse: false, steps: 64 },
        yAxis: { axisPlacement: 'left', unit: spec.unit ?? 'short' },
        rowsFrame: { layout: 'auto' },
        tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
        legend: { show: true },
        exemplars: { color: 'rgba(255,0,255,0.7)' },
        filterValues: { le: 1e-9 },
      };
    case 'bargauge':
      return {
        orientation: 'horizontal',
        displayMode: 'gradient',
        showUnfilled: true,
        valueMode: 'color',
        namePlacement: 'left',
        reduceOptions: reduce,
      };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } };
    case 'stat':
      return {
        colorMode: 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
        reduceOptions: reduce,
      };
  }
}

function target(query: Query, index: number): object {
  const instant = query.instant ?? false;
  return {
    refId: String.fromCharCode(65 + index),
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: !instant,
    instant,
    format: query.format ?? 'time_series',
  };
}

function layout(items: LayoutItem[]): object[] {
  const panels: object[] = [];
  let id = 1;
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const item of items) {
    if (isRow(item)) {
      if (x > 0) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push({
        id: id++,
        type: 'row',
        title: item.row,
        collapsed: false,
        panels: [],
        gridPos: { x: 0, y, w: 24, h: 1 },
      });
      y += 1;
      continue;
    }
    if (x + item.width > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const fieldDefaults: Record<string, unknown> = { unit: item.unit ?? 'short' };
    if (item.type === 'stat' || item.type === 'bargauge') {
      fieldDefaults['color'] = { mode: 'thresholds' };
      fieldDefaults['thresholds'] = { mode: 'absolute', steps: [{ color: 'green', value: null }] };
    }
    if (item.type === 'timeseries') {
      fieldDefaults['custom'] = {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: 10,
        showPoints: 'never',
        spanNulls: false,
      };
    }
    if (item.type === 'table') {
      fieldDefaults['custom'] = { align: 'auto', cellOptions: { type: 'auto' } };
    }
    panels.push({
      id: id++,
      type: item.type,
      title: item.title,
      description: item.description,
      datasource: DATASOURCE,
      gridPos: { x, y, w: item.width, h: item.height },
      targets: item.queries.map(target),
      fieldConfig: { defaults: fieldDefaults, overrides: [] },
      options: panelOptions(item),
      ...(item.type === 'table'
        ? {
            transformations: [
              { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { Value: 'per second' } } },
            ],
          }
        : {}),
    });
    x += item.width;
    rowHeight = Math.max(rowHeight, item.height);
  }
  return panels;
}

function queryVariable(options: {
  name: string;
  label: string;
  query: string;
  regex?: string;
  multi: boolean;
  description: string;
}): object {
  return {
    name: options.name,
    label: options.label,
    description: options.description,
    type: 'query',
    datasource: DATASOURCE,
    definition: options.query,
    query: { query: options.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    regex: options.regex ?? '',
    refresh: 2,
    sort: 1,
    multi: options.multi,
    includeAll: options.multi,
    ...(options.multi ? { allValue: '.*', current: { selected: true, text: ['All'], value: ['$__all'] } } : {}),
    hide: 0,
    options: [],
  };
}

function dashboard(spec: DashboardSpec): object {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['ktrace', 'bpftrace'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [
      {
        title: 'ktrace dashboards',
        type: 'dashboards',
        tags: ['ktrace'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          regex: '',
          refresh: 1,
          hide: 0,
          current: {},
          options: [],
        },
        queryVariable({
          name: 'job',
          label: 'Job',
          query: 'label_values(ktrace_up, job)',
          multi: true,
          description: 'Scrape jobs that have ktrace agents.',
        }),
        queryVariable({
          name: 'instance',
          label: 'Instance',
          query: 'label_values(ktrace_up{job=~"$job"}, instance)',
          multi: true,
          description: 'ktrace agents (one per host).',
        }),
        ...(spec.extraVariables ?? []),
      ],
    },
    panels: layout(spec.items),
  };
}

// ---- panels shared by several dashboards ---------------------------------------------------------------

/** Heatmap, p50/p99 and events/s of a bpftrace hist()/lhist() map exported as `${metric}_bucket` + `_count`. */
function histogramPanels(options: { metric: string; what: string; unit: string; by?: string }): PanelSpec[] {
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
function counterPanels(options: { metric: string; what: string; by: string; unit: string }): PanelSpec[] {
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
function gaugePanels(options: { metric: string; what: string; by: string }): PanelSpec[] {
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

function agentHealthPanels(): LayoutItem[] {
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

// ---- the dashboards ---------------------------------------------------------------------------------------

const generic: DashboardSpec = {
  uid: 'ktrace-maps',
  title: 'ktrace / Any bpftrace map',
  file: 'ktrace-maps.json',
  description:
    'Any map of any bpftrace program run by ktrace: pick a histogram, a counter, a gauge and the key to group by; agent health below.',
  extraVariables: [
    queryVariable({
      name: 'histogram',
      label: 'Histogram',
      query: 'label_values({__name__=~"bpftrace_.+_bucket", job=~"$job"}, __name__)',
      regex: '/^(bpftrace_.+)_bucket$/',
      multi: false,
      description: 'A hist()/lhist() map, as its metric name without _bucket.',
    }),
    queryVariable({
      name: 'counter',
      label: 'Counter',
      query: 'label_values({__name__=~"bpftrace_.+_total", job=~"$job"}, __name__)',
      multi: false,
      description: 'A count()/sum() map (or the _count_total/_sum_total of a stats() map).',
    }),
    queryVariable({
      name: 'gauge',
      label: 'Gauge',
      // Everything that is not a counter (_total) or part of a histogram (_bucket, _count).
      query: 'label_values({__name__=~"bpftrace_.+", __name__!~".+_(total|bucket|count)", job=~"$job"}, __name__)',
      multi: false,
      description: 'A min()/max()/avg() map (or the _average of a stats() map).',
    }),
    {
      name: 'key',
      label: 'Group by',
      description: 'A key name of the counter and gauge maps, as written in the program (comm, pid, ...).',
      type: 'textbox',
      query: 'comm',
      current: { text: 'comm', value: 'comm' },
      hide: 0,
      options: [{ selected: true, text: 'comm', value: 'comm' }],
    },
  ],
  items: [
    { row: 'Histogram $histogram' },
    ...histogramPanels({ metric: '${histogram}', what: '$histogram', unit: 'short' }),
    { row: 'Counter $counter by $key' },
    ...counterPanels({ metric: '${counter}', what: '$counter', by: '${key}', unit: 'short' }),
    { row: 'Gauge $gauge by $key' },
    ...gaugePanels({ metric: '${gauge}', what: '$gauge', by: '${key}' }),
    ...agentHealthPanels(),
  ],
};

const syscalls: DashboardSpec = {
  uid: 'ktrace-syscalls',
  title: 'ktrace / Syscalls',
  file: 'ktrace-syscalls.json',
  description: 'examples/syscalls.bt: system calls per second by process name and their latency.',
  items: [
    {
      type: 'stat',
      title: 'Syscalls per second',
      description: 'All system calls on the selected hosts (@syscalls).',
      queries: [{ expr: `sum(rate(bpftrace_syscalls_total{${SEL}}${RATE}))`, legend: 'syscalls/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Syscall latency p99',
      description: 'p99 of the time spent in system calls, all processes (@syscall_latency_ns, exported in seconds).',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(bpftrace_syscall_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: 'p99',
        },
      ],
      unit: 's',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Processes making syscalls',
      description: 'Distinct process names seen making system calls in the last rate window.',
      queries: [{ expr: `count(sum by (comm) (rate(bpftrace_syscalls_total{${SEL}}${RATE}) > 0))`, legend: 'comms' }],
      width: 8,
      height: 5,
    },
    { row: 'Syscalls by process' },
    ...counterPanels({ metric: 'bpftrace_syscalls_total', what: 'Syscalls', by: 'comm', unit: 'ops' }),
    { row: 'Syscall latency' },
    ...histogramPanels({ metric: 'bpftrace_syscall_latency_seconds', what: 'Syscall latency', unit: 's', by: 'comm' }),
  ],
};

const runqueue: DashboardSpec = {
  uid: 'ktrace-runqueue',
  title: 'ktrace / Run-queue latency',
  file: 'ktrace-runqueue.json',
  description: 'examples/runqueue-latency.bt: how long woken tasks wait for a CPU (alert KtraceRunqueueLatencyHigh).',
  items: [
    {
      type: 'stat',
      title: 'Run-queue latency p99',
      description: 'p99 of the wait between wakeup and running, all CPUs.',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(bpftrace_runq_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: 'p99',
        },
      ],
      unit: 's',
      width: 12,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Wakeups per second',
      description: 'Tasks woken and scheduled per second (the rate of @runq_latency_us samples).',
      queries: [{ expr: `sum(rate(bpftrace_runq_latency_seconds_count{${SEL}}${RATE}))`, legend: 'wakeups/s' }],
      unit: 'ops',
      width: 12,
      height: 5,
    },
    { row: 'Run-queue latency' },
    ...histogramPanels({ metric: 'bpftrace_runq_latency_seconds', what: 'Run-queue latency', unit: 's' }),
    {
      type: 'timeseries',
      title: 'Run-queue latency p99 by host',
      description: 'p99 per host: the one to look at when the alert fires.',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (instance, le) (rate(bpftrace_runq_latency_seconds_bucket{${SEL}}${RATE})))`,
          legend: '{{instance}}',
        },
      ],
      unit: 's',
      width: 24,
      height: 8,
    },
  ],
};

const readWriteSizes: DashboardSpec = {
  uid: 'ktrace-read-write-sizes',
  title: 'ktrace / Read and write sizes',
  file: 'ktrace-read-write-sizes.json',
  description: 'examples/read-write-sizes.bt: distribution of read() and write() sizes by process name.',
  items: [
    { row: 'Reads' },
    ...histogramPanels({ metric: 'bpftrace_read_bytes', what: 'Read size', unit: 'bytes', by: 'comm' }),
    { row: 'Writes' },
    ...histogramPanels({ metric: 'bpftrace_write_bytes', what: 'Write size', unit: 'bytes', by: 'comm' }),
  ],
};

const fileOpens: DashboardSpec = {
  uid: 'ktrace-file-opens',
  title: 'ktrace / File opens',
  file: 'ktrace-file-opens.json',
  description: 'examples/file-opens.bt: files opened per second by process name, and failed opens.',
  items: [
    {
      type: 'stat',
      title: 'Opens per second',
      description: 'All open calls on the selected hosts (@opens).',
      queries: [{ expr: `sum(rate(bpftrace_opens_total{${SEL}}${RATE}))`, legend: 'opens/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Failed opens per second',
      description: 'Open calls that returned an error (@open_errors).',
      queries: [{ expr: `sum(rate(bpftrace_open_errors_total{${SEL}}${RATE}))`, legend: 'errors/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Share of opens that fail',
      description: 'Failed opens divided by all opens.',
      queries: [
        {
          expr: `sum(rate(bpftrace_open_errors_total{${SEL}}${RATE})) / sum(rate(bpftrace_opens_total{${SEL}}${RATE}))`,
          legend: 'failed share',
        },
      ],
      unit: 'percentunit',
      width: 8,
      height: 5,
    },
    { row: 'Opens' },
    ...counterPanels({ metric: 'bpftrace_opens_total', what: 'Opens', by: 'comm', unit: 'ops' }),
    { row: 'Failed opens' },
    ...counterPanels({ metric: 'bpftrace_open_errors_total', what: 'Failed opens', by: 'comm', unit: 'ops' }),
  ],
};

const blockIo: DashboardSpec = {
  uid: 'ktrace-block-io',
  title: 'ktrace / Block I/O',
  file: 'ktrace-block-io.json',
  description:
    'examples/block-io-latency.bt: block device request latency and bytes by process (alert KtraceBlockIOLatencyHigh).',
  items: [
    { row: 'Latency' },
    ...histogramPanels({ metric: 'bpftrace_block_io_latency_seconds', what: 'Block I/O latency', unit: 's' }),
    { row: 'Bytes by process' },
    ...counterPanels({ metric: 'bpftrace_block_io_bytes_total', what: 'Block I/O bytes', by: 'comm', unit: 'Bps' }),
  ],
};

const cpuProfile: DashboardSpec = {
  uid: 'ktrace-cpu-profile',
  title: 'ktrace / CPU profile',
  file: 'ktrace-cpu-profile.json',
  description: 'examples/cpu-profile.bt: timer samples of what runs on the CPUs, by process name.',
  items: [
    {
      type: 'bargauge',
      title: 'CPU samples per second by process (top 10)',
      description: 'Processes found on-CPU most often by the sampling timer (swapper is the idle task).',
      queries: [
        {
          expr: `topk(10, sum by (comm) (rate(bpftrace_cpu_samples_total{${SEL}}${RATE})))`,
          legend: '{{comm}}',
          instant: true,
        },
      ],
      unit: 'ops',
      width: 12,
      height: 9,
    },
    {
      type: 'timeseries',
      title: 'Share of CPU samples by process (top 10)',
      description: "Each process's share of all samples: a rough on-CPU share.",
      queries: [
        {
          expr:
            `topk(10, sum by (comm) (rate(bpftrace_cpu_samples_total{${SEL}}${RATE})) ` +
            `/ scalar(sum(rate(bpftrace_cpu_samples_total{${SEL}}${RATE}))))`,
          legend: '{{comm}}',
        },
      ],
      unit: 'percentunit',
      width: 12,
      height: 9,
    },
  ],
};

const tcpRetransmits: DashboardSpec = {
  uid: 'ktrace-tcp-retransmits',
  title: 'ktrace / TCP retransmits',
  file: 'ktrace-tcp-retransmits.json',
  description: 'examples/tcp-retransmits.bt: TCP segments retransmitted per second, by destination port.',
  items: [
    {
      type: 'stat',
      title: 'Retransmits per second',
      description:
        'All TCP retransmissions on the selected hosts (SYN retransmits included): loss, congestion or an unreachable peer.',
      queries: [{ expr: `sum(rate(bpftrace_tcp_retransmits_total{${SEL}}${RATE}))`, legend: 'retransmits/s' }],
      unit: 'ops',
      width: 8,
      height: 5,
    },
    {
      type: 'timeseries',
      title: 'Retransmits per second by host',
      description: 'Which hosts retransmit: one host points at its NIC or path, all of them at the network.',
      queries: [
        { expr: `sum by (instance) (rate(bpftrace_tcp_retransmits_total{${SEL}}${RATE}))`, legend: '{{instance}}' },
      ],
      unit: 'ops',
      width: 16,
      height: 5,
    },
    { row: 'By destination port' },
    ...counterPanels({ metric: 'bpftrace_tcp_retransmits_total', what: 'Retransmits', by: 'dport', unit: 'ops' }),
  ],
};

const bashReadline: DashboardSpec = {
  uid: 'ktrace-bash-readline',
  title: 'ktrace / Interactive bash commands',
  file: 'ktrace-bash-readline.json',
  description: 'examples/bash-readline.bt: command lines typed into interactive bash shells, by user id.',
  items: [
    {
      type: 'stat',
      title: 'Command lines per minute',
      description: 'Lines read by readline() in interactive bash shells on the selected hosts.',
      queries: [{ expr: `sum(rate(bpftrace_bash_readline_total{${SEL}}${RATE})) * 60`, legend: 'lines/min' }],
      width: 8,
      height: 5,
    },
    {
      type: 'stat',
      title: 'Users typing commands',
      description: 'Distinct user ids that entered command lines in the last rate window.',
      queries: [
        { expr: `count(sum by (uid) (rate(bpftrace_bash_readline_total{${SEL}}${RATE}) > 0))`, legend: 'users' },
      ],
      width: 16,
      height: 5,
    },
    { row: 'By user id' },
    ...counterPanels({ metric: 'bpftrace_bash_readline_total', what: 'Command lines', by: 'uid', unit: 'ops' }),
  ],
};

export const DASHBOARDS: DashboardSpec[] = [
  generic,
  syscalls,
  runqueue,
  readWriteSizes,
  fileOpens,
  blockIo,
  cpuProfile,
  tcpRetransmits,
  bashReadline,
];

/** The dashboards as the JSON text committed in deploy/grafana, by file name. */
export function renderDashboards(): Map<string, string> {
  return new Map(DASHBOARDS.map((spec) => [spec.file, `${JSON.stringify(dashboard(spec), null, 2)}\n`]));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const [file, text] of renderDashboards()) {
    await writeFile(join(dir, file), text);
    console.log(`wrote deploy/grafana/${file}`);
  }
}
