import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { openClickHouse, queryRows } from '../clickhouse.js';
import { SHARDING_KEYS, distributeStatement } from './ddl.js';
import { DEFAULT_RETENTION, MIGRATIONS, schemaStatements, type DdlContext } from './index.js';

const single: DdlContext = { retention: DEFAULT_RETENTION };
const replicated: DdlContext = { retention: DEFAULT_RETENTION, cluster: 'llm' };
const sharded: DdlContext = { retention: DEFAULT_RETENTION, cluster: 'llm', distributed: true };

const raw = (ctx: DdlContext) => MIGRATIONS.flatMap((m) => m.statements(ctx));
const tableOf = (sql: string) => /CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)/.exec(sql)?.[1];

describe('schema DDL per deployment mode', () => {
  it('single node and replicated-only DDL are exactly the migrations as written', () => {
    expect(schemaStatements(single)).toEqual(raw(single));
    expect(schemaStatements(replicated)).toEqual(raw(replicated));
    // `distributed` without a cluster means nothing.
    expect(schemaStatements({ ...single, distributed: true })).toEqual(raw(single));
    for (const sql of schemaStatements(single)) {
      expect(sql).not.toMatch(/ON CLUSTER|Replicated|Distributed/);
    }
  });

  it('replicated: every DDL statement runs ON CLUSTER and every table is Replicated', () => {
    for (const sql of schemaStatements(replicated)) {
      // Rows copied by a migration reach the other replicas through the Replicated engine.
      if (/^\s*INSERT INTO /.test(sql)) continue;
      expect(sql, tableOf(sql)).toContain(" ON CLUSTER 'llm'");
      if (sql.includes('CREATE TABLE'))
        expect(sql, tableOf(sql)).toMatch(
          /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/,
        );
    }
  });

  it('distributed: each table becomes a Replicated <table>_local plus a Distributed <table> over it', () => {
    const statements = schemaStatements(sharded);
    const tables = raw(single)
      .filter((s) => s.includes('CREATE TABLE'))
      .map(tableOf);
    // A new table needs a sharding key: this fails until SHARDING_KEYS names it.
    expect(Object.keys(SHARDING_KEYS).sort()).toEqual([...tables].sort());
    for (const table of tables) {
      const local = statements.filter((s) => tableOf(s) === `${table}_local`);
      const dist = statements.filter((s) => tableOf(s) === table);
      expect(local, table).toHaveLength(1);
      expect(dist, table).toHaveLength(1);
      expect(local[0]).toMatch(/ENGINE = Replicated\w*MergeTree\(/);
      expect(dist[0]).toBe(
        `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER 'llm' AS ${table}_local\n    ` +
          `ENGINE = Distributed('llm', currentDatabase(), '${table}_local', ${SHARDING_KEYS[table!]})`,
      );
      // The local table comes first: the Distributed one copies its structure.
      expect(statements.indexOf(local[0]!)).toBeLessThan(statements.indexOf(dist[0]!));
    }
  });

  it('distributed: materialized views read and write the local tables, aliased so qualified columns resolve', () => {
    const views = schemaStatements(sharded).filter((s) => s.includes('MATERIALIZED VIEW'));
    expect(views.length).toBe(raw(single).filter((s) => s.includes('MATERIALIZED VIEW')).length);
    const rollup = views.find((v) => tableOf(v) === 'llm_calls_1m_mv')!;
    expect(rollup).toContain('TO llm_calls_1m_local AS');
    expect(rollup).toContain('FROM llm_calls_local AS llm_calls');
    expect(rollup).toContain('countIf(llm_calls.Status = ');
    const traceIds = views.find((v) => tableOf(v) === 'otel_traces_trace_id_ts_mv')!;
    expect(traceIds).toContain('TO otel_traces_trace_id_ts_local');
    expect(traceIds).toContain('FROM otel_traces_local AS otel_traces');
    for (const view of views) expect(view).not.toMatch(/\b(TO|FROM) (?!\w+_local\b)\w+/);
  });

  it('leaves statements it does not know unchanged', () => {
    expect(distributeStatement('ALTER TABLE x ADD COLUMN y UInt8', sharded)).toEqual([
      'ALTER TABLE x ADD COLUMN y UInt8',
    ]);
  });

  it('is selected by storage.cluster and storage.distributed in the config', () => {
    const config = parseConfig({ storage: { url: 'http://ch:8123', cluster: 'llm', distributed: true } });
    expect(config.storage.cluster).toBe('llm');
    expect(config.storage.distributed).toBe(true);
    expect(parseConfig({}).storage.distributed).toBe(false);
  });
});

describe('cluster DDL is valid ClickHouse SQL', () => {
  let dir: string;
  let client: ClickHouseClient;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-ddl-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  });
  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every replicated and distributed statement parses (ClickHouse formatQuery)', async () => {
    for (const sql of [...schemaStatements(replicated), ...schemaStatements(sharded)]) {
      const [row] = await queryRows<{ f: string }>(client, 'SELECT formatQuery({q:String}) AS f', { q: sql });
      expect(row!.f, sql).toMatch(/^(CREATE|ALTER|DROP|INSERT INTO) /);
    }
  });
});
