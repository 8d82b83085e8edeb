/**
 * Writes grafana/dashboards/<name>.json from grafana/dashboards.ts, formatted like the rest of
 * the repository. Run: node --import tsx grafana/generate.ts
 * (test/grafana.test.ts fails when the files and the source differ).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { DASHBOARDS } from './dashboards.js';

const here = dirname(fileURLToPath(import.meta.url));

export async function renderDashboard(name: string): Promise<string> {
  const dashboard = DASHBOARDS[name];
  if (!dashboard) throw new Error(`no dashboard ${name}`);
  const file = join(here, 'dashboards', `${name}.json`);
  const options = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(dashboard), { ...options, filepath: file });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of Object.keys(DASHBOARDS)) {
    writeFileSync(join(here, 'dashboards', `${name}.json`), await renderDashboard(name));
    console.log(`wrote grafana/dashboards/${name}.json`);
  }
}
