import type { Migration } from './index.js';
import { engine, onCluster, type DdlContext } from './ddl.js';

/**
 * detections: every detection and every resolution, as produced (history; the detection JSON of docs/api.md in Json).
 * alert_state: the current state of each alert, one row per (project, rule, subject) after merges;
 * read with FINAL. Version is a monotonic counter so a backtest over old event time still
 * supersedes the previous state.
 */
export const detectionSchema: Migration = {
  version: 2,
  name: 'detection',
  statements: (ctx: DdlContext) => [
    `CREATE TABLE IF NOT EXISTS detections${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      WindowTo DateTime64(3) CODEC(Delta, ZSTD(1)),
      WindowFrom DateTime64(3) CODEC(Delta, ZSTD(1)),
      Id String,
      Kind LowCardinality(String),
      Status LowCardinality(String),
      Severity LowCardinality(String),
      Rule LowCardinality(String),
      SubjectKey String,
      Observed Float64,
      Baseline Float64,
      Message String CODEC(ZSTD(3)),
      Json String CODEC(ZSTD(3)),
      Notified Bool,
      DetectedAt DateTime64(3) DEFAULT now64(3)
    ) ENGINE = ${engine(ctx, 'MergeTree')}
    PARTITION BY toYYYYMM(WindowTo)
    ORDER BY (ProjectId, WindowTo, Kind, Rule, SubjectKey)
    TTL toDateTime(WindowTo) + toIntervalDay(${ctx.retention.alerts})`,

    `CREATE TABLE IF NOT EXISTS alert_state${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Rule LowCardinality(String),
      SubjectKey String,
      Kind LowCardinality(String),
      Status LowCardinality(String),
      Severity LowCardinality(String),
      FirstFiredAt DateTime64(3),
      LastFiredAt DateTime64(3),
      ResolvedAt Nullable(DateTime64(3)),
      LastNotifiedAt Nullable(DateTime64(3)),
      /** Whether this firing episode was notified (a re-fire inside the cooldown is not). */
      EpisodeNotified Bool DEFAULT false,
      Json String CODEC(ZSTD(3)),
      Version UInt64
    ) ENGINE = ${engine(ctx, 'ReplacingMergeTree', ['Version'])}
    ORDER BY (ProjectId, Rule, SubjectKey)
    TTL toDateTime(LastFiredAt) + toIntervalDay(${ctx.retention.alerts})`,
  ],
};
