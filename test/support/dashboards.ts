// The Grafana dashboards of deploy/grafana as the dashboard tests read them: their JSON shape, which example program
// feeds which dashboard, and loading them from disk.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './ktrace-process.js';

export const GRAFANA_DIR = join(ROOT, 'deploy', 'grafana');

export interface Target {
  refId: string;
  expr: string;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
export interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  regex?: string;
  datasource?: { type: string; uid: string };
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

/** Which example program feeds which dashboard. */
export const EXAMPLE_OF: Record<string, string> = {
  'ktrace-syscalls.json': 'syscalls.bt',
  'ktrace-runqueue.json': 'runqueue-latency.bt',
  'ktrace-read-write-sizes.json': 'read-write-sizes.bt',
  'ktrace-file-opens.json': 'file-opens.bt',
  'ktrace-block-io.json': 'block-io-latency.bt',
  'ktrace-cpu-profile.json': 'cpu-profile.bt',
  'ktrace-tcp-retransmits.json': 'tcp-retransmits.bt',
  'ktrace-bash-readline.json': 'bash-readline.bt',
};
export const GENERIC = 'ktrace-maps.json';

export function isPanelWithQueries(panel: Panel): boolean {
  return panel.type !== 'row';
}

export async function loadDashboards(): Promise<Map<string, Dashboard>> {
  const files = (await readdir(GRAFANA_DIR)).filter((name) => name.endsWith('.json')).sort();
  const out = new Map<string, Dashboard>();
  for (const file of files) out.set(file, JSON.parse(await readFile(join(GRAFANA_DIR, file), 'utf8')) as Dashboard);
  return out;
}
