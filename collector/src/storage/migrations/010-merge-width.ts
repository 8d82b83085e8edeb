import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../clickhouse.js';
import type { Migration } from './index.js';
import { modifySettings, type DdlContext } from './ddl.js';

/** The tables every LLM span writes a row to, directly or through a materialized view. */
const PER_SPAN_TABLES = [
  'otel_traces',
  'otel_traces_trace_id_ts',
  'llm_calls',
  'llm_calls_1m',
  'stored_spans',
];

/**
 * Wider merges for the tables every LLM span writes. The writer inserts a part per table every
 * second or so; with ClickHouse's default merge selector base (5) each row is rewritten about
 * log5(parts of a day) times, and merges became the collector's second largest CPU cost per span
 * as a run went on (65 µs per span after 90 s of `pnpm bench ingest` on 2 cores). Base 10 merges
 * ten parts of a size at once: about half the rewrites (31 µs per span over the same run), for
 * roughly twice as many parts alive per partition, still far below `parts_to_delay_insert`.
 * Servers older than the setting keep their default (`runsOn`).
 */
export const mergeWidth: Migration = {
  version: 10,
  name: 'merge-width',
  statements: (ctx: DdlContext) =>
    PER_SPAN_TABLES.map((table) => modifySettings(ctx, table, 'merge_selector_base = 10')),
  runsOn: async (client: ClickHouseClient) =>
    (
      await queryRows<{ n: string }>(
        client,
        "SELECT count() AS n FROM system.merge_tree_settings WHERE name = 'merge_selector_base'",
      )
    )[0]?.n !== '0',
};
