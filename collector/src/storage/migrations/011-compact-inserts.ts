import type { Migration } from './index.js';
import { modifySettings, type DdlContext } from './ddl.js';

/** The tables whose fresh parts (one per insert) pass ClickHouse's 10 MiB default for wide parts. */
export const WIDE_ROW_TABLES = ['otel_traces', 'llm_calls'];

/**
 * Fresh parts of the two tables with content in compact format (one file for all columns)
 * instead of wide (two files per column). A spool segment of 10,000 LLM spans with ~1 KB prompts
 * gives each of them ~15 MB of rows, past ClickHouse's 10 MiB default: their 70 columns then took
 * some 150 files per insert, and creating files (and deleting them after merges) was much of the
 * engine's kernel time. Parts become wide once merges make them larger than 128 MiB uncompressed,
 * where reading a few columns out of many pays off. `pnpm bench ingest` measures the raw insert
 * both ways (raw insert by insert shape).
 */
export const compactInserts: Migration = {
  version: 11,
  name: 'compact-inserts',
  statements: (ctx: DdlContext) =>
    WIDE_ROW_TABLES.map((table) => modifySettings(ctx, table, 'min_bytes_for_wide_part = 134217728')),
};
