import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { chDateTime64, insertSeed, seedTraffic } from '../demo/seed.js';
import { silentLogger } from '../logging.js';
import { startCollector, type RunningCollector } from '../server/collector.js';
import type { ApiCallDetail } from './call-detail.js';
import type { CallMeasures, Group, SeriesPoint } from './series.js';
import type { TraceSpan } from './traces.js';

/** The read endpoints behind the web console, over seeded traffic of two projects. */
const KEYS = { shop: 'shop-key-123456', other: 'other-key-123456' } as const;
const now = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const rows = seedTraffic({ now, hours: 3, callsPerHour: 120, projects: ['shop', 'other'] });
const shopCalls = rows.llmCalls.filter((r) => r.ProjectId === 'shop');

/** A three-step trace in project shop: a root with two LLM children, one of them nested a level deeper. */
const TRACE = 'ab'.repeat(16);
function span(
  spanId: string,
  parent: string,
  name: string,
  startMs: number,
  durMs: number,
): Record<string, unknown> {
  return {
    ProjectId: 'shop',
    Timestamp: chDateTime64(startMs),
    TraceId: TRACE,
    SpanId: spanId,
    ParentSpanId: parent,
    SpanName: name,
    SpanKind: 'Internal',
    ServiceName: 'agent',
    Duration: Math.round(durMs * 1e6),
    StatusCode: 'Unset',
  };
}

