import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { fineTuneLineage } from '../datasets/finetune.js';
import { CALL_SELECTOR, callSelectorWhere } from '../storage/call-selector.js';
import { queryRows } from '../storage/clickhouse.js';
import {
  callsNeeded,
  differenceFromCis,
  holm,
  nonInferiorityP,
  quantileCiLevels,
  welchTest,
} from './stats.js';

/**
 * Cohort comparison: is B better than A, on what, by how much, and how sure are we? Two cohorts of
 * stored calls (by prompt version, model, service, tag and time range) are compared on cost,
 * latency, time to first token, errors, output length and every score; tests run in ClickHouse
 * where it has them, p-values are Holm-corrected over the metrics, and quality is judged with a
 * non-inferiority margin. See docs/evaluation.md.
 */
export const cohortSchema = z
  .object({
    ...CALL_SELECTOR,
    /** Calls of the model a registered fine-tune run produced (llmwatch finetune register). */
    fineTune: z.string().max(100).optional(),
    /** Calls of the base model of a registered fine-tune run. */
    fineTuneBase: z.string().max(100).optional(),
  })
  .strict()
  .refine((c) => c.to > c.from, { message: 'to: must be after from', path: ['to'] })
  .refine((c) => [c.model, c.fineTune, c.fineTuneBase].filter((v) => v !== undefined).length <= 1, {
    message: 'model, fineTune and fineTuneBase each name the model: give one',
    path: ['model'],
  });
export type Cohort = z.output<typeof cohortSchema>;

export const compareOptionsSchema = z
  .object({
    /** Family-wise significance level (after Holm). */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Largest drop of a 0..1 score still called "not worse". */
    margin: z.number().gt(0).default(0.05),
    /** Fewest calls per cohort before anything is concluded. */
    minCalls: z.number().int().min(5).default(30),
    /** Fewest scored calls per cohort before a score is compared. */
    minScores: z.number().int().min(5).default(20),
    /** Relative change the "more calls needed" estimate is sized to detect (cost, latency, tokens). */
    detectableChange: z.number().gt(0).lt(1).default(0.1),
  })
  .strict()
  .prefault({});
export type CompareOptions = z.output<typeof compareOptionsSchema>;

export type Verdict = 'better' | 'worse' | 'no_difference' | 'non_inferior' | 'inconclusive' | 'insufficient';

export interface MetricComparison {
  metric: string;
  /** Which direction is good. */
  better: 'lower' | 'higher';
  unit: string;
  a: { n: number; value: number | null };
  b: { n: number; value: number | null };
  /** B − A, with its 95% confidence interval; relative to A where A is not 0. */
  change: { absolute: number | null; relative: number | null; ci: [number, number] | null };
  test: string;
  pValue: number | null;
  /** Holm-adjusted over every metric of the comparison. */
  pAdjusted: number | null;
  /** Scores: one-sided p of "B is worse than A by at least the margin" (Holm-adjusted). */
  nonInferiority?: { margin: number; pValue: number; pAdjusted: number | null };
  verdict: Verdict;
  /** With too little data: about how many more calls per cohort a decision needs. */
  moreCallsNeeded?: number;
}

export interface Comparison {
  a: Cohort;
  b: Cohort;
  options: CompareOptions;
  status: 'ok' | 'insufficient';
  calls: { a: number; b: number };
  metrics: MetricComparison[];
  /** One sentence: what changed, significantly, from A to B. */
  summary: string;
}

function cohortWhere(c: Cohort, p: 'a' | 'b', params: Record<string, unknown>): string {
  return callSelectorWhere(c, params, `${p}_`).join(' AND ');
}

/** idx 1 = cohort A, idx 0 = cohort B: ClickHouse's two-sample tests then report B − A. */
function source(a: Cohort, b: Cohort, params: Record<string, unknown>): string {
  const cols = 'TraceId, SpanId, Status, CostUsd, LatencyMs, TtftMs, OutputTokens';
  return `SELECT ${cols}, toUInt8(1) AS idx FROM llm_calls WHERE ${cohortWhere(a, 'a', params)}
    UNION ALL SELECT ${cols}, toUInt8(0) AS idx FROM llm_calls WHERE ${cohortWhere(b, 'b', params)}`;
}

