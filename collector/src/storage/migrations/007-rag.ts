import type { Migration } from './index.js';
import { engine, onCluster, type DdlContext } from './ddl.js';

/**
 * rag_diagnoses: one verdict per RAG trace (docs/rag.md), written by the diagnosis job and the
 * knowledge-gap detector. A trace diagnosed again (a late span, a backfill) replaces its row:
 * ReplacingMergeTree on DiagnosedAt, read with FINAL.
 */
export const ragSchema: Migration = {
  version: 7,
  name: 'rag',
  statements: (ctx: DdlContext) => [
    `CREATE TABLE IF NOT EXISTS rag_diagnoses${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Timestamp DateTime64(3) CODEC(Delta, ZSTD(1)),
      TraceId String CODEC(ZSTD(1)),
      ServiceName LowCardinality(String),
      Pipeline LowCardinality(String),
      PromptName LowCardinality(String),
      PromptVersion LowCardinality(String),
      Verdict LowCardinality(String),
      Documents UInt16,
      MaxRelevance Float32,
      MeanRelevance Float32,
      Groundedness Nullable(Float32),
      QuestionTerms Array(String) CODEC(ZSTD(1)),
      Evidence String CODEC(ZSTD(3)),
      DiagnosedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree', ['DiagnosedAt'])}
    PARTITION BY toDate(Timestamp)
    ORDER BY (ProjectId, toStartOfHour(Timestamp), TraceId)
    TTL toDateTime(Timestamp) + toIntervalDay(${ctx.retention.calls})`,
  ],
};
