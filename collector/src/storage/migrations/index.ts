import type { ClickHouseClient } from '@clickhouse/client';
import { LlmwatchError } from '../../errors.js';
import { queryRows } from '../clickhouse.js';
import { coreSchema } from './001-core.js';
import { detectionSchema } from './002-detection.js';
import { hardeningSchema } from './003-hardening.js';
import { ecosystemSchema } from './004-ecosystem.js';
import { evaluationSchema } from './005-evaluation.js';
import { datasetsSchema } from './006-datasets.js';
import { ragSchema } from './007-rag.js';
import { dropSpanKeys, storedSpansSchema } from './008-stored-spans.js';
import { mergeWidth } from './010-merge-width.js';
import { compactInserts } from './011-compact-inserts.js';
import { binaryFloats } from './012-binary-floats.js';
import { storedSpanChecksums } from './013-stored-span-checksums.js';
import { onCluster, engine, distributeStatement, DEFAULT_RETENTION, type DdlContext } from './ddl.js';

export interface Migration {
  version: number;
  name: string;
  /** One statement per string: chDB leaks output of a failing multi-statement query. */
  statements: (ctx: DdlContext) => string[];
  /**
   * Whether the server can run it (a setting it may not know yet); when not, the migration is
   * recorded as applied without its statements, and the server keeps its defaults.
   */
  runsOn?: (client: ClickHouseClient) => Promise<boolean>;
  /** The oldest ClickHouse [major, minor] its statements run on; older servers stop migrate with a clear error. */
  minServerVersion?: readonly [major: number, minor: number];
}

/** Every migration, in order. Add new ones at the end with the next version number. */
export const MIGRATIONS: readonly Migration[] = [
  coreSchema,
  detectionSchema,
  hardeningSchema,
  ecosystemSchema,
  evaluationSchema,
  datasetsSchema,
  ragSchema,
  storedSpansSchema,
  dropSpanKeys,
  mergeWidth,
  compactInserts,
  binaryFloats,
  storedSpanChecksums,
];

export { DEFAULT_RETENTION, onCluster, engine };
export { BINARY_FLOAT_COLUMNS, binaryInput } from './012-binary-floats.js';
export { IDS_CHECKSUM, IDS_CHECKSUM_COLUMN } from './013-stored-span-checksums.js';
export type { DdlContext, RetentionDays } from './ddl.js';

/** All DDL for a context, in order: used by `migrate` and by tests of the generated DDL. */
export function schemaStatements(ctx: DdlContext, migrations: readonly Migration[] = MIGRATIONS): string[] {
  return migrations.flatMap((m) => m.statements(ctx).flatMap((s) => distributeStatement(s, ctx)));
}

/**
 * Applies the migrations not applied yet. Every statement is idempotent (IF NOT EXISTS), so a
 * crash half-way through a migration is repaired by running it again; the version is recorded
 * only after all its statements succeeded.
 */
export async function migrate(
  client: ClickHouseClient,
  ctx: DdlContext = { retention: DEFAULT_RETENTION },
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS llmwatch_migrations${onCluster(ctx)} (
      Version UInt32, Name String, AppliedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree')} ORDER BY Version`,
  });
  const result = await client.query({
    query: 'SELECT Version FROM llmwatch_migrations',
    format: 'JSONEachRow',
  });
  const applied = new Set((await result.json<{ Version: number }>()).map((r) => r.Version));
  const ran: number[] = [];
  let serverVersion: string | undefined;
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    if (migration.minServerVersion) {
      serverVersion ??= (await queryRows<{ v: string }>(client, 'SELECT version() AS v'))[0]?.v ?? '';
      const [major, minor] = migration.minServerVersion;
      const [serverMajor = 0, serverMinor = 0] = serverVersion.split('.').map(Number);
      if (serverMajor < major || (serverMajor === major && serverMinor < minor))
        throw new LlmwatchError(
          'config',
          `migration ${migration.version} (${migration.name}) needs ClickHouse ${major}.${minor} or later; this server runs ${serverVersion}`,
        );
    }
    if (!migration.runsOn || (await migration.runsOn(client)))
      for (const statement of migration.statements(ctx).flatMap((s) => distributeStatement(s, ctx)))
        await client.command({ query: statement });
    await client.insert({
      table: 'llmwatch_migrations',
      values: [{ Version: migration.version, Name: migration.name }],
      format: 'JSONEachRow',
    });
    ran.push(migration.version);
  }
  return ran;
}
