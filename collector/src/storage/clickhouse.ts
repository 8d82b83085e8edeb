import { createClient, type ClickHouseClient } from '@clickhouse/client';

/**
 * Where the data lives. This file is the ONLY place that knows the difference between embedded
 * chDB and a ClickHouse server: everything else talks to a `ClickHouseClient`.
 */
export type StorageTarget =
  | { mode: 'embedded'; dataDir: string }
  | { mode: 'server'; url: string; username?: string; password?: string; database?: string };

/**
 * What a connection is for. Ingest and queries get separate connections because one chDB
 * session (like one HTTP keep-alive socket) runs one query at a time: a slow dashboard query
 * must never hold up inserts.
 */
export type ConnectionRole = 'ingest' | 'query' | 'admin';

export async function openClickHouse(target: StorageTarget, role: ConnectionRole): Promise<ClickHouseClient> {
  if (target.mode === 'server') {
    return createClient({
      url: target.url,
      username: target.username ?? 'default',
      password: target.password ?? '',
      database: target.database ?? 'default',
      application: `llmwatch-${role}`,
      request_timeout: role === 'query' ? 120_000 : 60_000,
      compression: { request: role === 'ingest', response: true },
    });
  }
  // Loaded lazily: the embedded engine is a ~550 MB native library that server mode never needs.
  const { createChdbConnection } = await import('chdb/connection');
  const connection = createChdbConnection({ path: target.dataDir });
  // The connection hook is typed against @clickhouse/client-common's Connection, which the client
  // re-bundles under a different nominal type; the runtime contract is the same.
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]);
  embeddedConnections.set(client, connection);
  return client;
}

/** How pre-serialized rows are written: JSON objects, or CSV / TabSeparated fields in `columns` order. */
export type RowFormat =
  { format: 'JSONEachRow' } | { format: 'CSV' | 'TabSeparated'; columns: readonly string[] };

/**
 * The CSV dialect ingest/csv.ts writes, pinned per insert so a server's own defaults cannot change
 * how a row reads (a header guess on the first row, another delimiter).
 */
const CSV_SETTINGS: Record<string, string> = {
  format_csv_delimiter: ',',
  format_csv_allow_double_quotes: '1',
  input_format_csv_detect_header: '0',
};

/** The raw-bytes insert of the embedded engine, per client (see insertRows). */
interface RawInserter {
  chdb: {
    rawInsert(params: {
      table: string;
      values: Buffer;
      format: RowFormat['format'];
      columns?: readonly string[];
      settings?: Record<string, string | number | boolean>;
    }): Promise<unknown>;
  };
}
const embeddedConnections = new WeakMap<ClickHouseClient, RawInserter>();

/**
 * Inserts pre-serialized, newline-terminated rows. Embedded: chDB's zero-copy raw insert (the
 * bytes never become a JS string). Server: one INSERT statement with the rows inline. The same
 * statement either way (`INSERT INTO t (columns) SETTINGS … FORMAT f`); settings are per
 * statement (never `SET` on the connection).
 */
export async function insertRows(
  client: ClickHouseClient,
  table: string,
  body: Buffer,
  rows: RowFormat,
  statementSettings: Record<string, string> = {},
): Promise<void> {
  const columns = rows.format === 'JSONEachRow' ? undefined : rows.columns;
  const settings = rows.format === 'CSV' ? { ...CSV_SETTINGS, ...statementSettings } : statementSettings;
  const embedded = embeddedConnections.get(client);
  if (embedded) {
    await embedded.chdb.rawInsert({ table, values: body, format: rows.format, columns, settings });
    return;
  }
  const clause = Object.entries(settings)
    .map(([k, v]) => `${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(', ');
  const list = columns ? ` (${columns.map((c) => `\`${c}\``).join(', ')})` : '';
  await client.command({
    query: `INSERT INTO ${table}${list}${clause ? ` SETTINGS ${clause}` : ''} FORMAT ${rows.format}\n${body.toString('utf8')}`,
  });
}

/** Reads the rows of a query as typed JSON objects. Parameters are bound, never interpolated. */
export async function queryRows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