interface Counts {
  nA: number;
  nB: number;
  okA: number;
  okB: number;
  ttftA: number;
  ttftB: number;
}

type TTest = {
  t_statistic: number;
  p_value: number;
  confidence_interval_low: number;
  confidence_interval_high: number;
};

interface MainRow {
  eA: number;
  eB: number;
  errZ: { p_value: number; confidence_interval_low: number; confidence_interval_high: number };
  costNA: number;
  costNB: number;
  costA: number;
  costB: number;
  costVarA: number;
  costVarB: number;
  costT: TTest;
  outA: number;
  outB: number;
  outVarA: number;
  outVarB: number;
  outT: TTest;
  latMeanA: number;
  latMeanB: number;
  latVarA: number;
  latVarB: number;
  latA: number[];
  latB: number[];
  latU: { p_value: number };
  ttftA: number[];
  ttftB: number[];
  ttftU: { p_value: number };
}

interface ScoreRowOut {
  name: string;
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
  varA: number;
  varB: number;
  t: TTest;
}

/**
 * Mann-Whitney U over both cohorts, or a NaN result when one has no values (ClickHouse refuses an
 * empty sample, e.g. time to first token when a cohort never streamed).
 */
const rankTest = (nA: number, nB: number, args: string): string =>
  nA > 0 && nB > 0
    ? `mannWhitneyUTestIf('two-sided')(${args})`
    : `CAST((nan, nan), 'Tuple(u_statistic Float64, p_value Float64)')`;

const num = (x: unknown): number => (x === null || x === undefined ? Number.NaN : Number(x));
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const quantileLevels = (n: number, q: number) => {
  const [lo, hi] = quantileCiLevels(Math.max(1, n), q);
  return [q, lo, hi].map((x) => Math.min(1, Math.max(0, x)).toFixed(6)).join(', ');
};

/** A cohort named by a fine-tune run's lineage selects that run's model (or its base) by id. */
async function resolveLineage(client: ClickHouseClient, project: string, cohort: Cohort): Promise<Cohort> {
  const run = cohort.fineTune ?? cohort.fineTuneBase;
  if (run === undefined) return cohort;
  const lineage = await fineTuneLineage(client, project, run);
  return { ...cohort, model: cohort.fineTune !== undefined ? lineage.resultModel : lineage.baseModel };
}

