import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { dropStoredSpans } from '../../ingest/dedup.js';
import { openClickHouse, queryRows } from '../clickhouse.js';
import { MIGRATIONS, migrate } from './index.js';

/** `test` on an embedded install migrated up to (not including) migration `version`. */
async function installedBefore(
  version: number,
  test: (client: ClickHouseClient) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-migrate-upgrade-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  try {
    await migrate(
      client,
      undefined,
      MIGRATIONS.filter((m) => m.version < version),
    );
    await test(client);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('migration 8 (stored_spans)', () => {
  it('an upgraded install keeps the span keys of span_keys in stored_spans, feeds it, and drops span_keys', async () => {
    await installedBefore(8, async (client) => {
      // An hour ago: within retention (TTL would drop an older span's part).
      const seconds = Math.floor(Date.now() / 1000) - 3600;
      const span = (spanId: string) => ({
        ProjectId: 'p1',
        Timestamp: `${seconds}.123456789`,
        TraceId: 'aa'.repeat(16),
        SpanId: spanId,
      });
      await client.insert({
        table: 'otel_traces',
        format: 'JSONEachRow',
        values: [span('0000000000000001')],
      });
      expect(await migrate(client)).toEqual(MIGRATIONS.filter((m) => m.version >= 8).map((m) => m.version));
      await client.insert({
        table: 'otel_traces',
        format: 'JSONEachRow',
        values: [span('0000000000000002')],
      });
      const keys = await queryRows<{ SpanId: string; Nanos: string }>(
        client,
        `SELECT SpanId, toString(toUnixTimestamp64Nano(Timestamp)) AS Nanos FROM stored_spans
         WHERE Source = 'otel_traces' ORDER BY SpanId`,
      );
      expect(keys).toEqual([
        { SpanId: '0000000000000001', Nanos: `${seconds}123456789` },
        { SpanId: '0000000000000002', Nanos: `${seconds}123456789` },
      ]);
      const left = await queryRows(
        client,
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'span_keys%'",
      );
      expect(left).toEqual([]);
    });
  });

  it('migration 13: the lookup finds spans stored before it (checksums computed when read) and after it (stored)', async () => {
    await installedBefore(13, async (client) => {
      const seconds = Math.floor(Date.now() / 1000) - 60;
      const row = (spanId: string) => `"p1",${seconds}.123456789,"${'ab'.repeat(16)}","${spanId}","chat"\n`;
      const store = (spanId: string) =>
        client.command({
          query: `INSERT INTO otel_traces (ProjectId, Timestamp, TraceId, SpanId, SpanName) FORMAT CSV ${row(spanId)}`,
        });
      await store('0000000000000001');
      expect(await migrate(client)).toEqual(MIGRATIONS.filter((m) => m.version >= 13).map((m) => m.version));
      await store('0000000000000002');
      const fresh = '0000000000000003';
      const body = Buffer.from(['0000000000000001', '0000000000000002', fresh].map(row).join(''));
      const result = await dropStoredSpans(client, 'otel_traces', body, 3);
      expect(result.dropped).toBe(2);
      expect(result.body.toString()).toBe(row(fresh));
    });
  });
});
