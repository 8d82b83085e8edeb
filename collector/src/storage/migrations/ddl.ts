/**
 * DDL building blocks shared by all migrations, so that one schema definition serves a single
 * embedded engine and a replicated, sharded cluster alike.
 */
export interface DdlContext {
  /** Cluster name for `ON CLUSTER` and Replicated engines; undefined on a single node. */
  cluster?: string;
  /** With a cluster: shard tables as `<table>_local` + Distributed `<table>` (see distributeStatement). */
  distributed?: boolean;
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

/**
 * Sharding: with `ctx.distributed` (and a cluster), each table is created as `<table>_local`
 * (Replicated, ON CLUSTER) plus a Distributed `<table>` over it, so every query and insert keeps
 * using the plain name. Rows are spread by these keys: a trace stays on one shard (trace view,
 * per-trace joins), and an alert's state rows meet on one shard so ReplacingMergeTree can merge them.
 */
export const SHARDING_KEYS: Record<string, string> = {
  otel_traces: 'cityHash64(TraceId)',
  otel_traces_trace_id_ts: 'cityHash64(TraceId)',
  llm_calls: 'cityHash64(TraceId)',
  llm_calls_1m: 'cityHash64(ProjectId, Model)',
  pii_findings: 'cityHash64(TraceId)',
  scores: 'cityHash64(TraceId)',
  detections: 'cityHash64(ProjectId, Rule, SubjectKey)',
  alert_state: 'cityHash64(ProjectId, Rule, SubjectKey)',
  otel_logs: 'cityHash64(TraceId)',
  otel_metrics_sum: 'cityHash64(ProjectId, MetricName)',
  otel_metrics_gauge: 'cityHash64(ProjectId, MetricName)',
  otel_metrics_histogram: 'cityHash64(ProjectId, MetricName)',
  otel_metrics_exponential_histogram: 'cityHash64(ProjectId, MetricName)',
  otel_metrics_summary: 'cityHash64(ProjectId, MetricName)',
  genai_events: 'cityHash64(TraceId)',
  genai_event_joins: 'cityHash64(TraceId)',
  span_keys: 'cityHash64(TraceId)',
  stored_spans: 'cityHash64(TraceId)',
  eval_spend: 'cityHash64(ProjectId, Evaluator)',
  datasets: 'cityHash64(ProjectId, Name)',
  dataset_items: 'cityHash64(ProjectId, Dataset)',
  finetune_runs: 'cityHash64(ProjectId, Name)',
  // One row per trace, replaced when rediagnosed: the same shard as the trace's spans, so FINAL dedups.
  rag_diagnoses: 'cityHash64(TraceId)',
};

/**
 * The table that holds `table`'s parts, where its MergeTree settings live: on a sharded cluster the
 * local table (the Distributed one has no parts), else the table itself.
 */
function partsTable(ctx: DdlContext, table: string): string {
  return ctx.cluster && ctx.distributed ? `${table}_local` : table;
}

/**
 * The tables an ALTER of `table`'s columns must change: on a sharded cluster the local table and
 * the Distributed table over it (each declares the columns), else the table itself.
 */
export function columnTables(ctx: DdlContext, table: string): string[] {
  return ctx.cluster && ctx.distributed ? [`${table}_local`, table] : [table];
}

/** `ALTER TABLE … MODIFY SETTING settings` on the table holding `table`'s parts, on every node. */
export function modifySettings(ctx: DdlContext, table: string, settings: string): string {
  return `ALTER TABLE ${partsTable(ctx, table)}${onCluster(ctx)} MODIFY SETTING ${settings}`;
}

const CREATE_TABLE = /^(\s*CREATE TABLE IF NOT EXISTS )(\w+)( ON CLUSTER '[^']+')/;
const CREATE_VIEW = /^\s*CREATE MATERIALIZED VIEW IF NOT EXISTS /;

/**
 * One migration statement as it runs in `ctx`: unchanged unless the context is distributed (so
 * single-node and replicated-only DDL stay byte-identical). Materialized views are rewritten to
 * read and write the local tables, because a view fires on the shard that received the block.
 */
export function distributeStatement(statement: string, ctx: DdlContext): string[] {
  if (!ctx.cluster || !ctx.distributed) return [statement];
  const sharded = Object.keys(SHARDING_KEYS);
  // `FROM t` becomes `FROM t_local AS t` so qualified columns (`t.Status`) still resolve.
  const toLocal = (sql: string) =>
    sharded.reduce(
      (s, t) =>
        s
          .replace(new RegExp(`\\bTO ${t}\\b(?!_)`, 'g'), `TO ${t}_local`)
          .replace(new RegExp(`\\b(FROM|JOIN) ${t}\\b(?!_)(?=\\s+AS\\b)`, 'g'), `$1 ${t}_local`)
          .replace(new RegExp(`\\b(FROM|JOIN) ${t}\\b(?!_)(?!\\s+AS\\b)`, 'g'), `$1 ${t}_local AS ${t}`),
      sql,
    );
  const table = CREATE_TABLE.exec(statement);
  if (table) {
    const name = table[2]!;
    const key = SHARDING_KEYS[name];
    if (!key) return [statement];
    const local = statement.replace(CREATE_TABLE, `$1${name}_local$3`);
    const distributed =
      `CREATE TABLE IF NOT EXISTS ${name}${onCluster(ctx)} AS ${name}_local\n    ` +
      `ENGINE = Distributed('${ctx.cluster}', currentDatabase(), '${name}_local', ${key})`;
    return [local, distributed];
  }
  if (CREATE_VIEW.test(statement)) return [toLocal(statement)];
  return [statement];
}