/** Compares cohort B with cohort A on every metric; see Comparison. */
export async function compareCohorts(
  client: ClickHouseClient,
  project: string,
  a: Cohort,
  b: Cohort,
  options: CompareOptions = compareOptionsSchema.parse({}),
): Promise<Comparison> {
  a = await resolveLineage(client, project, a);
  b = await resolveLineage(client, project, b);
  const params: Record<string, unknown> = { project };
  const src = source(a, b, params);
  const [counts] = await queryRows<Counts>(
    client,
    `SELECT toUInt32(countIf(idx = 1)) AS nA, toUInt32(countIf(idx = 0)) AS nB,
       toUInt32(countIf(idx = 1 AND Status != 'error')) AS okA, toUInt32(countIf(idx = 0 AND Status != 'error')) AS okB,
       toUInt32(countIf(idx = 1 AND Status != 'error' AND TtftMs IS NOT NULL)) AS ttftA,
       toUInt32(countIf(idx = 0 AND Status != 'error' AND TtftMs IS NOT NULL)) AS ttftB
     FROM (${src})`,
    params,
  );
  const c = {
    nA: num(counts?.nA),
    nB: num(counts?.nB),
    okA: num(counts?.okA),
    okB: num(counts?.okB),
    ttftA: num(counts?.ttftA),
    ttftB: num(counts?.ttftB),
  };
  const ok = `Status != 'error'`;
  const ttftOk = `${ok} AND TtftMs IS NOT NULL`;
  const [m] = await queryRows<MainRow>(
    client,
    `SELECT countIf(idx = 1 AND Status = 'error') AS eA, countIf(idx = 0 AND Status = 'error') AS eB,
       proportionsZTest(eB, eA, greatest(countIf(idx = 0), 1), greatest(countIf(idx = 1), 1), 0.95, 'unpooled') AS errZ,
       countIf(idx = 1 AND CostUsd IS NOT NULL) AS costNA, countIf(idx = 0 AND CostUsd IS NOT NULL) AS costNB,
       avgIf(CostUsd, idx = 1 AND CostUsd IS NOT NULL) AS costA, avgIf(CostUsd, idx = 0 AND CostUsd IS NOT NULL) AS costB,
       varSampIf(CostUsd, idx = 1 AND CostUsd IS NOT NULL) AS costVarA, varSampIf(CostUsd, idx = 0 AND CostUsd IS NOT NULL) AS costVarB,
       avgIf(OutputTokens, idx = 1 AND ${ok}) AS outA, avgIf(OutputTokens, idx = 0 AND ${ok}) AS outB,
       varSampIf(toFloat64(OutputTokens), idx = 1 AND ${ok}) AS outVarA, varSampIf(toFloat64(OutputTokens), idx = 0 AND ${ok}) AS outVarB,
       avgIf(LatencyMs, idx = 1 AND ${ok}) AS latMeanA, avgIf(LatencyMs, idx = 0 AND ${ok}) AS latMeanB,
       varSampIf(LatencyMs, idx = 1 AND ${ok}) AS latVarA, varSampIf(LatencyMs, idx = 0 AND ${ok}) AS latVarB,
       quantilesExactIf(${quantileLevels(c.okA, 0.5)}, ${quantileLevels(c.okA, 0.95)})(LatencyMs, idx = 1 AND ${ok}) AS latA,
       quantilesExactIf(${quantileLevels(c.okB, 0.5)}, ${quantileLevels(c.okB, 0.95)})(LatencyMs, idx = 0 AND ${ok}) AS latB,
       ${rankTest(c.okA, c.okB, `LatencyMs, idx, ${ok}`)} AS latU,
       quantilesExactIf(${quantileLevels(c.ttftA, 0.5)})(ifNull(TtftMs, 0), idx = 1 AND ${ttftOk}) AS ttftA,
       quantilesExactIf(${quantileLevels(c.ttftB, 0.5)})(ifNull(TtftMs, 0), idx = 0 AND ${ttftOk}) AS ttftB,
       ${rankTest(c.ttftA, c.ttftB, `ifNull(TtftMs, 0), idx, ${ttftOk}`)} AS ttftU
     FROM (${src})`,
    params,
  );
  // A score given to a span belongs to that call; one given to a whole trace (no span id) counts
  // once for that trace. Several scores under one name (re-scored, several raters) count as their
  // mean. Set membership (IN) rather than a join: a hash set of the cohort's ids is cheap to build.
  const scoresFrom = Math.min(a.from, b.from) - 86_400_000;
  const SCORES_IN_RANGE = `ProjectId = {project:String} AND Timestamp >= fromUnixTimestamp64Milli({scoresFrom:Int64})`;
  // Most scores name their span: the trace-level set is built only when there are such scores.
  const [traceLevel] = await queryRows<{ n: string }>(
    client,
    `SELECT toString(countIf(SpanId = '')) AS n FROM scores WHERE ${SCORES_IN_RANGE}`,
    { project, scoresFrom },
  );
  const withTraceScores = Number(traceLevel?.n ?? 0) > 0;
  const scoredIn = (p: 'a' | 'b', idx: 0 | 1) => {
    const cohortCalls = cohortWhere(p === 'a' ? a : b, p, params);
    const traceBranch = withTraceScores
      ? ` OR (SpanId = '' AND TraceId IN (SELECT TraceId FROM llm_calls WHERE ${cohortCalls}))`
      : '';
    return `
    SELECT Name, cityHash64(if(SpanId != '', SpanId, TraceId)) AS k, Value, toUInt8(${idx}) AS idx FROM scores
    WHERE ${SCORES_IN_RANGE} AND (SpanId IN (SELECT SpanId FROM llm_calls WHERE ${cohortCalls})${traceBranch})`;
  };
  const scores = await queryRows<ScoreRowOut>(
    client,
    `SELECT name, toUInt32(countIf(idx = 1)) AS nA, toUInt32(countIf(idx = 0)) AS nB,
       avgIf(v, idx = 1) AS meanA, avgIf(v, idx = 0) AS meanB, varSampIf(v, idx = 1) AS varA, varSampIf(v, idx = 0) AS varB
     FROM (
       SELECT Name AS name, k, idx, avg(Value) AS v
       FROM (${scoredIn('a', 1)} UNION ALL ${scoredIn('b', 0)})
       GROUP BY name, k, idx
     )
     GROUP BY name ORDER BY name`,
    { ...params, scoresFrom },
  );
  const main = m!;
  const sample = (mean: number, variance: number, n: number) => ({
    mean: num(mean),
    variance: num(variance),
    n: num(n),
  });
  main.costT = welchTest(
    sample(main.costA, main.costVarA, main.costNA),
    sample(main.costB, main.costVarB, main.costNB),
  );
  main.outT = welchTest(sample(main.outA, main.outVarA, c.okA), sample(main.outB, main.outVarB, c.okB));
  for (const s of scores) s.t = welchTest(sample(s.meanA, s.varA, s.nA), sample(s.meanB, s.varB, s.nB));
  return buildComparison(a, b, options, c, main, scores);
}

