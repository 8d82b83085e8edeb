import type { Migration } from './index.js';
import { engine, onCluster, type DdlContext } from './ddl.js';

/**
 * Datasets curated from production calls (collector/src/datasets). A version is immutable: its
 * items are written first, its row in `datasets` (manifest and content hash) last, so a version
 * is visible only once complete; items of a crashed create are never listed. No TTL: a dataset
 * outlives the calls it was made from, by design.
 */
export const datasetsSchema: Migration = {
  version: 6,
  name: 'datasets',
  statements: (ctx: DdlContext) => [
    `CREATE TABLE IF NOT EXISTS datasets${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Name String,
      Version UInt32,
      Hash String,
      CreatedAt DateTime64(3) DEFAULT now64(3),
      Items UInt32,
      Manifest String CODEC(ZSTD(3))
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree')}
    ORDER BY (ProjectId, Name, Version)`,

    `CREATE TABLE IF NOT EXISTS dataset_items${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Dataset String,
      Version UInt32,
      Split LowCardinality(String),
      Position UInt32,
      ItemId String,
      SourceTraceId String CODEC(ZSTD(1)),
      SourceSpanId String CODEC(ZSTD(1)),
      Messages String CODEC(ZSTD(3))
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    ORDER BY (ProjectId, Dataset, Version, Split, Position)`,

    // Fine-tune runs: dataset version → base model → resulting model id (OpenAI ft: id, LoRA
    // adapter name served by vLLM or any OpenAI-compatible server), so traffic on that model id
    // can be compared with its base by the run's name.
    `CREATE TABLE IF NOT EXISTS finetune_runs${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Name String,
      DatasetName String,
      DatasetVersion UInt32,
      DatasetHash String,
      BaseModel String,
      ResultModel String,
      Provider LowCardinality(String),
      Hyperparameters String,
      TrainingCostUsd Nullable(Float64),
      CreatedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree', ['CreatedAt'])}
    ORDER BY (ProjectId, Name)`,
  ],
};
