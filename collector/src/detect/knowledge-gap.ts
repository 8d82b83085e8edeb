import { diagnoseOptions } from '../rag/config.js';
import { diagnoseRange } from '../rag/diagnose.js';
import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { poissonSf } from './stats.js';
import { detection, pct, round, type DetectContext, type Detection, type Detector } from './types.js';

/**
 * knowledge_gap (docs/rag.md): the share of a pipeline's RAG answers for which nothing relevant
 * was retrieved (and no stored document covers the question) rises against the days before —
 * users ask about something the knowledge base does not hold. The alert lists the question terms
 * most over-represented in the new gaps: what to add to the knowledge base.
 *
 * Verdicts come from rag_diagnoses; the detector first diagnoses the window's RAG traces that
 * have none yet, so the live scheduler and a backtest fill the table window by window; history
 * from before llmwatch diagnosed it is filled by `llmwatch rag --from … --to …`.
 */

export interface GapRateRow {
  project: string;
  pipeline: string;
  service: string;
  promptName: string;
  nCur: number;
  gCur: number;
  nBase: number;
  gBase: number;
  /** Two-proportion z-test, pooled (ClickHouse proportionsZTest); null when both shares are 0. */
  z: number | null;
  p: number | null;
}

export interface GapTermRow {
  term: string;
  /** Gap questions of the window that mention the term. */
  gaps: number;
  /** Every other diagnosed question (baseline, and the window's non-gaps) that does. */
  others: number;
}

const RANGE = `Timestamp >= fromUnixTimestamp64Milli({base:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})`;
const CUR = `Timestamp >= fromUnixTimestamp64Milli({from:Int64})`;

const GAP_RATE_SQL = `
SELECT ProjectId AS project, Pipeline AS pipeline, any(ServiceName) AS service, topK(1)(PromptName)[1] AS promptName,
  toUInt32(countIf(${CUR})) AS nCur, toUInt32(countIf(${CUR} AND Verdict = 'knowledge_gap')) AS gCur,
  toUInt32(countIf(NOT ${CUR})) AS nBase, toUInt32(countIf(NOT ${CUR} AND Verdict = 'knowledge_gap')) AS gBase,
  proportionsZTest(gCur, gBase, nCur, nBase, 0.95, 'pooled') AS t, t.1 AS z, t.2 AS p
FROM rag_diagnoses FINAL
WHERE ${RANGE} AND ({project:String} = '' OR ProjectId = {project:String})
GROUP BY project, pipeline
HAVING nCur >= {minTraces:UInt32}`;

const GAP_TERMS_SQL = `
SELECT term, toUInt32(countIf(gap)) AS gaps, toUInt32(countIf(NOT gap)) AS others
FROM (
  SELECT arrayJoin(arrayDistinct(QuestionTerms)) AS term, (${CUR} AND Verdict = 'knowledge_gap') AS gap
  FROM rag_diagnoses FINAL
  WHERE ${RANGE} AND ProjectId = {project:String} AND Pipeline = {pipeline:String})
GROUP BY term
HAVING gaps >= {minTermGaps:UInt32}`;

/**
 * Terms over-represented in the window's gap questions, by their smoothed log ratio of rates
 * (gaps vs all other diagnosed questions), most over-represented first.
 */
export function overRepresentedTerms(
  rows: readonly GapTermRow[],
  totalGaps: number,
  totalOthers: number,
  limit = 8,
) {
  return rows
    .map((r) => ({
      term: r.term,
      gaps: r.gaps,
      others: r.others,
      logRatio: Math.log((r.gaps + 0.5) / (totalGaps + 1)) - Math.log((r.others + 0.5) / (totalOthers + 1)),
    }))
    .filter((t) => t.logRatio > Math.log(2))
    .sort((a, b) => b.logRatio - a.logRatio || b.gaps - a.gaps)
    .slice(0, limit)
    .map((t) => ({ ...t, logRatio: round(t.logRatio, 3) }));
}

