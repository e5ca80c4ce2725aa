// The source of the Grafana dashboards in deploy/grafana/*.json (the model in dashboards/model.ts, shared panels in
// dashboards/panels.ts, the dashboards in dashboards/specs.ts): one generic dashboard for any ktrace map and one
// per example program. Writing them as code keeps ids, grid positions and variable wiring consistent; the JSON
// files are committed so users import them without running anything. Regenerate with:
//   npx tsx deploy/grafana/generate-dashboards.ts

import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboard } from './dashboards/model.ts';
import { DASHBOARDS } from './dashboards/specs.ts';

export { DASHBOARDS };

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
