import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { baselineSample, keyIn, DIST_TO_RANGE, IDX, PROJECT_FILTER, windowParams } from './sql.js';
import {
  detection,
  describeSubject,
  pct,
  round,
  type DetectContext,
  type Detection,
  type DetectWindow,
  type Detector,
} from './types.js';

type Metric = 'latency' | 'ttft';

export interface LatencyStatsRow {
  project: string;
  model: string;
  promptName: string;
  metric: Metric;
  nCur: number;
  nBase: number;
  p50Cur: number;
  p95Cur: number;
  p50Base: number;
  p95Base: number;
}

export interface LatencyTestRow {
  project: string;
  model: string;
  promptName: string;
  metric: Metric;
  u: number;
  p: number;
}

// Per model, and per model+prompt; errors are excluded (a failing call is fast and says
// nothing about speed). TTFT only where the call streamed and reported it.
// Both metrics in one pass over the calls (one row per call and group), unpivoted in JS.
export const LATENCY_STATS_SQL = `
SELECT ProjectId AS project, g.1 AS model, g.2 AS promptName,
  toUInt32(countIf(idx = 0)) AS nCur, toUInt32(countIf(idx = 1)) AS nBase,
  toUInt32(countIf(idx = 0 AND TtftMs IS NOT NULL)) AS tCur, toUInt32(countIf(idx = 1 AND TtftMs IS NOT NULL)) AS tBase,
  quantilesTDigestIf(0.5, 0.95)(LatencyMs, idx = 0) AS latCur,
  quantilesTDigestIf(0.5, 0.95)(LatencyMs, idx = 1) AS latBase,
  quantilesTDigestIf(0.5, 0.95)(assumeNotNull(TtftMs), idx = 0 AND TtftMs IS NOT NULL) AS ttftCur,
  quantilesTDigestIf(0.5, 0.95)(assumeNotNull(TtftMs), idx = 1 AND TtftMs IS NOT NULL) AS ttftBase
FROM (SELECT ProjectId, Model, PromptName, LatencyMs, TtftMs, ${IDX} AS idx FROM llm_calls
      WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error')
ARRAY JOIN if(PromptName = '', [(Model, '')], [(Model, ''), (Model, PromptName)]) AS g
GROUP BY project, model, promptName`;

interface LatencyStatsQueryRow {
  project: string;
  model: string;
  promptName: string;
  nCur: number;
  nBase: number;
  tCur: number;
  tBase: number;
  latCur: number[];
  latBase: number[];
  ttftCur: number[];
  ttftBase: number[];
}

/** Pure: one stats row per group and metric, for the groups with enough samples. */
export function unpivotLatencyStats(rows: LatencyStatsQueryRow[], cfg: DetectionConfig): LatencyStatsRow[] {
  const c = cfg.latency_regression;
  const out: LatencyStatsRow[] = [];
  for (const r of rows) {
    const base = { project: r.project, model: r.model, promptName: r.promptName };
    if (r.nCur >= c.minSamples && r.nBase >= c.minBaselineSamples)
      out.push({
        ...base,
        metric: 'latency',
        nCur: r.nCur,
        nBase: r.nBase,
        p50Cur: r.latCur[0]!,
        p95Cur: r.latCur[1]!,
        p50Base: r.latBase[0]!,
        p95Base: r.latBase[1]!,
      });
    if (r.tCur >= c.minSamples && r.tBase >= c.minBaselineSamples)
      out.push({
        ...base,
        metric: 'ttft',
        nCur: r.tCur,
        nBase: r.tBase,
        p50Cur: r.ttftCur[0]!,
        p95Cur: r.ttftCur[1]!,
        p50Base: r.ttftBase[0]!,
        p95Base: r.ttftBase[1]!,
      });
  }
  return out;
}

/**
 * Mann-Whitney U (current stochastically greater) for the candidate groups only (it fails on an
 * empty sample), reading only the candidates' models.
 */
export const latencyTestSql = (sample: string): string => `
SELECT project, model, promptName, metric,
  mannWhitneyUTest('greater')(value, idx) AS r, r.1 AS u, r.2 AS p
FROM (
  SELECT ProjectId AS project, g.1 AS model, g.2 AS promptName, m.1 AS metric, assumeNotNull(m.2) AS value, ${IDX} AS idx
  FROM llm_calls
  ARRAY JOIN if(PromptName = '', [(Model, '')], [(Model, ''), (Model, PromptName)]) AS g
  ARRAY JOIN [('latency', LatencyMs), ('ttft', TtftMs)] AS m
  WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error' AND Model IN {models:Array(String)}
    AND m.2 IS NOT NULL AND ${keyIn(['ProjectId', 'g.1', 'g.2', 'm.1'])} AND ${sample}
)
GROUP BY project, model, promptName, metric`;

function relChange(cur: number, base: number): number {
  return base > 0 ? cur / base - 1 : cur > 0 ? Number.POSITIVE_INFINITY : 0;
}

