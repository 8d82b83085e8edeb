import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Relative imports: these are collector internals, not its public surface.
import { insertSeed, seedTraffic } from '../collector/src/demo/seed.js';
import { openClickHouse, queryRows } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DASHBOARDS, DATASOURCE, type Dashboard } from '../grafana/dashboards.js';
import { renderDashboard } from '../grafana/generate.js';
import {
  applyConditionalAll,
  expandPanelSql,
  interpolateMacros,
  replaceVariables,
  type QueryContext,
  type TemplateVariable,
} from '../grafana/macros.js';

type ClickHouseClient = Awaited<ReturnType<typeof openClickHouse>>;

const root = join(import.meta.dirname, '..');
const grafanaDir = join(root, 'grafana');
const NOW = new Date();
const CTX: QueryContext = { from: new Date(NOW.getTime() - 6 * 3_600_000), to: NOW, intervalMs: 60_000 };

describe('grafana-clickhouse-datasource macro expansion (reproduced)', () => {
  const ctx: QueryContext = {
    from: new Date('2026-01-02T03:04:05.678Z'),
    to: new Date('2026-01-02T09:04:05.678Z'),
    intervalMs: 30_500,
  };
  it('expands the plugin macros like pkg/macros does', () => {
    expect(interpolateMacros('WHERE $__timeFilter(Minute)', ctx)).toBe(
      'WHERE Minute >= toDateTime(1767323045) AND Minute <= toDateTime(1767344645)',
    );
    expect(interpolateMacros('$__timeFilter_ms(T)', ctx)).toBe(
      'T >= fromUnixTimestamp64Milli(1767323045678) AND T <= fromUnixTimestamp64Milli(1767344645678)',
    );
    expect(interpolateMacros('$__timeInterval(T)', ctx)).toBe(
      'toStartOfInterval(toDateTime(T), INTERVAL 30 second)',
    );
    expect(interpolateMacros('$__timeInterval_ms(T)', ctx)).toBe(
      'toStartOfInterval(toDateTime64(T, 3), INTERVAL 30500 millisecond)',
    );
    expect(interpolateMacros('x / ($__interval_s)', ctx)).toBe('x / (30)');
    expect(interpolateMacros('$__dateTimeFilter(D, T)', ctx)).toBe(
      "(D >= toDate('2026-01-02') AND D <= toDate('2026-01-02')) AND (T >= toDateTime(1767323045) AND T <= toDateTime(1767344645))",
    );
    expect(interpolateMacros('($__fromTime, $__toTime_ms)', ctx)).toBe(
      '(toDateTime(1767323045), fromUnixTimestamp64Milli(1767344645678))',
    );
  });

  it('reproduces the SDK scanner swallowing text after an argument-less macro followed by "("', () => {
    // Why dashboards.ts wraps $__interval_s in parentheses.
    expect(interpolateMacros('sum(x) / $__interval_s AS r FROM t WHERE f(y)', ctx)).toBe('sum(x) / 30');
  });

  it('drops $__conditionalAll for All and empty values, keeps the condition otherwise', () => {
    const sql =
      "WHERE $__conditionalAll(Model IN (${model:singlequote}), $model) AND $__conditionalAll(S = '$s', $s)";
    expect(
      applyConditionalAll(sql, [
        { name: 'model', value: ['$__all'] },
        { name: 's', value: '' },
      ]),
    ).toBe('WHERE 1=1 AND 1=1');
    const vars: TemplateVariable[] = [
      { name: 'model', value: ['a', "o'b"] },
      { name: 's', value: 'x' },
    ];
    expect(replaceVariables(applyConditionalAll(sql, vars), vars)).toBe(
      "WHERE Model IN ('a','o\\'b') AND S = 'x'",
    );
    // Without a format, arrays get the plugin's own quoting and single values go in raw.
    expect(
      replaceVariables('IN ($m) = $p', [
        { name: 'm', value: ['a', 'b'] },
        { name: 'p', value: 'x' },
      ]),
    ).toBe("IN ('a','b') = x");
  });
});

