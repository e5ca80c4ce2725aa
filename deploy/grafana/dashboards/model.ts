// The Grafana dashboard model ktrace's dashboards are written in (panels, rows, queries, variables) and its
// rendering into Grafana's JSON: ids, grid positions and the job/instance variable wiring are decided here once.

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
/** The selector every query carries, so the job/instance variables filter every panel. */
export const SEL = 'job=~"$job", instance=~"$instance"';
export const RATE = '[$__rate_interval]';

export type PanelType = 'timeseries' | 'heatmap' | 'bargauge' | 'table' | 'stat';

export interface Query {
  expr: string;
  legend?: string;
  /** Instant queries for tables, bar gauges and stats of "now". */
  instant?: boolean;
  format?: 'time_series' | 'heatmap' | 'table';
}

export interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  width: number;
  height: number;
}

export interface RowSpec {
  row: string;
}

export type LayoutItem = PanelSpec | RowSpec;

export interface DashboardSpec {
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

export function queryVariable(options: {
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

export function dashboard(spec: DashboardSpec): object {
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
