import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse, queryRows } from '../src/storage/clickhouse.js';
import type { DdlContext } from '../src/storage/migrations/ddl.js';
import { migrate } from '../src/storage/migrations/index.js';

export interface EmbeddedClickHouse {
  client: ClickHouseClient;
  dataDir: string;
  /** Closes the connection and removes the data directory. */
  close(): Promise<void>;
}

/** A migrated embedded ClickHouse in a fresh data directory, for one test file. */
export async function embeddedClickHouse(name: string, ddl?: DdlContext): Promise<EmbeddedClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), `llmwatch-${name}-`));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  await migrate(client, ddl);
  return {
    client,
    dataDir: dir,
    close: async () => {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Twenty years of retention, for rows dated at fixed past times: TTL would drop them under the
 * defaults (a century would overflow DateTime in the TTL expression).
 */
export const LONG_RETENTION: DdlContext = {
  retention: { traces: 7_300, calls: 7_300, rollups: 7_300, alerts: 7_300 },
};

/**
 * Rows the engine has read so far in this process (all queries): a test reads it before and
 * after a query to bound what the query reads, whatever the machine's speed.
 */
export async function selectedRows(client: ClickHouseClient): Promise<number> {
  const [row] = await queryRows<{ value: string }>(
    client,
    "SELECT value FROM system.events WHERE event = 'SelectedRows'",
  );
  return Number(row?.value ?? 0);
}