describe('console API: overview, call, trace and alert detail', () => {
  let dir: string;
  let collector: RunningCollector;
  const get = async (path: string, key: string | null = KEYS.shop) => {
    const res = await fetch(
      `${collector.url}${path}`,
      key ? { headers: { authorization: `Bearer ${key}` } } : {},
    );
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-console-api-'));
    collector = await startCollector(
      parseConfig({
        server: { port: 0 },
        projects: [
          { id: 'shop', keys: [KEYS.shop] },
          { id: 'other', keys: [KEYS.other] },
        ],
        storage: { dataDir: join(dir, 'data') },
        detection: { enabled: false },
      }),
      { logger: silentLogger, drainTimeoutMs: 2_000 },
    );
    await insertSeed(collector.deps.clickhouse.ingest, rows);
    const t = now.getTime() - 600_000;
    await collector.deps.clickhouse.ingest.insert({
      table: 'otel_traces',
      format: 'JSONEachRow',
      values: [
        span('1000000000000001', '', 'POST /ask', t, 900),
        span('1000000000000002', '1000000000000001', 'retrieve', t + 10, 100),
        span('1000000000000003', '1000000000000001', 'chat gpt-4o', t + 120, 700),
        span('1000000000000004', '1000000000000003', 'tool search', t + 300, 50),
      ],
    });
    await collector.deps.clickhouse.ingest.insert({
      table: 'llm_calls',
      format: 'JSONEachRow',
      values: [
        {
          ...shopCalls[0],
          TraceId: TRACE,
          SpanId: '1000000000000003',
          ParentSpanId: '1000000000000001',
          Timestamp: chDateTime64(t + 120),
          CostUsd: 0.25,
          SystemContent: JSON.stringify([{ type: 'text', content: 'Be brief.' }]),
          InputContent: JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: 'mail [REDACTED:email]' }] },
          ]),
          OutputContent: JSON.stringify([
            {
              role: 'assistant',
              parts: [{ type: 'tool_call', id: 'c1', name: 'search', arguments: { q: 'x' } }],
            },
          ]),
          PiiTypes: ['email'],
          PiiCount: 1,
        },
      ],
    });
    await collector.deps.clickhouse.ingest.insert({
      table: 'pii_findings',
      format: 'JSONEachRow',
      values: [
        {
          ProjectId: 'shop',
          Timestamp: chDateTime64(t + 120),
          TraceId: TRACE,
          SpanId: '1000000000000003',
          Type: 'email',
          Place: 'input',
          Action: 'redact',
          Count: 1,
          ValueHash: 'ff',
        },
      ],
    });
  });
  afterAll(async () => {
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('overview totals equal the raw calls of the key project over the returned whole-minute range', async () => {
    const from = new Date(now.getTime() - 4 * 3_600_000 + 17_000).toISOString();
    const { status, body } = await get(`/api/overview?from=${from}&to=${now.toISOString()}&bucket=600`);
    expect(status).toBe(200);
    expect(body.project).toBe('shop');
    expect(body.from).toBe(new Date(now.getTime() - 4 * 3_600_000).toISOString());
    const inRange = [
      ...shopCalls,
      {
        CostUsd: 0.25,
        Status: 'ok',
        InputTokens: shopCalls[0]!.InputTokens,
        OutputTokens: shopCalls[0]!.OutputTokens,
      },
    ];
    const totals = body.totals as CallMeasures;
    expect(totals.calls).toBe(inRange.length);
    expect(totals.errors).toBe(inRange.filter((r) => r.Status === 'error').length);
    expect(totals.inputTokens).toBe(inRange.reduce((n, r) => n + Number(r.InputTokens), 0));
    expect(totals.costUsd).toBeCloseTo(
      inRange.reduce((n, r) => n + Number(r.CostUsd ?? 0), 0),
      6,
    );
    const points = body.series as SeriesPoint[];
    expect(points).toHaveLength(24);
    expect(points.reduce((n, p) => n + p.calls, 0)).toBe(totals.calls);
    const byModel = (body.groups as Record<string, Group[]>).model!;
    expect(byModel.map((g) => g.key).sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini']);
    expect(byModel.reduce((n, g) => n + g.calls, 0)).toBe(totals.calls);
    const byPrompt = (body.groups as Record<string, Group[]>).prompt!;
    expect(byPrompt[0]!.filter).toHaveProperty('promptVersion');

    const narrowed = await get(`/api/overview?from=${from}&to=${now.toISOString()}&model=gpt-4o&by=service`);
    expect((narrowed.body.totals as CallMeasures).calls).toBe(byModel.find((g) => g.key === 'gpt-4o')!.calls);
    const byUser = await get(`/api/overview?from=${from}&to=${now.toISOString()}&userId=u-1`);
    expect((byUser.body.totals as CallMeasures).calls).toBe(
      shopCalls.filter((r) => r.UserId === 'u-1').length,
    );
  });

  it('rejects bad overview parameters with 400 naming the field', async () => {
    expect((await get('/api/overview?by=colour')).status).toBe(400);
    expect((await get('/api/overview?bucket=90')).body).toMatchObject({ error: { message: /^bucket:/ } });
    expect((await get('/api/overview?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect(
      (await get('/api/overview?from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z&bucket=60')).status,
    ).toBe(400);
    expect((await get('/api/overview?x=1')).status).toBe(400);
    expect((await get('/api/overview', null)).status).toBe(401);
  });

  it('a call in detail: chat messages, PII findings; another project gets 404', async () => {
    const { status, body } = await get(`/api/calls/${TRACE}/1000000000000003`);
    expect(status).toBe(200);
    const call = body as unknown as ApiCallDetail;
    expect(call.messages.map((m) => [m.place, m.role])).toEqual([
      ['system', 'system'],
      ['input', 'user'],
      ['output', 'assistant'],
    ]);
    expect(call.messages[1]!.parts[0]!.content).toBe('mail [REDACTED:email]');
    expect(call.messages[2]!.parts[0]).toMatchObject({ type: 'tool_call', name: 'search' });
    expect(call.piiFindings).toEqual([{ type: 'email', place: 'input', action: 'redact', count: 1 }]);
    expect((await get(`/api/calls/${TRACE}/1000000000000003`, KEYS.other)).status).toBe(404);
    expect((await get(`/api/calls/${TRACE}/nothex`)).status).toBe(400);
  });

  it('/api/calls filters by content text (as stored, redacted), PII and provider', async () => {
    const range = `from=${new Date(now.getTime() - 4 * 3_600_000).toISOString()}&to=${now.toISOString()}`;
    const total = async (query: string, key: string = KEYS.shop) =>
      (await get(`/api/calls?${range}&limit=1&${query}`, key)).body.total;
    expect(await total('q=redacted:EMAIL')).toBe(1);
    expect(await total('q=redacted:email', KEYS.other)).toBe(0);
    expect(await total('q=nothing-like-this')).toBe(0);
    const withPii = shopCalls.filter((r) => (r.PiiCount as number) > 0).length + 1;
    expect(await total('pii=any')).toBe(withPii);
    expect(await total('pii=none')).toBe(shopCalls.length + 1 - withPii);
    expect(await total('pii=email')).toBe(
      shopCalls.filter((r) => (r.PiiTypes as string[]).includes('email')).length + 1,
    );
    // The trace's call copies the first seeded call, provider included.
    const anthropic = [...shopCalls, shopCalls[0]!].filter((r) => r.Provider === 'anthropic').length;
    expect(await total('provider=anthropic')).toBe(anthropic);
    expect((await get(`/api/calls?${range}&pii=E-MAIL`)).status).toBe(400);
  });

  it('a trace as a tree with depths, offsets and subtree cost; scoped to the project', async () => {
    const { status, body } = await get(`/api/traces/${TRACE}`);
    expect(status).toBe(200);
    const spans = body.spans as TraceSpan[];
    expect(spans.map((s) => [s.name, s.depth])).toEqual([
      ['POST /ask', 0],
      ['retrieve', 1],
      ['chat gpt-4o', 1],
      ['tool search', 2],
    ]);
    expect(spans[2]!.offsetMs).toBeCloseTo(120, 3);
    expect(spans[2]!.call).toMatchObject({ costUsd: 0.25 });
    expect(spans[0]!.subtreeCostUsd).toBeCloseTo(0.25, 9);
    expect(body.costUsd).toBeCloseTo(0.25, 9);
    expect((await get(`/api/traces/${TRACE}`, KEYS.other)).status).toBe(404);
  });

  it("an alert's detail: the detection, its state, history and a chart around the window", async () => {
    const list = await get('/api/alerts?status=firing');
    const alerts = list.body.alerts as Array<{ id: string; kind: string }>;
    const leak = alerts.find((a) => a.kind === 'pii_leak')!;
    const { status, body } = await get(`/api/alerts/${leak.id}`);
    expect(status).toBe(200);
    expect(body.alert).toMatchObject({ id: leak.id, kind: 'pii_leak' });
    expect(body.state).toMatchObject({ status: 'firing' });
    expect((body.history as unknown[]).length).toBeGreaterThan(0);
    const chart = body.chart as {
      metric: string;
      filter: Record<string, string>;
      points: { calls: number }[];
    };
    expect(chart.metric).toBe('piiCalls');
    expect(chart.filter).toEqual({ promptName: 'summarize' });
    expect(chart.points.reduce((n, p) => n + p.calls, 0)).toBeGreaterThan(0);
    expect((await get(`/api/alerts/${leak.id}`, KEYS.other)).status).toBe(404);
  });

  it('serves the console page and its assets without a key, with a strict CSP', async () => {
    const page = await fetch(`${collector.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('console/app.js');
    const script = await fetch(`${collector.url}/console/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${collector.url}/console/nope.js`)).status).toBe(404);
    expect((await fetch(`${collector.url}/console/..%2Fpackage.json`)).status).toBe(404);
  });
});
