import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { LlmwatchError } from '../errors.js';
import { dataDirLayout } from './data-dir.js';

/**
 * Where the data lives. This file is the ONLY place that knows the difference between embedded
 * chDB and a ClickHouse server: everything else talks to a `ClickHouseClient`.
 */
export type StorageTarget =
  | { mode: 'embedded'; dataDir: string }
  | {
      mode: 'server';
      url: string;
      username?: string;
      password?: string;
      database?: string;
      /** gzip level of insert bodies, 0 to send them uncompressed (docs/config.md). @default 1 */
      insertGzipLevel?: number;
    };

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
      compression: { request: requestCompression(target.insertGzipLevel ?? 1, role), response: true },
    });
  }
  // Loaded lazily: the embedded engine is a ~550 MB native library that server mode never needs.
  const { createChdbConnection } = await import('chdb/connection');
  const connection = createChdbConnection({ path: target.dataDir });
  // The connection hook is typed against @clickhouse/client-common's Connection, which the client
  // re-bundles under a different nominal type; the runtime contract is the same.
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]);
  const insertDir = dataDirLayout(target.dataDir).insert;
  // Bodies of inserts a killed process never finished: their rows are still in the spool.
  if (role === 'ingest') await rm(insertDir, { recursive: true, force: true });
  embeddedConnections.set(client, { connection, insertDir });
  return client;
}

/** Only the ingest connection sends large bodies (inserts); queries are a few kilobytes. */
function requestCompression(level: number, role: ConnectionRole): false | { codec: 'gzip'; level: number } {
  return role === 'ingest' && level > 0 ? { codec: 'gzip', level } : false;
}

/**
 * How pre-serialized rows are written: JSON objects, RowBinary rows or (spool segments of earlier
 * versions) CSV / TabSeparated fields, in `columns` order.
 */
export type RowFormat =
  { format: 'JSONEachRow' } | { format: 'RowBinary' | 'CSV' | 'TabSeparated'; columns: readonly string[] };

/**
 * The CSV dialect earlier versions wrote, pinned per insert so a server's own defaults cannot
 * change how a row reads (a header guess on the first row, another delimiter).
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
      format: Exclude<RowFormat['format'], 'RowBinary'>;
      columns?: readonly string[];
      settings?: Record<string, string | number | boolean>;
    }): Promise<unknown>;
  };
}
interface EmbeddedInserter {
  connection: RawInserter;
  /** Where binary bodies wait for the engine to read them (see insertRows). */
  insertDir: string;
}
const embeddedConnections = new WeakMap<ClickHouseClient, EmbeddedInserter>();
let insertFiles = 0;

/**
 * Inserts pre-serialized rows. The same statement either way (`INSERT INTO t (columns) SETTINGS …
 * FORMAT f`); settings are per statement (never `SET` on the connection). The bytes never become
 * a JS string: to a server they are streamed as the request body after the statement (sent in the
 * URL); joining them into the statement as a string cost ~30–50 µs more per LLM span (`pnpm bench
 * server-insert`). Embedded, chDB's zero-copy raw insert takes text formats only, so a RowBinary
 * body goes through a file the engine reads (`FROM INFILE`): written to the page cache, never
 * synced, removed once inserted. When that file cannot be written, the error is `unavailable`:
 * storage cannot take rows, as in an outage, rather than refusing these.
 */
export async function insertRows(
  client: ClickHouseClient,
  table: string,
  body: Buffer,
  rows: RowFormat,
  statementSettings: Record<string, string> = {},
): Promise<void> {
  const embedded = embeddedConnections.get(client);
  if (embedded) {
    if (rows.format === 'RowBinary') {
      const file = join(embedded.insertDir, `${process.pid}-${insertFiles++}.rowbinary`);
      try {
        // Made again each time (one call per insert): someone may have removed it.
        await mkdir(embedded.insertDir, { recursive: true });
        await writeFile(file, body);
      } catch (error) {
        // A full or read-only disk: the engine never saw the rows, so the insert was not refused.
        await rm(file, { force: true }).catch(() => undefined);
        throw new LlmwatchError(
          'unavailable',
          `cannot write the insert body to ${embedded.insertDir}: ${(error as { code?: string }).code ?? String(error)}`,
        );
      }
      try {
        await client.command({ query: insertStatement(table, rows, statementSettings, file) });
      } finally {
        await rm(file, { force: true });
      }
      return;
    }
    const { columns, settings } = statementParts(rows, statementSettings);
    await embedded.connection.chdb.rawInsert({ table, values: body, format: rows.format, columns, settings });
    return;
  }
  const result = await client.exec({
    query: insertStatement(table, rows, statementSettings),
    values: Readable.from([body], { objectMode: false }),
  });
  // The answer is a summary; reading it to the end frees the keep-alive socket.
  result.stream.resume();
  await finished(result.stream);
}

/** The statement insertRows sends a server, the rows to follow it; or reading them from `file`. */
export function insertStatement(
  table: string,
  rows: RowFormat,
  statementSettings: Record<string, string> = {},
  file?: string,
): string {
  const { columns, settings } = statementParts(rows, statementSettings);
  const clause = Object.entries(settings)
    .map(([k, v]) => `${k} = ${quote(v)}`)
    .join(', ');
  const list = columns ? ` (${columns.map((c) => `\`${c}\``).join(', ')})` : '';
  const source = file ? ` FROM INFILE ${quote(file)}` : '';
  return `INSERT INTO ${table}${list}${source}${clause ? ` SETTINGS ${clause}` : ''} FORMAT ${rows.format}`;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function statementParts(
  rows: RowFormat,
  statementSettings: Record<string, string>,
): { columns: readonly string[] | undefined; settings: Record<string, string> } {
  return {
    columns: rows.format === 'JSONEachRow' ? undefined : rows.columns,
    settings: rows.format === 'CSV' ? { ...CSV_SETTINGS, ...statementSettings } : statementSettings,
  };
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