/** Pure: the comparison from the aggregates (tested on its own with reference values). */
export function buildComparison(
  a: Cohort,
  b: Cohort,
  options: CompareOptions,
  c: Counts,
  m: MainRow,
  scores: ScoreRowOut[],
): Comparison {
  const metrics: MetricComparison[] = [];
  const enoughCalls = c.nA >= options.minCalls && c.nB >= options.minCalls;

  const rel = (av: number, bv: number) =>
    av !== 0 && Number.isFinite(av) && Number.isFinite(bv) ? bv / av - 1 : null;
  const moreFor = (sdPooled: number, mean: number, have: number) => {
    const need = Math.max(
      options.minCalls,
      callsNeeded(sdPooled, Math.abs(mean) * options.detectableChange, options.alpha),
    );
    return Math.max(0, need - have);
  };

  const meanMetric = (
    metric: string,
    unit: string,
    nA: number,
    nB: number,
    av: number,
    bv: number,
    varA: number,
    varB: number,
    t: TTest | undefined,
  ) => {
    const sd = Math.sqrt(((num(varA) || 0) + (num(varB) || 0)) / 2);
    const base: MetricComparison = {
      metric,
      better: 'lower',
      unit,
      a: { n: nA, value: finite(num(av)) },
      b: { n: nB, value: finite(num(bv)) },
      change: {
        absolute: finite(num(bv) - num(av)),
        relative: finite(rel(num(av), num(bv)) ?? Number.NaN),
        ci: null,
      },
      test: 'Welch t-test (means and variances from ClickHouse avg/varSamp)',
      pValue: null,
      pAdjusted: null,
      verdict: 'insufficient',
    };
    if (nA < options.minCalls || nB < options.minCalls || !t) {
      base.moreCallsNeeded = moreFor(sd, num(av), Math.min(nA, nB));
      return base;
    }
    base.pValue = finite(num(t.p_value));
    const lo = num(t.confidence_interval_low);
    const hi = num(t.confidence_interval_high);
    base.change.ci = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
    // Identical constant samples: ClickHouse has no p-value, and there is no difference.
    if (base.pValue === null && num(varA) === 0 && num(varB) === 0) base.pValue = num(av) === num(bv) ? 1 : 0;
    base.moreCallsNeeded = moreFor(sd, num(av), Math.min(nA, nB));
    return base;
  };

  metrics.push(
    meanMetric(
      'cost_per_call_usd',
      'USD',
      num(m.costNA),
      num(m.costNB),
      m.costA,
      m.costB,
      m.costVarA,
      m.costVarB,
      m.costT,
    ),
  );

  const quantileMetric = (
    metric: string,
    unit: string,
    nA: number,
    nB: number,
    qa: number[] | undefined,
    qb: number[] | undefined,
    offset: number,
    test: string,
    pValue: number | null,
    sdPooled: number,
    mean: number,
  ) => {
    const av = num(qa?.[offset]);
    const bv = num(qb?.[offset]);
    const out: MetricComparison = {
      metric,
      better: 'lower',
      unit,
      a: { n: nA, value: nA ? finite(av) : null },
      b: { n: nB, value: nB ? finite(bv) : null },
      change: { absolute: null, relative: null, ci: null },
      test,
      pValue: null,
      pAdjusted: null,
      verdict: 'insufficient',
    };
    if (nA && nB) {
      out.change.absolute = finite(bv - av);
      out.change.relative = rel(av, bv);
    }
    if (nA < options.minCalls || nB < options.minCalls || !qa || !qb) {
      out.moreCallsNeeded = moreFor(sdPooled, mean, Math.min(nA, nB));
      return out;
    }
    const diff = differenceFromCis(
      { value: av, lower: num(qa[offset + 1]), upper: num(qa[offset + 2]) },
      { value: bv, lower: num(qb[offset + 1]), upper: num(qb[offset + 2]) },
    );
    out.change.ci = diff.ci;
    out.pValue = pValue ?? diff.pValue;
    out.moreCallsNeeded = moreFor(sdPooled, mean, Math.min(nA, nB));
    return out;
  };

  const latSd = Math.sqrt(((num(m.latVarA) || 0) + (num(m.latVarB) || 0)) / 2);
  const latMean = num(m.latMeanA);
  metrics.push(
    quantileMetric(
      'latency_p50_ms',
      'ms',
      c.okA,
      c.okB,
      m.latA,
      m.latB,
      0,
      'Mann-Whitney U (ClickHouse mannWhitneyUTest); CI of the median difference from order statistics',
      finite(num(m.latU?.p_value)),
      latSd,
      latMean,
    ),
    quantileMetric(
      'latency_p95_ms',
      'ms',
      c.okA,
      c.okB,
      m.latA,
      m.latB,
      3,
      'difference of p95s, z-test with order-statistic standard errors',
      null,
      latSd,
      latMean,
    ),
    quantileMetric(
      'ttft_p50_ms',
      'ms',
      c.ttftA,
      c.ttftB,
      m.ttftA,
      m.ttftB,
      0,
      'Mann-Whitney U (ClickHouse mannWhitneyUTest); CI of the median difference from order statistics',
      finite(num(m.ttftU?.p_value)),
      latSd,
      latMean,
    ),
  );

  // Error ratio: a proportion, tested with ClickHouse's two-proportion z-test (B − A).
  const errA = c.nA ? num(m.eA) / c.nA : Number.NaN;
  const errB = c.nB ? num(m.eB) / c.nB : Number.NaN;
  const errP = finite(num(m.errZ?.p_value));
  const pBar = (num(m.eA) + num(m.eB)) / Math.max(1, c.nA + c.nB);
  const errorMetric: MetricComparison = {
    metric: 'error_ratio',
    better: 'lower',
    unit: 'ratio',
    a: { n: c.nA, value: finite(errA) },
    b: { n: c.nB, value: finite(errB) },
    change: { absolute: finite(errB - errA), relative: rel(errA, errB), ci: null },
    test: 'two-proportion z-test (ClickHouse proportionsZTest)',
    pValue: null,
    pAdjusted: null,
    verdict: 'insufficient',
  };
  if (enoughCalls) {
    // Neither cohort failed at all: no evidence of a difference, not a failed test.
    errorMetric.pValue = errP ?? (num(m.eA) === 0 && num(m.eB) === 0 ? 1 : null);
    const lo = num(m.errZ?.confidence_interval_low);
    const hi = num(m.errZ?.confidence_interval_high);
    errorMetric.change.ci = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
  }
  errorMetric.moreCallsNeeded = Math.max(
    0,
    Math.max(
      options.minCalls,
      callsNeeded(Math.sqrt(pBar * (1 - pBar)), Math.max(0.01, pBar * 0.5), options.alpha),
    ) - Math.min(c.nA, c.nB),
  );
  metrics.push(errorMetric);

  metrics.push(
    meanMetric('output_tokens', 'tokens', c.okA, c.okB, m.outA, m.outB, m.outVarA, m.outVarB, m.outT),
  );

  for (const s of scores) {
    const nA = num(s.nA);
    const nB = num(s.nB);
    const va = num(s.varA);
    const vb = num(s.varB);
    const sd = Math.sqrt(((Number.isFinite(va) ? va : 0) + (Number.isFinite(vb) ? vb : 0)) / 2);
    const out: MetricComparison = {
      metric: `score:${s.name}`,
      better: 'higher',
      unit: 'score',
      a: { n: nA, value: finite(num(s.meanA)) },
      b: { n: nB, value: finite(num(s.meanB)) },
      change: {
        absolute: finite(num(s.meanB) - num(s.meanA)),
        relative: rel(num(s.meanA), num(s.meanB)),
        ci: null,
      },
      test: 'Welch t-test (means and variances from ClickHouse avg/varSamp); non-inferiority: one-sided Welch t against the margin',
      pValue: null,
      pAdjusted: null,
      verdict: 'insufficient',
    };
    const need = Math.max(options.minScores, callsNeeded(sd, options.margin, options.alpha, 0.8, 1));
    if (nA < options.minScores || nB < options.minScores) {
      out.moreCallsNeeded = Math.max(0, need - Math.min(nA, nB));
      metrics.push(out);
      continue;
    }
    out.pValue =
      finite(num(s.t?.p_value)) ?? (va === 0 && vb === 0 && num(s.meanA) === num(s.meanB) ? 1 : null);
    const lo = num(s.t?.confidence_interval_low);
    const hi = num(s.t?.confidence_interval_high);
    out.change.ci = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
    out.nonInferiority = {
      margin: options.margin,
      pValue: nonInferiorityP(
        { mean: num(s.meanA), variance: va, n: nA },
        { mean: num(s.meanB), variance: vb, n: nB },
        options.margin,
      ),
      pAdjusted: null,
    };
    out.moreCallsNeeded = Math.max(0, need - Math.min(nA, nB));
    metrics.push(out);
  }

  // One family: every difference test, and every non-inferiority test, of this comparison.
  const family: number[] = [];
  for (const x of metrics) {
    family.push(x.pValue ?? Number.NaN);
    if (x.nonInferiority) family.push(x.nonInferiority.pValue);
  }
  const adjusted = holm(family);
  let at = 0;
  for (const x of metrics) {
    x.pAdjusted = finite(adjusted[at++]!);
    if (x.nonInferiority) x.nonInferiority.pAdjusted = finite(adjusted[at++]!);
    x.verdict = verdictOf(x, options.alpha);
    if (x.verdict !== 'insufficient' && x.verdict !== 'inconclusive') delete x.moreCallsNeeded;
  }

  const status = enoughCalls ? 'ok' : 'insufficient';
  return {
    a,
    b,
    options,
    status,
    calls: { a: c.nA, b: c.nB },
    metrics,
    summary: summarize(metrics, status, options, c),
  };
}

