import type { Migration } from './index.js';
import { DEDUP_SETTINGS, columnTables, engine, modifySettings, onCluster, type DdlContext } from './ddl.js';

/**
 * Logs and metrics, and GenAI events joined to calls.
 *
 * otel_logs and otel_metrics_* follow the OpenTelemetry Collector ClickHouse exporter column for
 * column (its Grafana dashboards and queries work on them); ProjectId is an extra column leading
 * every sort key. Logs live as long as traces, metric points as long as the rollups.
 *
 * genai_events keeps GenAI events (log records tied to a span) until ingest/event-join.ts has
 * merged them into that span's llm_calls row, whichever arrived first; genai_event_joins records
 * how many of a span's events are merged, so a join is repeated only when more arrive. The merge
 * is a lightweight UPDATE of the content columns, which needs the block number/offset columns on
 * llm_calls (the rollup views are not involved: content feeds no rollup).
 *
 * llm_calls.UsageReported says whether the emitter reported token usage at all; when it did not
 * the token columns hold 0 for the rollups' sums, the API answers null and the call is unpriced.
 */
const EXEMPLARS = `Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
      ) CODEC(ZSTD(1))`;

const METRIC_HEAD = `ProjectId LowCardinality(String) CODEC(ZSTD(1)),
      ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      ResourceSchemaUrl String CODEC(ZSTD(1)),
      ScopeName String CODEC(ZSTD(1)),
      ScopeVersion String CODEC(ZSTD(1)),
      ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
      ScopeSchemaUrl String CODEC(ZSTD(1)),
      ServiceName LowCardinality(String) CODEC(ZSTD(1)),
      MetricName String CODEC(ZSTD(1)),
      MetricDescription String CODEC(ZSTD(1)),
      MetricUnit String CODEC(ZSTD(1)),
      Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
      TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),`;

const METRIC_INDEXES = `INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1`;

function metricTable(ctx: DdlContext, name: string, columns: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name}${onCluster(ctx)} (
      ${METRIC_HEAD}
      ${columns},
      ${METRIC_INDEXES}
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(TimeUnix)
    ORDER BY (ProjectId, ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
    TTL toDateTime(TimeUnix) + toIntervalDay(${ctx.retention.rollups})
    SETTINGS index_granularity = 8192, ${DEDUP_SETTINGS}`;
}

export const ecosystemSchema: Migration = {
  version: 4,
  name: 'ecosystem',
  statements: (ctx: DdlContext) => {
    return [
      `CREATE TABLE IF NOT EXISTS otel_logs${onCluster(ctx)} (
      ProjectId LowCardinality(String) CODEC(ZSTD(1)),
      Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
      TimestampTime DateTime DEFAULT toDateTime(Timestamp),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      TraceFlags UInt8,
      SeverityText LowCardinality(String) CODEC(ZSTD(1)),
      SeverityNumber UInt8,
      ServiceName LowCardinality(String) CODEC(ZSTD(1)),
      Body String CODEC(ZSTD(1)),
      ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
      ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
      ScopeName String CODEC(ZSTD(1)),
      ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
      ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      EventName String CODEC(ZSTD(1)),
      INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
      INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(TimestampTime)
    PRIMARY KEY (ProjectId, ServiceName, TimestampTime)
    ORDER BY (ProjectId, ServiceName, TimestampTime, Timestamp)
    TTL TimestampTime + toIntervalDay(${ctx.retention.traces})
    SETTINGS index_granularity = 8192, ${DEDUP_SETTINGS}`,

      metricTable(
        ctx,
        'otel_metrics_sum',
        `Value Float64 CODEC(ZSTD(1)),
      Flags UInt32 CODEC(ZSTD(1)),
      ${EXEMPLARS},
      AggregationTemporality Int32 CODEC(ZSTD(1)),
      IsMonotonic Bool CODEC(Delta, ZSTD(1))`,
      ),
      metricTable(
        ctx,
        'otel_metrics_gauge',
        `Value Float64 CODEC(ZSTD(1)),
      Flags UInt32 CODEC(ZSTD(1)),
      ${EXEMPLARS}`,
      ),
      metricTable(
        ctx,
        'otel_metrics_histogram',
        `Count UInt64 CODEC(Delta, ZSTD(1)),
      Sum Float64 CODEC(ZSTD(1)),
      BucketCounts Array(UInt64) CODEC(ZSTD(1)),
      ExplicitBounds Array(Float64) CODEC(ZSTD(1)),
      ${EXEMPLARS},
      Flags UInt32 CODEC(ZSTD(1)),
      Min Float64 CODEC(ZSTD(1)),
      Max Float64 CODEC(ZSTD(1)),
      AggregationTemporality Int32 CODEC(ZSTD(1))`,
      ),
      metricTable(
        ctx,
        'otel_metrics_exponential_histogram',
        `Count UInt64 CODEC(Delta, ZSTD(1)),
      Sum Float64 CODEC(ZSTD(1)),
      Scale Int32 CODEC(ZSTD(1)),
      ZeroCount UInt64 CODEC(ZSTD(1)),
      PositiveOffset Int32 CODEC(ZSTD(1)),
      PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
      NegativeOffset Int32 CODEC(ZSTD(1)),
      NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),
      ${EXEMPLARS},
      Flags UInt32 CODEC(ZSTD(1)),
      Min Float64 CODEC(ZSTD(1)),
      Max Float64 CODEC(ZSTD(1)),
      AggregationTemporality Int32 CODEC(ZSTD(1))`,
      ),
      metricTable(
        ctx,
        'otel_metrics_summary',
        `Count UInt64 CODEC(Delta, ZSTD(1)),
      Sum Float64 CODEC(ZSTD(1)),
      ValueAtQuantiles Nested(
        Quantile Float64,
        Value Float64
      ) CODEC(ZSTD(1)),
      Flags UInt32 CODEC(ZSTD(1))`,
      ),

      `CREATE TABLE IF NOT EXISTS genai_events${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      EventName LowCardinality(String),
      Attributes String CODEC(ZSTD(3)),
      InsertedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, TraceId, SpanId, Timestamp)
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.traces})
    SETTINGS ${DEDUP_SETTINGS}`,

      `CREATE TABLE IF NOT EXISTS genai_event_joins${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      TraceId String,
      SpanId String,
      Events UInt32,
      JoinedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree', ['Events'])}
    ORDER BY (ProjectId, TraceId, SpanId)
    TTL toDateTime(JoinedAt) + toIntervalDay(${ctx.retention.traces})`,

      modifySettings(ctx, 'llm_calls', 'enable_block_number_column = 1, enable_block_offset_column = 1'),

      // Unknown usage is unknown: a call whose emitter reported no tokens is flagged, not 0.
      ...columnTables(ctx, 'llm_calls').map(
        (table) =>
          `ALTER TABLE ${table}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS UsageReported Bool DEFAULT true AFTER OutputTokens`,
      ),
    ];
  },
};
