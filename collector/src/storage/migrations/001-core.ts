import type { Migration } from './index.js';
import { DEDUP_SETTINGS, engine, onCluster, type DdlContext } from './ddl.js';

/**
 * otel_traces and its trace-id lookup follow the OpenTelemetry Collector ClickHouse exporter
 * column for column (names, types, Nested Events/Links), so Grafana's ClickHouse trace view works
 * unchanged; ProjectId is an extra leading column. llm_calls holds one typed row per LLM span;
 * llm_calls_1m is the per-minute rollup dashboards and detectors read at scale.
 */
export const coreSchema: Migration = {
  version: 1,
  name: 'core',
  statements: (ctx: DdlContext) => [
    `CREATE TABLE IF NOT EXISTS otel_traces${onCluster(ctx)} (
      ProjectId LowCardinality(String) CODEC(ZSTD(1)),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      ParentSpanId String CODEC(ZSTD(1)),
      TraceState String CODEC(ZSTD(1)),
      SpanName LowCardinality(String) CODEC(ZSTD(1)),
      SpanKind LowCardinality(String) CODEC(ZSTD(1)),
      ServiceName LowCardinality(String) CODEC(ZSTD(1)),
      ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      ScopeName String CODEC(ZSTD(1)),
      ScopeVersion String CODEC(ZSTD(1)),
      SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      Duration UInt64 CODEC(ZSTD(1)),
      StatusCode LowCardinality(String) CODEC(ZSTD(1)),
      StatusMessage String CODEC(ZSTD(1)),
      Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
      ) CODEC(ZSTD(1)),
      Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
      ) CODEC(ZSTD(1)),
      INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
      INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_duration Duration TYPE minmax GRANULARITY 1
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, ServiceName, SpanName, toDateTime(Timestamp))
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.traces})
    SETTINGS index_granularity = 8192, ${DEDUP_SETTINGS}`,

    `CREATE TABLE IF NOT EXISTS otel_traces_trace_id_ts${onCluster(ctx)} (
      TraceId String CODEC(ZSTD(1)),
      Start DateTime CODEC(Delta, ZSTD(1)),
      End DateTime CODEC(Delta, ZSTD(1)),
      INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Start)
    ORDER BY (TraceId, Start)
    TTL toDateTime(Start) + toIntervalDay(${ctx.retention.traces})
    SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,

    `CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_trace_id_ts_mv${onCluster(ctx)}
    TO otel_traces_trace_id_ts
    AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
    FROM otel_traces
    WHERE TraceId != ''
    GROUP BY TraceId`,

    `CREATE TABLE IF NOT EXISTS llm_calls${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      ParentSpanId String CODEC(ZSTD(1)),
      ServiceName LowCardinality(String),
      Dialect LowCardinality(String),
      Provider LowCardinality(String),
      Operation LowCardinality(String),
      RequestModel LowCardinality(String),
      ResponseModel LowCardinality(String),
      Model LowCardinality(String),
      ResponseId String CODEC(ZSTD(1)),
      InputTokens UInt32,
      OutputTokens UInt32,
      CacheReadTokens UInt32,
      CacheWriteTokens UInt32,
      ReasoningTokens UInt32,
      CostUsd Nullable(Float64),
      PriceVersion LowCardinality(String),
      LatencyMs Float64,
      TtftMs Nullable(Float64),
      Streaming Bool,
      FinishReasons Array(LowCardinality(String)),
      Status LowCardinality(String),
      ErrorType LowCardinality(String),
      PromptName LowCardinality(String),
      PromptVersion LowCardinality(String),
      UserId String CODEC(ZSTD(1)),
      SessionId String CODEC(ZSTD(1)),
      ConversationId String CODEC(ZSTD(1)),
      Tags Map(LowCardinality(String), String) CODEC(ZSTD(1)),
      InputContent String CODEC(ZSTD(3)),
      OutputContent String CODEC(ZSTD(3)),
      SystemContent String CODEC(ZSTD(3)),
      ToolNames Array(LowCardinality(String)),
      InputEmbedding Array(Float32) CODEC(ZSTD(1)),
      OutputEmbedding Array(Float32) CODEC(ZSTD(1)),
      PiiTypes Array(LowCardinality(String)),
      PiiCount UInt16,
      InputChars UInt32,
      OutputChars UInt32,
      Language LowCardinality(String),
      InputSketch Array(Float32) CODEC(ZSTD(1)),
      OutputSketch Array(Float32) CODEC(ZSTD(1)),
      InsertedAt DateTime64(3) DEFAULT now64(3),
      INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
      INDEX idx_user UserId TYPE bloom_filter(0.01) GRANULARITY 1,
      INDEX idx_session SessionId TYPE bloom_filter(0.01) GRANULARITY 1
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, toStartOfHour(Timestamp), ServiceName, Model, Timestamp)
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.calls})
    SETTINGS index_granularity = 8192, ${DEDUP_SETTINGS}`,

    `CREATE TABLE IF NOT EXISTS llm_calls_1m${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Minute DateTime,
      ServiceName LowCardinality(String),
      Provider LowCardinality(String),
      Model LowCardinality(String),
      PromptName LowCardinality(String),
      PromptVersion LowCardinality(String),
      Calls SimpleAggregateFunction(sum, UInt64),
      Errors SimpleAggregateFunction(sum, UInt64),
      InputTokens SimpleAggregateFunction(sum, UInt64),
      OutputTokens SimpleAggregateFunction(sum, UInt64),
      CacheReadTokens SimpleAggregateFunction(sum, UInt64),
      CacheWriteTokens SimpleAggregateFunction(sum, UInt64),
      ReasoningTokens SimpleAggregateFunction(sum, UInt64),
      CostUsd SimpleAggregateFunction(sum, Float64),
      UnpricedCalls SimpleAggregateFunction(sum, UInt64),
      PiiCalls SimpleAggregateFunction(sum, UInt64),
      MaxLatencyMs SimpleAggregateFunction(max, Float64),
      LatencyQuantiles AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64),
      TtftQuantiles AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Nullable(Float64))
    ) ENGINE = ${engine(ctx, 'AggregatingMergeTree')}
    PARTITION BY toDate(Minute)
    ORDER BY (ProjectId, Minute, ServiceName, Provider, Model, PromptName, PromptVersion)
    TTL Minute + toIntervalDay(${ctx.retention.rollups})
    SETTINGS ttl_only_drop_parts = 1`,

    `CREATE MATERIALIZED VIEW IF NOT EXISTS llm_calls_1m_mv${onCluster(ctx)} TO llm_calls_1m AS
    SELECT
      ProjectId,
      toStartOfMinute(Timestamp) AS Minute,
      ServiceName, Provider, Model, PromptName, PromptVersion,
      count() AS Calls,
      countIf(llm_calls.Status = 'error') AS Errors,
      sum(InputTokens) AS InputTokens,
      sum(OutputTokens) AS OutputTokens,
      sum(CacheReadTokens) AS CacheReadTokens,
      sum(CacheWriteTokens) AS CacheWriteTokens,
      sum(ReasoningTokens) AS ReasoningTokens,
      sum(ifNull(llm_calls.CostUsd, 0)) AS CostUsd,
      countIf(llm_calls.CostUsd IS NULL) AS UnpricedCalls,
      countIf(PiiCount > 0) AS PiiCalls,
      max(LatencyMs) AS MaxLatencyMs,
      quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(LatencyMs) AS LatencyQuantiles,
      quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(TtftMs) AS TtftQuantiles
    FROM llm_calls
    GROUP BY ProjectId, Minute, ServiceName, Provider, Model, PromptName, PromptVersion`,

    `CREATE TABLE IF NOT EXISTS pii_findings${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      ServiceName LowCardinality(String),
      Provider LowCardinality(String),
      Model LowCardinality(String),
      PromptName LowCardinality(String),
      Type LowCardinality(String),
      Place LowCardinality(String),
      Action LowCardinality(String),
      Count UInt32,
      ValueHash String CODEC(ZSTD(1)),
      INDEX idx_value_hash ValueHash TYPE bloom_filter(0.01) GRANULARITY 1
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, toStartOfHour(Timestamp), Type, Place, Timestamp)
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.calls})
    SETTINGS ${DEDUP_SETTINGS}`,

    `CREATE TABLE IF NOT EXISTS scores${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Timestamp DateTime64(3) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      SpanId String CODEC(ZSTD(1)),
      Name LowCardinality(String),
      Value Float64,
      Label String,
      Comment String CODEC(ZSTD(3)),
      Source LowCardinality(String)
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toYYYYMM(Timestamp)
    ORDER BY (ProjectId, Name, Timestamp, TraceId)
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.calls})`,
  ],
};