function verdictOf(x: MetricComparison, alpha: number): Verdict {
  if (x.pValue === null && !x.nonInferiority)
    return x.a.n && x.b.n && x.moreCallsNeeded === undefined ? 'inconclusive' : 'insufficient';
  const diff = x.change.absolute ?? 0;
  const significant = x.pAdjusted !== null && x.pAdjusted < alpha && diff !== 0;
  const improved = x.better === 'lower' ? diff < 0 : diff > 0;
  if (significant) return improved ? 'better' : 'worse';
  if (x.nonInferiority)
    return x.nonInferiority.pAdjusted !== null && x.nonInferiority.pAdjusted < alpha
      ? 'non_inferior'
      : 'inconclusive';
  return 'no_difference';
}

const pct = (x: number) => `${Math.round(Math.abs(x) * 100)}%`;
const pFmt = (p: number | null) => (p === null ? 'n/a' : p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** "B costs 91% less and is 40% faster; helpfulness not worse than A by more than 0.05, p = 0.003". */
function summarize(
  metrics: MetricComparison[],
  status: Comparison['status'],
  options: CompareOptions,
  c: Counts,
): string {
  if (status === 'insufficient') {
    const more = Math.max(
      0,
      ...metrics.filter((x) => !x.metric.startsWith('score:')).map((x) => x.moreCallsNeeded ?? 0),
    );
    return `Not enough data yet: ${c.nA} calls in A and ${c.nB} in B; about ${Math.max(more, options.minCalls - Math.min(c.nA, c.nB))} more calls per cohort needed.`;
  }
  const by = new Map(metrics.map((x) => [x.metric, x]));
  const facts: string[] = [];
  const cost = by.get('cost_per_call_usd');
  if (cost && (cost.verdict === 'better' || cost.verdict === 'worse') && cost.change.relative !== null)
    facts.push(`costs ${pct(cost.change.relative)} ${cost.change.relative < 0 ? 'less' : 'more'}`);
  const p50 = by.get('latency_p50_ms');
  const p95 = by.get('latency_p95_ms');
  const speed = p50 && (p50.verdict === 'better' || p50.verdict === 'worse') ? p50 : p95;
  if (speed && (speed.verdict === 'better' || speed.verdict === 'worse') && speed.change.relative !== null)
    facts.push(
      `is ${pct(speed.change.relative)} ${speed.change.relative < 0 ? 'faster' : 'slower'}${speed === p95 ? ' at p95' : ''}`,
    );
  const ttft = by.get('ttft_p50_ms');
  if (ttft && (ttft.verdict === 'better' || ttft.verdict === 'worse') && ttft.change.relative !== null)
    facts.push(
      `starts answering ${pct(ttft.change.relative)} ${ttft.change.relative < 0 ? 'sooner' : 'later'}`,
    );
  const err = by.get('error_ratio');
  if (err && (err.verdict === 'better' || err.verdict === 'worse'))
    facts.push(
      `fails ${err.verdict === 'better' ? 'less' : 'more'} often (${pct(err.b.value ?? 0)} vs ${pct(err.a.value ?? 0)} of calls)`,
    );
  const out = by.get('output_tokens');
  if (out && (out.verdict === 'better' || out.verdict === 'worse') && out.change.relative !== null)
    facts.push(
      `writes ${pct(out.change.relative)} ${out.change.relative < 0 ? 'fewer' : 'more'} output tokens`,
    );

  const quality: string[] = [];
  for (const x of metrics.filter((m) => m.metric.startsWith('score:'))) {
    const name = x.metric.slice(6);
    const d = Math.abs(x.change.absolute ?? 0).toFixed(3);
    if (x.verdict === 'better') quality.push(`${name} better by ${d} (${pFmt(x.pAdjusted)})`);
    else if (x.verdict === 'worse') quality.push(`${name} WORSE by ${d} (${pFmt(x.pAdjusted)})`);
    else if (x.verdict === 'non_inferior')
      quality.push(
        `${name} not worse than A by more than ${options.margin} (${pFmt(x.nonInferiority!.pAdjusted)})`,
      );
    else if (x.verdict === 'insufficient')
      quality.push(`${name}: not enough scores yet (about ${x.moreCallsNeeded ?? 0} more per cohort)`);
    else quality.push(`${name}: cannot tell yet whether B is worse by more than ${options.margin}`);
  }
  const head = facts.length
    ? `B ${joinAnd(facts)}`
    : 'No significant difference in cost, latency, errors or output length';
  return `${head}${quality.length ? `; ${quality.join('; ')}` : ''}.`;
}

function joinAnd(parts: string[]): string {
  return parts.length <= 1
    ? (parts[0] ?? '')
    : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * Parses a cohort given as `key=value,key=value` (CLI): prompt, version, model, provider, service,
 * finetune (the run's model), finetune-base (its base model), tag.<k>, from, to.
 */
export function parseCohortSpec(spec: string, defaults: { from: number; to: number }): Cohort {
  const out: Record<string, unknown> = { from: defaults.from, to: defaults.to };
  const keys: Record<string, string> = {
    prompt: 'promptName',
    version: 'promptVersion',
    model: 'model',
    provider: 'provider',
    service: 'service',
    finetune: 'fineTune',
    'finetune-base': 'fineTuneBase',
  };
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = part.indexOf('=');
    if (at <= 0) throw new LlmwatchError('usage', `cohort: "${part}" is not key=value`);
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key in keys) out[keys[key]!] = value;
    else if (key.startsWith('tag.')) out.tag = `${key.slice(4)}=${value}`;
    else if (key === 'from' || key === 'to') {
      const ms = Date.parse(value);
      if (!Number.isFinite(ms))
        throw new LlmwatchError('usage', `cohort: ${key}: not an ISO 8601 time: ${value}`);
      out[key] = ms;
    } else
      throw new LlmwatchError(
        'usage',
        `cohort: unknown key ${key} (use prompt, version, model, provider, service, finetune, finetune-base, tag.<key>, from, to)`,
      );
  }
  const parsed = cohortSchema.safeParse(out);
  if (!parsed.success)
    throw new LlmwatchError('usage', `cohort ${spec}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
