import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { DIST_TO_RANGE, IDX, PROJECT_FILTER, windowParams } from './sql.js';
import { poissonSf } from './stats.js';
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

export interface ErrorRateRow {
  project: string;
  provider: string;
  model: string;
  nCur: number;
  eCur: number;
  nBase: number;
  eBase: number;
  /** Two-proportion z-test, pooled (ClickHouse proportionsZTest); null when both ratios are 0. */
  z: number | null;
  p: number | null;
  errorTypes: Record<string, number>;
}

/**
 * Error ratio per provider and per provider+model, current window vs baseline, tested in SQL.
 * `withBaseline: false` (the guard of projects still learning) keeps groups without a baseline.
 */
const errorRateSql = (withBaseline: boolean): string => `
SELECT project, provider, model, nCur, eCur, nBase, eBase, errorTypes,
  proportionsZTest(eCur, eBase, nCur, nBase, 0.95, 'pooled') AS t, t.1 AS z, t.2 AS p
FROM (
  SELECT ProjectId AS project, g.1 AS provider, g.2 AS model,
    toUInt64(countIf(idx = 0)) AS nCur, toUInt64(countIf(idx = 0 AND Status = 'error')) AS eCur,
    toUInt64(countIf(idx = 1)) AS nBase, toUInt64(countIf(idx = 1 AND Status = 'error')) AS eBase,
    sumMapIf(map(if(ErrorType = '', '(unknown)', toString(ErrorType)), toUInt64(1)), idx = 0 AND Status = 'error') AS errorTypes
  FROM (SELECT ProjectId, Provider, Model, Status, ErrorType, ${IDX} AS idx FROM llm_calls WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER})
  ARRAY JOIN [(Provider, ''), (Provider, Model)] AS g
  GROUP BY project, provider, model
  HAVING nCur >= {minCalls:UInt32} ${withBaseline ? 'AND nBase >= {minCalls:UInt32}' : ''} AND eCur > 0
)`;
export const ERROR_RATE_SQL = errorRateSql(true);
const ERROR_GUARD_SQL = errorRateSql(false);

export function evaluateErrorRate(
  rows: ErrorRateRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const c = cfg.error_rate;
  return errorDetections(
    rows.filter((r) => {
      const cur = r.eCur / r.nCur;
      const base = r.eBase / r.nBase;
      // ClickHouse's proportionsZTest is undefined (null) when a sample has no errors at all, e.g.
      // a clean baseline: the exact test below decides alone then.
      const zOk = r.z === null || r.p === null ? true : r.z > 0 && r.p / 2 < c.alpha;
      // With a handful of errors the z-test's normal approximation is too generous: the count must
      // also be improbable as a Poisson draw at the baseline ratio (Jeffreys-smoothed: a baseline
      // without errors is not a zero rate).
      const exact = poissonSf(r.eCur, (r.nCur * (r.eBase + 0.5)) / (r.nBase + 1));
      return (
        r.eCur >= c.minErrors &&
        zOk &&
        exact < c.alpha &&
        cur - base >= c.minAbsoluteIncrease &&
        cur >= c.minRatio * base
      );
    }),
    window,
  );
}

/** Pure: the error rates of projects still learning, against the absolute limits of `guard`. */
export function evaluateErrorGuard(
  rows: ErrorRateRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const g = cfg.error_rate.guard;
  return errorDetections(
    rows.filter((r) => r.eCur >= g.minErrors && r.eCur / r.nCur >= g.minRatio),
    window,
  );
}

function errorDetections(firing: ErrorRateRow[], window: DetectWindow): Detection[] {
  // Two or more failing models of one provider: one alert for the provider. One failing model:
  // an alert for that model. A provider failing with no single model significant: the provider.
  const modelsFiring = new Map<string, number>();
  for (const r of firing)
    if (r.model !== '')
      modelsFiring.set(
        `${r.project}\n${r.provider}`,
        (modelsFiring.get(`${r.project}\n${r.provider}`) ?? 0) + 1,
      );
  const out: Detection[] = [];
  for (const r of firing) {
    const n = modelsFiring.get(`${r.project}\n${r.provider}`) ?? 0;
    if (r.model === '' && n === 1) continue;
    if (r.model !== '' && n >= 2) continue;
    const cur = r.eCur / r.nCur;
    const base = r.nBase > 0 ? r.eBase / r.nBase : 0;
    const types = Object.entries(r.errorTypes).sort((a, b) => b[1] - a[1]);
    const [dominant, dominantCount] = types[0] ?? ['(unknown)', 0];
    const subject = { provider: r.provider, model: r.model };
    out.push(
      detection(
        {
          kind: 'error_rate',
          severity: cur >= 0.25 ? 'critical' : 'warning',
          project: r.project,
          rule: r.model === '' ? 'error_rate.provider' : 'error_rate.model',
          subject,
          observed: round(cur, 4),
          baseline: round(base, 4),
          message: `Error rate of ${describeSubject(subject)} is ${pct(cur)} (${r.eCur}/${r.nCur}) ${r.nBase > 0 ? `vs ${pct(base)} before` : 'with too little history to compare'}; mostly ${dominant} (${pct(dominantCount / r.eCur)} of errors).`,
          evidence: {
            unit: 'error_ratio',
            calls: r.nCur,
            errors: r.eCur,
            baselineCalls: r.nBase,
            baselineErrors: r.eBase,
            dominantErrorType: dominant,
            dominantShare: round(dominantCount / r.eCur, 3),
            errorTypes: Object.fromEntries(types.slice(0, 5)),
            test: {
              name: 'two-proportion-z',
              z: round(r.z ?? 0, 2),
              pValue: (r.p ?? 1) / 2,
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

export const errorRateDetector: Detector = {
  kind: 'error_rate',
  async run(ctx: DetectContext): Promise<Detection[]> {
    return evaluateErrorRate(await errorRows(ctx, ERROR_RATE_SQL), ctx.window, ctx.config);
  },
  async guard(ctx: DetectContext): Promise<Detection[]> {
    return evaluateErrorGuard(await errorRows(ctx, ERROR_GUARD_SQL), ctx.window, ctx.config);
  },
};

async function errorRows(ctx: DetectContext, sql: string): Promise<ErrorRateRow[]> {
  const rows = await queryRows<ErrorRateRow>(ctx.client, sql, {
    ...windowParams(ctx),
    minCalls: ctx.config.error_rate.minCalls,
  });
  return rows.map((r) => ({
    ...r,
    nCur: Number(r.nCur),
    eCur: Number(r.eCur),
    nBase: Number(r.nBase),
    eBase: Number(r.eBase),
  }));
}
