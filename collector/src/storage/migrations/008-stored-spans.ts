import type { Migration } from './index.js';
import { SPAN_KEY_SOURCES } from './003-hardening.js';
import { DEDUP_SETTINGS, engine, onCluster, type DdlContext } from './ddl.js';

/**
 * stored_spans replaces span_keys (migration 3) as the lookup the writer asks "is this span
 * already stored?" (ingest/dedup.ts). span_keys was sorted by trace id: a batch of random trace ids
 * hits a granule in nearly every part, so each lookup read about all the keys of the day and its
 * cost grew with what was stored (0.46 s per 4,000-span batch after 16 M spans), and ingest slowed
 * down hour by hour. stored_spans is sorted by start time: a retried span carries its start time,
 * so the lookup asks for exact instants and reads only the granules that hold them, whatever the
 * table holds (small granules: a late span costs 1,024 keys read, not 8,192). The keys already in
 * span_keys are copied over; dropping span_keys is the next migration, so a crash between the two
 * only repeats the copy (a repeated key changes no answer).
 */
export const storedSpansSchema: Migration = {
  version: 8,
  name: 'stored-spans',
  statements: (ctx: DdlContext) => [
    ...SPAN_KEY_SOURCES.map((source) => `DROP VIEW IF EXISTS span_keys_${source}_mv${onCluster(ctx)}`),
    `CREATE TABLE IF NOT EXISTS stored_spans${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Source LowCardinality(String),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1))
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, Source, Timestamp)
    TTL toDateTime(Timestamp) + toIntervalDay(${Math.max(ctx.retention.traces, ctx.retention.calls)})
    SETTINGS index_granularity = 1024, ${DEDUP_SETTINGS}`,
    ...SPAN_KEY_SOURCES.map(
      (
        source,
      ) => `CREATE MATERIALIZED VIEW IF NOT EXISTS stored_spans_${source}_mv${onCluster(ctx)} TO stored_spans AS
    SELECT ProjectId, '${source}' AS Source, Timestamp, TraceId, SpanId FROM ${source}`,
    ),
    `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId)
    SELECT ProjectId, Source, Timestamp, TraceId, SpanId FROM span_keys`,
  ],
};

/** span_keys, superseded by stored_spans (migration 8), and its sharded local table. */
export const dropSpanKeys: Migration = {
  version: 9,
  name: 'drop-span-keys',
  statements: (ctx: DdlContext) => [
    `DROP TABLE IF EXISTS span_keys${onCluster(ctx)}`,
    ...(ctx.cluster && ctx.distributed ? [`DROP TABLE IF EXISTS span_keys_local${onCluster(ctx)}`] : []),
  ],
};
