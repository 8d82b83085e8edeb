import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../clickhouse.js';
import { DEFAULT_RETENTION, MIGRATIONS, migrate, schemaStatements } from './index.js';

describe('migrations on embedded ClickHouse', () => {
  let dir: string;
  let client: ClickHouseClient;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-migrate-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  });
  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every migration once and is idempotent on re-run', async () => {
    expect(await migrate(client)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(client)).toEqual([]);
    const tables = await queryRows<{ name: string }>(
      client,
      'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'otel_traces',
        'otel_traces_trace_id_ts',
        'llm_calls',
        'llm_calls_1m',
        'pii_findings',
        'scores',
      ]),
    );
  });

  it('merges the per-span tables ten parts at a time (migration 10)', async () => {
    const rows = await queryRows<{ name: string; create: string }>(
      client,
      `SELECT name, create_table_query AS create FROM system.tables
       WHERE database = currentDatabase() AND name IN ('otel_traces', 'llm_calls', 'stored_spans') ORDER BY name`,
    );
    expect(rows.map((r) => r.name)).toEqual(['llm_calls', 'otel_traces', 'stored_spans']);
    for (const r of rows) expect(r.create, r.name).toContain('merge_selector_base = 10');
  });

  it('writes an insert of 10,000 calls as one compact part, not a wide one (migration 11)', async () => {
    // ~2.5 KB of content per call: ~25 MB uncompressed, past ClickHouse's 10 MiB default for wide parts.
    await client.command({
      query: `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, InputContent)
              SELECT 'compact', now64(9), hex(number), hex(number), repeat(toString(number), 400)
              FROM numbers(10000)`,
    });
    const parts = await queryRows<{ part_type: string; bytes: string }>(
      client,
      `SELECT part_type, toString(data_uncompressed_bytes) AS bytes FROM system.parts
       WHERE database = currentDatabase() AND table = 'llm_calls' AND active`,
    );
    expect(parts).toHaveLength(1);
    expect(Number(parts[0]?.bytes)).toBeGreaterThan(10 * 2 ** 20);
    expect(parts[0]?.part_type).toBe('Compact');
  });

  it('records a migration the server cannot run as applied, without running it', async () => {
    const ran: string[] = [];
    const unknownToServer = {
      version: 1_000,
      name: 'needs-a-newer-server',
      statements: () => ['ALTER TABLE llm_calls MODIFY SETTING no_such_setting = 1'],
      runsOn: () => {
        ran.push('asked');
        return Promise.resolve(false);
      },
    };
    expect(await migrate(client, undefined, [unknownToServer])).toEqual([1_000]);
    expect(ran).toEqual(['asked']);
    expect(await migrate(client, undefined, [unknownToServer])).toEqual([]);
  });

  it('stores a vector sent as float32 bytes, and one sent as itself, in the vector column (migration 12)', async () => {
    const bytes = Buffer.from(new Float32Array([0.5, -0.25]).buffer).toString('base64');
    await client.command({
      query: `INSERT INTO llm_calls (ProjectId, Timestamp, SpanId, InputSketchBase64, OutputEmbedding)
              VALUES ('m12', now64(9), 'a', '${bytes}', [1.5])`,
    });
    await client.insert({
      table: 'llm_calls',
      format: 'JSONEachRow',
      values: [
        {
          ProjectId: 'm12',
          Timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19),
          SpanId: 'b',
          InputSketch: [0.75],
        },
      ],
    });
    expect(
      await queryRows(
        client,
        `SELECT SpanId, InputSketch, OutputSketch, OutputEmbedding FROM llm_calls WHERE ProjectId = 'm12' ORDER BY SpanId`,
      ),
    ).toEqual([
      { SpanId: 'a', InputSketch: [0.5, -0.25], OutputSketch: [], OutputEmbedding: [1.5] },
      { SpanId: 'b', InputSketch: [0.75], OutputSketch: [], OutputEmbedding: [] },
    ]);
  });

  it('stops with the versions named when the server is older than a migration needs', async () => {
    const tooNew = {
      version: 1_001,
      name: 'needs-clickhouse-99',
      statements: () => ['SELECT 1'],
      minServerVersion: [99, 1] as const,
    };
    const [{ v: version } = { v: '' }] = await queryRows<{ v: string }>(client, 'SELECT version() AS v');
    await expect(migrate(client, undefined, [tooNew])).rejects.toThrow(
      `migration 1001 (needs-clickhouse-99) needs ClickHouse 99.1 or later; this server runs ${version}`,
    );
    expect(await migrate(client, undefined, [{ ...tooNew, minServerVersion: [25, 7] as const }])).toEqual([
      1_001,
    ]);
  });

  it('feeds the per-minute rollup from llm_calls through the materialized view', async () => {
    const base = {
      ProjectId: 'p1',
      ServiceName: 's',
      Provider: 'openai',
      Model: 'gpt-4o',
      PromptName: 'x',
      PromptVersion: '1',
      Status: 'ok',
    };
    await client.insert({
      table: 'llm_calls',
      format: 'JSONEachRow',
      values: [
        {
          ...base,
          Timestamp: '2026-01-01 00:00:10.000000000',
          InputTokens: 10,
          OutputTokens: 5,
          CostUsd: 0.5,
          LatencyMs: 100,
          TtftMs: 20,
        },
        {
          ...base,
          Timestamp: '2026-01-01 00:00:50.000000000',
          InputTokens: 20,
          OutputTokens: 7,
          CostUsd: null,
          LatencyMs: 300,
          TtftMs: null,
          Status: 'error',
        },
      ],
    });
    const [row] = await queryRows<Record<string, number | number[]>>(
      client,
      `SELECT sum(Calls) calls, sum(Errors) errors, sum(InputTokens) inTok, sum(CostUsd) cost, sum(UnpricedCalls) unpriced,
              quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(TtftQuantiles)[1] ttftP50, max(MaxLatencyMs) maxLat
       FROM llm_calls_1m WHERE ProjectId = {p:String}`,
      { p: 'p1' },
    );
    expect(row).toEqual({ calls: 2, errors: 1, inTok: 30, cost: 0.5, unpriced: 1, ttftP50: 20, maxLat: 300 });
  });

  it('generates replicated DDL with ON CLUSTER for cluster mode', () => {
    const ddl = schemaStatements({ cluster: 'c1', retention: DEFAULT_RETENTION });
    const creates = ddl.filter((s) => s.startsWith('CREATE TABLE'));
    expect(creates.length).toBeGreaterThan(0);
    for (const s of creates) {
      expect(s).toContain("ON CLUSTER 'c1'");
      expect(s).toMatch(
        /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/,
      );
    }
  });
});