export function evaluateGapRates(rows: readonly GapRateRow[], cfg: DetectionConfig): GapRateRow[] {
  const c = cfg.knowledge_gap;
  return rows.filter((r) => {
    if (r.nBase < c.minBaselineTraces || r.gCur < c.minGaps) return false;
    const cur = r.gCur / r.nCur;
    // Jeffreys-smoothed: a baseline without a single gap is not a zero rate.
    const base = (r.gBase + 0.5) / (r.nBase + 1);
    // The z-test is undefined when the baseline has no gap at all; the exact Poisson tail at the
    // baseline rate must agree in any case (few gaps: the normal approximation is too generous).
    const zOk = r.z === null || r.p === null ? true : r.z > 0 && r.p / 2 < c.alpha;
    return (
      cur - base >= c.minAbsoluteIncrease &&
      cur >= c.minRatio * base &&
      zOk &&
      poissonSf(r.gCur, r.nCur * base) < c.alpha
    );
  });
}

async function run({ client, config: cfg, window, project }: DetectContext): Promise<Detection[]> {
  const c = cfg.knowledge_gap;
  const base = window.fromMs - c.baselineDays * 86_400_000;
  // Only the window: earlier windows were diagnosed by earlier passes (or by a backfill,
  // `llmwatch rag --from`), so a pass never rescans the whole baseline's spans.
  await diagnoseRange(
    client,
    { ...(project !== undefined ? { project } : {}), fromMs: window.fromMs, toMs: window.toMs },
    diagnoseOptions(cfg.rag),
  );
  const params = {
    base,
    from: window.fromMs,
    to: window.toMs,
    project: project ?? '',
    minTraces: c.minTraces,
  };
  const rows = await queryRows<GapRateRow>(client, GAP_RATE_SQL, params);
  const out: Detection[] = [];
  for (const r of evaluateGapRates(rows, cfg)) {
    const terms = overRepresentedTerms(
      await queryRows<GapTermRow>(client, GAP_TERMS_SQL, {
        ...params,
        project: r.project,
        pipeline: r.pipeline,
        minTermGaps: c.minTermGaps,
      }),
      r.gCur,
      r.nBase + r.nCur - r.gCur,
    );
    const cur = r.gCur / r.nCur;
    const baseRate = r.gBase / r.nBase;
    const subject = { service: r.service, ...(r.promptName ? { promptName: r.promptName } : {}) };
    const about = terms.length
      ? `; questions now ask about ${terms
          .slice(0, 5)
          .map((t) => t.term)
          .join(', ')}`
      : '';
    out.push(
      detection(
        {
          kind: 'knowledge_gap',
          severity: cur >= 0.3 ? 'critical' : 'warning',
          project: r.project,
          rule: `knowledge_gap.${r.pipeline}`,
          subject,
          observed: round(cur, 4),
          baseline: round(baseRate, 4),
          message: `Knowledge gaps in pipeline ${r.pipeline}: ${pct(cur)} of answers (${r.gCur}/${r.nCur}) had nothing relevant retrieved, vs ${pct(baseRate)} before${about}.`,
          evidence: {
            unit: 'knowledge_gap_ratio',
            pipeline: r.pipeline,
            traces: r.nCur,
            gaps: r.gCur,
            baselineTraces: r.nBase,
            baselineGaps: r.gBase,
            baselineDays: c.baselineDays,
            overRepresentedTerms: terms,
            test: {
              name: 'two-proportion-z',
              z: round(r.z ?? 0, 2),
              pValue: (r.p ?? 1) / 2,
              poissonP: poissonSf(r.gCur, (r.nCur * (r.gBase + 0.5)) / (r.nBase + 1)),
              alternative: 'greater',
            },
          },
        },
        window,
      ),
    );
  }
  return out;
}

export const knowledgeGapDetector: Detector = { kind: 'knowledge_gap', run };
