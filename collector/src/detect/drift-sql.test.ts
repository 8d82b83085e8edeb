import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { queryRows } from '../storage/clickhouse.js';
import { centroidsSql, GROUP_EXPRS, type GroupCentroidRow } from './drift-sql.js';
import { baselineSample } from './sql.js';

const HOUR = 3_600_000;
const now = Math.floor(Date.now() / HOUR) * HOUR;

describe('drift centroid SQL', () => {
  let db: EmbeddedClickHouse;
  let client: ClickHouseClient;

  beforeAll(async () => {
    db = await embeddedClickHouse('drift-sql');
    client = db.client;
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

  afterAll(() => db?.close());

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