/** Pure: groups whose p50 or p95 rose enough to be worth a significance test. */
export function latencyCandidates(rows: LatencyStatsRow[], cfg: DetectionConfig): LatencyStatsRow[] {
  const min = cfg.latency_regression.minRelativeChange;
  return rows.filter((r) => Math.max(relChange(r.p50Cur, r.p50Base), relChange(r.p95Cur, r.p95Base)) >= min);
}

export function evaluateLatency(
  stats: LatencyStatsRow[],
  tests: LatencyTestRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const c = cfg.latency_regression;
  const pValue = new Map(tests.map((t) => [`${t.project}\n${t.model}\n${t.promptName}\n${t.metric}`, t]));
  const candidates = latencyCandidates(stats, cfg).filter((r) => {
    const t = pValue.get(`${r.project}\n${r.model}\n${r.promptName}\n${r.metric}`);
    return t !== undefined && t.p < c.alpha;
  });
  // A model-level rise is reported when the model has no prompt groups or at least one of its
  // prompts regressed too; otherwise it is a change of traffic mix (e.g. a batch of long
  // prompts), not a slower model. Prompt-level rises are then folded into the model's alert.
  const promptFiring = new Set(
    candidates.filter((r) => r.promptName !== '').map((r) => `${r.project}\n${r.model}\n${r.metric}`),
  );
  const hasPrompts = new Set(
    stats.filter((r) => r.promptName !== '').map((r) => `${r.project}\n${r.model}\n${r.metric}`),
  );
  const firingModels = new Set(
    candidates
      .filter((r) => r.promptName === '')
      .map((r) => `${r.project}\n${r.model}\n${r.metric}`)
      .filter((k) => !hasPrompts.has(k) || promptFiring.has(k)),
  );
  const out: Detection[] = [];
  for (const r of candidates) {
    const t = pValue.get(`${r.project}\n${r.model}\n${r.promptName}\n${r.metric}`)!;
    const modelKey = `${r.project}\n${r.model}\n${r.metric}`;
    if (r.promptName === '' && !firingModels.has(modelKey)) continue;
    if (r.promptName !== '' && firingModels.has(modelKey)) continue;
    const d50 = relChange(r.p50Cur, r.p50Base);
    const d95 = relChange(r.p95Cur, r.p95Base);
    const which = d95 >= d50 ? 'p95' : 'p50';
    const observed = which === 'p95' ? r.p95Cur : r.p50Cur;
    const baseline = which === 'p95' ? r.p95Base : r.p50Base;
    const label = r.metric === 'ttft' ? 'time to first token' : 'latency';
    const subject = { model: r.model, promptName: r.promptName };
    out.push(
      detection(
        {
          kind: 'latency_regression',
          severity: Math.max(d50, d95) >= 1 ? 'critical' : 'warning',
          project: r.project,
          rule: `latency_regression.${r.metric}`,
          subject,
          observed: round(observed, 1),
          baseline: round(baseline, 1),
          message: `${label[0]!.toUpperCase()}${label.slice(1)} of ${describeSubject(subject)} rose: ${which} ${Math.round(observed)} ms vs ${Math.round(baseline)} ms (+${pct(Math.max(d50, d95))}; Mann-Whitney p=${t.p.toExponential(1)}, n=${r.nCur}).`,
          evidence: {
            unit: 'ms',
            metric: r.metric,
            p50: { current: round(r.p50Cur, 1), baseline: round(r.p50Base, 1), change: round(d50, 3) },
            p95: { current: round(r.p95Cur, 1), baseline: round(r.p95Base, 1), change: round(d95, 3) },
            samples: { current: r.nCur, baseline: r.nBase },
            test: { name: 'mann-whitney-u', alternative: 'greater', u: t.u, pValue: t.p },
          },
        },
        window,
      ),
    );
  }
  return out;
}

export const latencyDetector: Detector = {
  kind: 'latency_regression',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const params = windowParams(ctx);
    const stats = unpivotLatencyStats(
      await queryRows<LatencyStatsQueryRow>(ctx.client, LATENCY_STATS_SQL, params),
      ctx.config,
    );
    const candidates = latencyCandidates(stats, ctx.config);
    if (candidates.length === 0) return [];
    const keys = candidates.map((r) => [r.project, r.model, r.promptName, r.metric]);
    // Each group's baseline is subsampled to ~5000 rows: plenty for the rank test, bounded cost.
    const sample = baselineSample(
      candidates.map((r) => ({ key: [r.project, r.model, r.promptName, r.metric], nBase: r.nBase })),
      ['ProjectId', 'g.1', 'g.2', 'm.1'],
      5_000,
    );
    const tests = await queryRows<LatencyTestRow>(ctx.client, latencyTestSql(sample.sql), {
      ...params,
      ...sample.params,
      keys,
      models: [...new Set(candidates.map((r) => r.model))],
    });
    return evaluateLatency(stats, tests, ctx.window, ctx.config);
  },
};