describe('provisioning files', () => {
  it('provisions the ClickHouse data source over HTTP and native protocol with a fixed uid', () => {
    const doc = parseYaml(
      readFileSync(join(grafanaDir, 'provisioning/datasources/clickhouse.yaml'), 'utf8'),
    ) as {
      apiVersion: number;
      datasources: { uid: string; type: string; jsonData: { protocol: string; port: number } }[];
    };
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources.map((d) => [d.uid, d.type, d.jsonData.protocol, d.jsonData.port])).toEqual([
      [DATASOURCE.uid, DATASOURCE.type, 'http', 8123],
      ['llmwatch-clickhouse-native', DATASOURCE.type, 'native', 9000],
    ]);
  });

  it('points the dashboard provider at the directory compose mounts the JSON files into', () => {
    const doc = parseYaml(
      readFileSync(join(grafanaDir, 'provisioning/dashboards/llmwatch.yaml'), 'utf8'),
    ) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0]!.type).toBe('file');
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./grafana/dashboards:${doc.providers[0]!.options.path}`);
  });

  it('has a webhook contact point and latency p95 and cost-per-hour alert rules on the data source', () => {
    const doc = parseYaml(readFileSync(join(grafanaDir, 'provisioning/alerting/llmwatch.yaml'), 'utf8')) as {
      contactPoints: { receivers: { type: string; settings: { url: string } }[] }[];
      policies: { receiver: string }[];
      groups: {
        rules: { uid: string; condition: string; data: { refId: string; datasourceUid: string }[] }[];
      }[];
    };
    expect(doc.contactPoints[0]!.receivers[0]!.type).toBe('webhook');
    expect(doc.policies[0]!.receiver).toBe('llmwatch-webhook');
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.uid)).toEqual(
      expect.arrayContaining(['llmwatch-latency-p95', 'llmwatch-cost-per-hour']),
    );
    for (const rule of rules) {
      expect(rule.data.map((d) => d.refId)).toContain(rule.condition);
      expect(rule.data[0]!.datasourceUid).toBe(DATASOURCE.uid);
    }
  });
});

describe('dashboard JSON', () => {
  const files = readdirSync(join(grafanaDir, 'dashboards')).filter((f) => f.endsWith('.json'));

  it('are generated from grafana/dashboards.ts (run: node --import tsx grafana/generate.ts)', async () => {
    expect(files.sort()).toEqual(
      Object.keys(DASHBOARDS)
        .map((n) => `${n}.json`)
        .sort(),
    );
    for (const name of Object.keys(DASHBOARDS))
      expect(readFileSync(join(grafanaDir, 'dashboards', `${name}.json`), 'utf8')).toBe(
        await renderDashboard(name),
      );
  });

  it.each(files)('%s is a well-formed dashboard', (file) => {
    const d = JSON.parse(readFileSync(join(grafanaDir, 'dashboards', file), 'utf8')) as Dashboard;
    expect(d.uid).toMatch(/^llmwatch-[a-z-]+$/);
    expect(d.uid.length).toBeLessThanOrEqual(40);
    expect(d.title).toMatch(/^llmwatch \/ /);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const names = d.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['project', 'service', 'model', 'prompt']));
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.datasource).toEqual(DATASOURCE);
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        expect(t.datasource).toEqual(DATASOURCE);
        expect(t.rawSql.trim().length).toBeGreaterThan(0);
        // Every variable a query uses is defined on the dashboard.
        for (const m of t.rawSql.matchAll(/\$\{?([a-z_]+)/g))
          if (!m[1]!.startsWith('__')) expect(names, `${p.title}: $${m[1]}`).toContain(m[1]);
      }
    }
    // No two panels overlap.
    const cells = new Set<string>();
    for (const p of d.panels)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const key = `${x},${y}`;
          expect(cells.has(key), `${p.title} overlaps at ${key}`).toBe(false);
          cells.add(key);
        }
  });
});

describe('every panel of every dashboard runs against the schema with realistic traffic', () => {
  let dir: string;
  let client: ClickHouseClient;
  /** A trace of each project, for the trace view's textbox variable. */
  const traceIds = new Map<string, string>();
  const traceOf = (project: string) => traceIds.get(project)!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-grafana-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    const rows = seedTraffic({ now: NOW, hours: 6, callsPerHour: 400, projects: ['default', 'other'] });
    await insertSeed(client, rows);
    for (const row of rows.llmCalls) traceIds.set(String(row.ProjectId), String(row.TraceId));
  });
  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return await queryRows<Record<string, unknown>>(client, sql);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- SQL ---\n${sql}`, { cause: error });
    }
  }

  /** Variable values per scenario, resolved from the variables' own queries like Grafana does. */
  async function scenarios(d: Dashboard): Promise<[string, TemplateVariable[]][]> {
    const variables = d.templating.list;
    const options = new Map<string, string[]>();
    const base: TemplateVariable[] = [
      { name: 'project', value: 'default' },
      { name: 'service', value: ['$__all'] },
      { name: 'model', value: ['$__all'] },
      { name: 'prompt', value: ['$__all'] },
      { name: 'trace_id', value: traceOf('default') },
    ];
    for (const v of variables) {
      if (v.type !== 'query') continue;
      const query = v.query as { rawSql: string };
      const rows = await run(expandPanelSql(query.rawSql, base, CTX));
      const values = rows.map((r) => String(Object.values(r)[0]));
      expect(values.length, `variable ${String(v.name)} has options`).toBeGreaterThan(0);
      options.set(String(v.name), values);
    }
    expect(options.get('project')).toEqual(['default', 'other']);
    expect(options.get('model')).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini']);
    const withOptions = (vars: TemplateVariable[]) =>
      vars.map((v) => ({ ...v, options: options.get(v.name) }));
    const set = (over: Record<string, string | string[]>) =>
      withOptions(base.map((v) => (v.name in over ? { ...v, value: over[v.name]! } : v)));
    return [
      ['All', set({})],
      ['single', set({ service: ['support-bot'], model: ['gpt-4o'], prompt: ['answer'] })],
      [
        'multi',
        set({
          project: 'other',
          trace_id: traceOf('other'),
          model: ['gpt-4o', 'claude-sonnet-4-5'],
          prompt: ['answer', 'classify'],
        }),
      ],
    ];
  }

  for (const [name, dashboard] of Object.entries(DASHBOARDS)) {
    it(`${name}: every panel returns rows for All, single and multi selections`, async () => {
      const cases = await scenarios(dashboard);
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          for (const [scenario, vars] of cases) {
            const sql = expandPanelSql(target.rawSql, vars, CTX);
            expect(sql, `${panel.title}: unexpanded macro`).not.toMatch(/\$__|\$\{|\$[a-z]/);
            const rows = await run(sql);
            expect(
              rows.length,
              `${dashboard.title} / ${panel.title} [${scenario}] returned no rows`,
            ).toBeGreaterThan(0);
            const values = Object.values(rows[0]!);
            expect(
              values.some((v) => v !== null && v !== 0 && v !== '0'),
              `${panel.title} [${scenario}] all zero`,
            ).toBe(true);
            // Time series: `time` first, then labels and numbers only; tables: no nested values.
            // (Arrays or tuples next to a time column break the plugin's long-to-wide conversion.)
            if (target.format !== 3)
              for (const [column, value] of Object.entries(rows[0]!))
                expect(
                  typeof value === 'object' && value !== null,
                  `${panel.title}: ${column} is nested`,
                ).toBe(false);
            if (target.format === 0) expect(Object.keys(rows[0]!)[0], panel.title).toBe('time');
          }
        }
      }
    });
  }

  it('annotation queries (firing detections) return time, timeEnd, text and tags', async () => {
    for (const d of Object.values(DASHBOARDS)) {
      const cases = await scenarios(d);
      const annotations = d.annotations.list.filter(
        (a) => (a.target as { rawSql?: string } | undefined)?.rawSql,
      );
      expect(annotations.length, d.title).toBe(1);
      for (const a of annotations)
        for (const [, vars] of cases) {
          const rows = await run(expandPanelSql((a.target as { rawSql: string }).rawSql, vars, CTX));
          expect(rows.length, d.title).toBeGreaterThan(0);
          expect(Object.keys(rows[0]!)).toEqual(['time', 'timeEnd', 'text', 'tags']);
        }
    }
  });

  it('filters exactly: the Calls stat for one service, model and prompt equals a count of the raw calls', async () => {
    const panel = DASHBOARDS.overview!.panels.find((p) => p.title === 'Calls')!;
    const [, single] = (await scenarios(DASHBOARDS.overview!))[1]!;
    const [row] = await run(expandPanelSql(panel.targets[0]!.rawSql, single, CTX));
    const [expected] = await run(
      interpolateMacros(
        `SELECT count() AS c FROM llm_calls WHERE ProjectId = 'default' AND ServiceName = 'support-bot'
         AND Model = 'gpt-4o' AND PromptName = 'answer' AND toStartOfMinute(Timestamp) >= ($__fromTime)
         AND toStartOfMinute(Timestamp) <= $__toTime`,
        CTX,
      ),
    );
    expect(Number(row!.calls)).toBe(Number(expected!.c));
    expect(Number(row!.calls)).toBeGreaterThan(10);
  });

  it('the trace view query returns every span of the trace with the columns Grafana expects', async () => {
    const panel = DASHBOARDS.traces!.panels.find((p) => p.type === 'traces')!;
    const rows = await run(
      expandPanelSql(
        panel.targets[0]!.rawSql,
        [
          { name: 'project', value: 'default' },
          { name: 'trace_id', value: traceOf('default') },
        ],
        CTX,
      ),
    );
    expect(rows).toHaveLength(2);
    // The LLM span's messages come from its llm_calls row (stored once there), with its other tags.
    const messages = JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] },
    ]);
    await client.command({
      query: `ALTER TABLE llm_calls UPDATE InputContent = {m:String} WHERE SpanId = {s:String}`,
      query_params: { m: messages, s: rows[1]!.spanID },
      clickhouse_settings: { mutations_sync: '2' },
    });
    const [, llm] = await run(
      expandPanelSql(
        panel.targets[0]!.rawSql,
        [
          { name: 'project', value: 'default' },
          { name: 'trace_id', value: traceOf('default') },
        ],
        CTX,
      ),
    );
    const tags = llm!.tags as { key: string; value: string }[];
    expect(tags).toContainEqual({ key: 'gen_ai.input.messages', value: messages });
    expect(tags).toContainEqual(expect.objectContaining({ key: 'gen_ai.request.model' }));
    expect(tags.some((t) => t.key === 'gen_ai.output.messages')).toBe(false);
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining([
        'traceID',
        'spanID',
        'parentSpanID',
        'serviceName',
        'operationName',
        'startTime',
        'duration',
        'tags',
      ]),
    );
    expect(rows[0]!.parentSpanID).toBe('');
    expect(rows[1]!.parentSpanID).toBe(rows[0]!.spanID);
  });

  it('alert rule queries run and return one numeric value per series', async () => {
    const doc = parseYaml(readFileSync(join(grafanaDir, 'provisioning/alerting/llmwatch.yaml'), 'utf8')) as {
      groups: {
        rules: {
          uid: string;
          data: { relativeTimeRange?: { from: number }; model: { rawSql?: string } }[];
        }[];
      }[];
    };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      const query = rule.data[0]!;
      const ctx = {
        from: new Date(NOW.getTime() - query.relativeTimeRange!.from * 1000),
        to: NOW,
        intervalMs: 60_000,
      };
      const rows = await run(interpolateMacros(query.model.rawSql!, ctx));
      expect(rows.length, rule.uid).toBeGreaterThan(0);
      const numeric = Object.values(rows[0]!).filter((v) => typeof v === 'number');
      expect(numeric, rule.uid).toHaveLength(1);
    }
  });
});
