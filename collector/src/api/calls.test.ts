import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { startCollector, type RunningCollector } from '../server/collector.js';
import { openClickHouse, queryRows } from '../storage/clickhouse.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');

function row(project: string, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ProjectId: project,
    // Nanosecond ticks as a decimal string: timezone-independent.
    Timestamp: `${BigInt(T0 + i * 1000) * 1_000_000n}`,
    TraceId: i.toString(16).padStart(32, '0'),
    SpanId: i.toString(16).padStart(16, '0'),
    ServiceName: 'svc',
    Provider: 'openai',
    Operation: 'chat',
    Model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
    // A model filter matches the request model too: keep it the same model as Model here.
    RequestModel: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
    InputTokens: 10 + i,
    OutputTokens: 5,
    CostUsd: i === 3 ? null : 0.001 * i,
    LatencyMs: 100 + i,
    Status: i === 4 ? 'error' : 'ok',
    ErrorType: i === 4 ? 'RateLimitError' : '',
    PromptName: 'p',
    PromptVersion: '1',
    UserId: `u${i % 3}`,
    InputContent: `secret input ${i}`,
    ...extra,
  };
}

describe('GET /api/calls and POST /api/scores', () => {
  let dir: string;
  let collector: RunningCollector;
  let db: ClickHouseClient;
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  const range = `from=${new Date(T0 - 1000).toISOString()}&to=${new Date(T0 + 200_000).toISOString()}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-api-'));
    collector = await startCollector(
      parseConfig({
        server: { port: 0 },
        storage: { dataDir: join(dir, 'data') },
        projects: [
          { id: 'alpha', keys: ['alpha-key-123'] },
          { id: 'beta', keys: ['beta-key-4567'] },
        ],
      }),
    );
    db = await openClickHouse({ mode: 'embedded', dataDir: join(dir, 'data') }, 'admin');
    await db.insert({
      table: 'llm_calls',
      format: 'JSONEachRow',
      values: [
        ...Array.from({ length: 25 }, (_, i) => row('alpha', i)),
        row('beta', 100, { UserId: 'beta-user' }),
      ],
    });
  });

  afterAll(async () => {
    await db?.close();
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages through every call of the project exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await fetch(
        `${collector.url}/api/calls?${range}&limit=10${cursor ? `&cursor=${cursor}` : ''}`,
        {
          headers: auth('alpha-key-123'),
        },
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        calls: { spanId: string }[];
        total: number;
        nextCursor: string | null;
      };
      expect(body.total).toBe(25);
      seen.push(...body.calls.map((c) => c.spanId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => (24 - i).toString(16).padStart(16, '0')));
  });

  it('returns the docs/api.md fields with exact values and filters by model, user and status', async () => {
    const res = await fetch(`${collector.url}/api/calls?${range}&model=gpt-4o&status=ok&userId=u0`, {
      headers: auth('alpha-key-123'),
    });
    const body = (await res.json()) as { calls: Record<string, unknown>[]; total: number };
    // odd i (gpt-4o), i % 3 == 0 (u0), i != 4 (ok): 3, 9, 15, 21
    expect(body.total).toBe(4);
    expect(body.calls.map((c) => c.spanId)).toEqual(['15', '0f', '09', '03'].map((s) => s.padStart(16, '0')));
    expect(body.calls[3]).toMatchObject({
      traceId: '3'.padStart(32, '0'),
      time: '2026-11-20T10:00:03.000000Z',
      timeUnixNano: String(BigInt(T0 + 3000) * 1_000_000n),
      service: 'svc',
      provider: 'openai',
      model: 'gpt-4o',
      operation: 'chat',
      inputTokens: 13,
      outputTokens: 5,
      costUsd: null,
      latencyMs: 103,
      ttftMs: null,
      status: 'ok',
      errorType: '',
      promptName: 'p',
      promptVersion: '1',
      userId: 'u0',
      sessionId: '',
    });
    expect(body.calls[3]).not.toHaveProperty('inputContent');
  });

  it('includes content only when asked', async () => {
    const res = await fetch(`${collector.url}/api/calls?${range}&limit=1&include=content`, {
      headers: auth('alpha-key-123'),
    });
    const body = (await res.json()) as { calls: { inputContent: string }[] };
    expect(body.calls[0]?.inputContent).toBe('secret input 24');
  });

  it('never shows one project the calls of another', async () => {
    const res = await fetch(`${collector.url}/api/calls?${range}&userId=beta-user`, {
      headers: auth('alpha-key-123'),
    });
    expect(((await res.json()) as { total: number }).total).toBe(0);
    const beta = await fetch(`${collector.url}/api/calls?${range}`, { headers: auth('beta-key-4567') });
    const body = (await beta.json()) as { calls: { userId: string }[]; total: number };
    expect(body.total).toBe(1);
    expect(body.calls[0]?.userId).toBe('beta-user');
  });

  it.each([
    ['limit=0', /^limit: /],
    ['limit=abc', /^limit: /],
    ['from=yesterday', /^from: /],
    ['cursor=bm90LWEtY3Vyc29y', /^cursor: /],
    ['bogus=1', /bogus/],
    [
      `from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`,
      /^from: must not be after to/,
    ],
  ])('answers 400 with a message for bad query %s', async (query, message) => {
    const res = await fetch(`${collector.url}/api/calls?${query}`, { headers: auth('alpha-key-123') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('answers 401 without a valid key', async () => {
    expect((await fetch(`${collector.url}/api/calls`)).status).toBe(401);
    expect((await fetch(`${collector.url}/api/calls`, { headers: auth('wrong-key-000') })).status).toBe(401);
  });

  it('stores scores for the caller project and rejects bad ones with the field path', async () => {
    const traceId = 'ab'.repeat(16);
    const ok = await fetch(`${collector.url}/api/scores`, {
      method: 'POST',
      headers: { ...auth('beta-key-4567'), 'content-type': 'application/json' },
      body: JSON.stringify([
        { traceId, name: 'helpfulness', value: 0.8, source: 'eval' },
        { traceId, spanId: 'cd'.repeat(8), name: 'thumbs', value: 1, label: 'up', comment: 'great' },
      ]),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: 2 });
    const rows = await queryRows<{ ProjectId: string; Name: string; Value: number; Source: string }>(
      db,
      'SELECT ProjectId, Name, Value, Source FROM scores WHERE TraceId = {t:String} ORDER BY Name',
      { t: traceId },
    );
    expect(rows).toEqual([
      { ProjectId: 'beta', Name: 'helpfulness', Value: 0.8, Source: 'eval' },
      { ProjectId: 'beta', Name: 'thumbs', Value: 1, Source: 'api' },
    ]);

    const bad = await fetch(`${collector.url}/api/scores`, {
      method: 'POST',
      headers: { ...auth('beta-key-4567'), 'content-type': 'application/json' },
      body: JSON.stringify({ traceId: 'nothex', name: 'x', value: 1 }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/traceId/);
  });
});
