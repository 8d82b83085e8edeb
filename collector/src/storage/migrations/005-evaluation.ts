import type { Migration } from './index.js';
import { columnTables, engine, onCluster, type DdlContext } from './ddl.js';

/**
 * Scores written by llmwatch's own evaluators (collector/src/eval) say which evaluator and which
 * version of it produced them, so a changed rubric or schema re-scores instead of mixing with old
 * scores, and an LLM judge's own cost and latency are kept next to its verdict. Columns default to
 * empty/zero: scores posted through `POST /api/scores` and existing rows stay valid.
 */
const SCORE_COLUMNS = [
  "Evaluator LowCardinality(String) DEFAULT ''",
  "EvaluatorVersion LowCardinality(String) DEFAULT ''",
  'EvalCostUsd Float64 DEFAULT 0',
  'EvalLatencyMs Float64 DEFAULT 0',
];

/** The ALTER adding `column` to scores (both tables on a sharded cluster: columnTables). */
function alterScores(ctx: DdlContext, column: string): string[] {
  return columnTables(ctx, 'scores').map(
    (t) => `ALTER TABLE ${t}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS ${column}`,
  );
}

export const evaluationSchema: Migration = {
  version: 5,
  name: 'evaluation',
  statements: (ctx: DdlContext) => [
    ...SCORE_COLUMNS.flatMap((column) => alterScores(ctx, column)),
    // What LLM judges spent per UTC day, failed and timed-out requests included (they write no
    // score, so the scores table alone would undercount): the daily budget reads it back.
    `CREATE TABLE IF NOT EXISTS eval_spend${onCluster(ctx)} (
      ProjectId LowCardinality(String),
      Day Date,
      Evaluator LowCardinality(String),
      Requests UInt64,
      Failures UInt64,
      CostUsd Float64
    ) ENGINE = ${engine(ctx, 'SummingMergeTree')}
    ORDER BY (ProjectId, Day, Evaluator)
    TTL Day + toIntervalDay(${ctx.retention.alerts})`,
  ],
};
