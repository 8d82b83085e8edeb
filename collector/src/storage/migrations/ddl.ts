/**
 * DDL building blocks shared by all migrations, so that one schema definition serves a single
 * embedded engine and a replicated, sharded cluster alike.
 */
export interface DdlContext {
  /** Cluster name for `ON CLUSTER` and Replicated engines; undefined on a single node. */
  cluster?: string;
  retention: RetentionDays;
}

export interface RetentionDays {
  /** Raw spans in otel_traces. */
  traces: number;
  /** Typed rows in llm_calls, pii_findings and scores. */
  calls: number;
  /** Per-minute rollups; kept longest because they are small. */
  rollups: number;
  /** Detections and alert history. */
  alerts: number;
}

export const DEFAULT_RETENTION: RetentionDays = { traces: 30, calls: 90, rollups: 400, alerts: 400 };

export function onCluster(ctx: DdlContext): string {
  return ctx.cluster ? ` ON CLUSTER '${ctx.cluster}'` : '';
}

/**
 * `engine(ctx, 'MergeTree')` → `MergeTree` on one node, `ReplicatedMergeTree(...)` on a cluster.
 * Extra engine arguments (e.g. the version column of ReplacingMergeTree) go in `args`.
 */
export function engine(ctx: DdlContext, family: string, args: string[] = []): string {
  if (!ctx.cluster) return args.length ? `${family}(${args.join(', ')})` : family;
  const replicated = ["'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'", ...args];
  return `Replicated${family}(${replicated.join(', ')})`;
}

/** Deduplicates batches replayed from the spool after a crash (see ingest/spool). */
export const DEDUP_SETTINGS = 'non_replicated_deduplication_window = 1000, ttl_only_drop_parts = 1';
