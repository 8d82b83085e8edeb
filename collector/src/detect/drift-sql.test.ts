import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { centroidsSql, GROUP_EXPRS, type GroupCentroidRow } from './drift-sql.js';
import { baselineSample } from './sql.js';

const HOUR = 3_600_000;
const now = Math.floor(Date.now() / HOUR) * HOUR;

describe('drift centroid SQL', () => {
  let dir: string;
  let client: ClickHouseClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-drift-sql-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    const sketch = (i: number) => Array.from({ length: 64 }, (_, k) => ((i * 31 + k * 7) % 13) / 13);
    const rows = Array.from({ length: 4_000 }, (_, i) => ({
      ProjectId: 'p',
      Timestamp: ((now - 5 * HOUR + (i * 5 * HOUR) / 4_000) / 1000).toFixed(3),
      SpanId: `span-${i}`,
      ServiceName: 'svc',
      PromptName: 'answer',
      Model: 'gpt-4o',
      InputSketch: sketch(i),
      OutputSketch: sketch(i + 1),
    }));
    await client.insert({ table: 'llm_calls', values: rows, format: 'JSONEachRow' });
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('regression: a busy group sampled 1 in 16 still spreads its baseline over every noise bucket', async () => {
    const key = ['p', 'svc', 'answer', ''];
    // A baseline 16 times the cap: the sample keeps rows whose cityHash64(SpanId) % 16 = 0.
    const sample = baselineSample([{ key, nBase: 16 * 200 }], GROUP_EXPRS, 200);
    const rows = await queryRows<GroupCentroidRow>(client, centroidsSql('sketch', sample.sql), {
      from: now - HOUR,
      to: now,
      dist: now - 5 * HOUR,
      seasonal: 0,
      len: HOUR,
      project: 'p',
      keys: [key],
      ...sample.params,
    });
    const buckets = new Set(rows.filter((r) => r.side === 'input' && r.bucket >= 0).map((r) => r.bucket));
    expect(buckets.size).toBe(16);
  });
});
