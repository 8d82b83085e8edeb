import type { Migration } from './index.js';
import { DEDUP_SETTINGS, engine, modifySettings, onCluster, type DdlContext } from './ddl.js';

/** The span tables whose rows are deduplicated by span before insert (ingest/dedup.ts). */
export const SPAN_KEY_SOURCES = ['otel_traces', 'llm_calls', 'pii_findings'] as const;

/**
 * Exactly-once rollups. A replayed spool segment carries the insert_deduplication_token of its
 * first attempt: llm_calls drops the repeat, and with
 * `deduplicate_blocks_in_dependent_materialized_views` the block the view derives from it is
 * deduplicated too, but only in a target table that keeps a deduplication window. llm_calls_1m
 * had none, so a replay after a commit whose answer was lost counted every call twice in the
 * rollup. Replicated tables keep `replicated_deduplication_window` by default; the setting below
 * is for single-node MergeTree and is ignored by the Replicated engines.
 *
 * span_keys: which spans each span table already holds, keyed for lookup by trace id, so the
 * writer can drop a retried span before inserting it without scanning the tables themselves
 * (their sort keys lead with service and span name, or model). Fed by one view per table.
 * Superseded by stored_spans (migration 8): keyed by trace id, a lookup still read the whole day.
 */
export const hardeningSchema: Migration = {
  version: 3,
  name: 'hardening',
  statements: (ctx: DdlContext) => {
    return [
      modifySettings(ctx, 'llm_calls_1m', 'non_replicated_deduplication_window = 1000'),
      `CREATE TABLE IF NOT EXISTS span_keys${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Source LowCardinality(String),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1))
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, Source, TraceId, SpanId)
    TTL toDateTime(Timestamp) + toIntervalDay(${Math.max(ctx.retention.traces, ctx.retention.calls)})
    SETTINGS ${DEDUP_SETTINGS}`,
      ...SPAN_KEY_SOURCES.map(
        (
          source,
        ) => `CREATE MATERIALIZED VIEW IF NOT EXISTS span_keys_${source}_mv${onCluster(ctx)} TO span_keys AS
    SELECT ProjectId, '${source}' AS Source, TraceId, SpanId, Timestamp FROM ${source}`,
      ),
    ];
  },
};
