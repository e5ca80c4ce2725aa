// The Grafana dashboards in deploy/grafana have the structure Grafana imports and are what the generator writes
// (deploy-dashboards-live.test.ts checks that every query returns data from a live ktrace run).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderDashboards } from '../deploy/grafana/generate-dashboards.ts';
import { EXAMPLE_OF, GENERIC, GRAFANA_DIR, isPanelWithQueries, loadDashboards } from './support/dashboards.js';
import type { Dashboard } from './support/dashboards.js';

describe('deploy/grafana dashboards: structure', () => {
  let dashboards = new Map<string, Dashboard>();

  beforeAll(async () => {
    dashboards = await loadDashboards();
  });

  it('are the files generate-dashboards.ts writes (regenerate with npx tsx deploy/grafana/generate-dashboards.ts)', async () => {
    const rendered = renderDashboards();
    expect([...dashboards.keys()]).toEqual([...rendered.keys()].sort());
    for (const [file, text] of rendered) {
      expect(await readFile(join(GRAFANA_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('include the generic dashboard and one per example program', () => {
    expect([...dashboards.keys()].sort()).toEqual([GENERIC, ...Object.keys(EXAMPLE_OF)].sort());
  });

  it('have what Grafana needs to import them', () => {
    const uids = new Set<string>();
    for (const [file, dashboard] of dashboards) {
      expect(dashboard.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(uids.has(dashboard.uid), `${file}: duplicate uid ${dashboard.uid}`).toBe(false);
      uids.add(dashboard.uid);
      expect(dashboard.title.length, file).toBeGreaterThan(0);
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(39);

      const variables = dashboard.templating.list;
      const datasource = variables.find((variable) => variable.name === 'datasource');
      expect(datasource?.type, `${file}: datasource variable`).toBe('datasource');
      expect(datasource?.query, `${file}: datasource variable`).toBe('prometheus');
      const names = new Set(variables.map((variable) => variable.name));

      const ids = new Set<number>();
      for (const panel of dashboard.panels) {
        const where = `${file} panel ${panel.id} "${panel.title}"`;
        expect(ids.has(panel.id), `${where}: duplicate id`).toBe(false);
        ids.add(panel.id);
        expect(['row', 'timeseries', 'heatmap', 'bargauge', 'table', 'stat'], where).toContain(panel.type);
        const grid = panel.gridPos;
        expect(grid, `${where}: gridPos`).toBeDefined();
        if (grid === undefined) continue;
        for (const key of ['x', 'y', 'w', 'h'] as const)
          expect(Number.isInteger(grid[key]), `${where}: gridPos.${key}`).toBe(true);
        expect(grid.x + grid.w, `${where}: wider than the 24-column grid`).toBeLessThanOrEqual(24);
        if (!isPanelWithQueries(panel)) continue;
        expect(panel.datasource, `${where}: datasource`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets?.length ?? 0, `${where}: targets`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.expr.trim().length, `${where}: empty expr`).toBeGreaterThan(0);
          // Every variable a query uses is defined (built-ins start with __).
          for (const match of target.expr.matchAll(/\$\{?(\w+)\}?/g)) {
            const name = match[1] ?? '';
            if (!name.startsWith('__')) expect(names.has(name), `${where}: undefined variable $${name}`).toBe(true);
          }
        }
      }
      // Panels do not overlap on the grid.
      const cells = new Set<string>();
      for (const panel of dashboard.panels) {
        const grid = panel.gridPos;
        if (grid === undefined) continue;
        for (let y = grid.y; y < grid.y + grid.h; y += 1) {
          for (let x = grid.x; x < grid.x + grid.w; x += 1) {
            const cell = `${x},${y}`;
            expect(cells.has(cell), `${file}: panel "${panel.title}" overlaps another at ${cell}`).toBe(false);
            cells.add(cell);
          }
        }
      }
    }
  });
});
