import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { BASE_TO_RANGE, IDX, PROJECT_FILTER, windowParams } from './sql.js';
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
const SOURCE = `
  SELECT ProjectId AS project, g.1 AS model, g.2 AS promptName, m.1 AS metric, m.2 AS value, ${IDX} AS idx
  FROM llm_calls
  ARRAY JOIN if(PromptName = '', [(Model, '')], [(Model, ''), (Model, PromptName)]) AS g
  ARRAY JOIN [('latency', LatencyMs), ('ttft', TtftMs)] AS m
  WHERE ${BASE_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error' AND m.2 IS NOT NULL`;

export const LATENCY_STATS_SQL = `
SELECT project, model, promptName, metric,
  toUInt32(countIf(idx = 0)) AS nCur, toUInt32(countIf(idx = 1)) AS nBase,
  quantileTDigestIf(0.5)(assumeNotNull(value), idx = 0) AS p50Cur,
  quantileTDigestIf(0.95)(assumeNotNull(value), idx = 0) AS p95Cur,
  quantileTDigestIf(0.5)(assumeNotNull(value), idx = 1) AS p50Base,
  quantileTDigestIf(0.95)(assumeNotNull(value), idx = 1) AS p95Base
FROM (${SOURCE})
GROUP BY project, model, promptName, metric
HAVING nCur >= {minSamples:UInt32} AND nBase >= {minBaseline:UInt32}`;

/** Mann-Whitney U (current stochastically greater) for the candidate groups only: it fails on an empty sample. */
export const LATENCY_TEST_SQL = `
SELECT project, model, promptName, metric,
  mannWhitneyUTest('greater')(assumeNotNull(value), idx) AS r, r.1 AS u, r.2 AS p
FROM (${SOURCE})
WHERE has({keys:Array(Array(String))}, [toString(project), toString(model), toString(promptName), metric])
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
    const c = ctx.config.latency_regression;
    const params = windowParams(ctx);
    const stats = await queryRows<LatencyStatsRow>(ctx.client, LATENCY_STATS_SQL, {
      ...params,
      minSamples: c.minSamples,
      minBaseline: c.minBaselineSamples,
    });
    const candidates = latencyCandidates(stats, ctx.config);
    if (candidates.length === 0) return [];
    // Model-level tests are always run for candidates' models so prompt-level duplicates can be dropped.
    const keys = new Map<string, [string, string, string, string]>();
    for (const r of candidates) {
      keys.set(`${r.project}\n${r.model}\n${r.promptName}\n${r.metric}`, [
        r.project,
        r.model,
        r.promptName,
        r.metric,
      ]);
      const modelStats = stats.find(
        (s) => s.project === r.project && s.model === r.model && s.promptName === '' && s.metric === r.metric,
      );
      if (modelStats) keys.set(`${r.project}\n${r.model}\n\n${r.metric}`, [r.project, r.model, '', r.metric]);
    }
    const tests = await queryRows<LatencyTestRow>(ctx.client, LATENCY_TEST_SQL, {
      ...params,
      keys: [...keys.values()],
    });
    return evaluateLatency(stats, tests, ctx.window, ctx.config);
  },
};
