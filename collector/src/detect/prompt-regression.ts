import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { BASE, FROM, PROJECT_FILTER, TO, windowParams } from './sql.js';
import { poissonSf } from './stats.js';
import {
  detection,
  pct,
  round,
  type DetectContext,
  type Detection,
  type DetectWindow,
  type Detector,
} from './types.js';

export interface VersionRow {
  project: string;
  promptName: string;
  promptVersion: string;
  firstMs: number;
  calls: number;
  /** Calls in the current window: a version that is no longer served (rolled back) is not judged. */
  currentCalls: number;
}

export const VERSIONS_SQL = `
SELECT ProjectId AS project, PromptName AS promptName, PromptVersion AS promptVersion,
  toUInt64(toUnixTimestamp64Milli(min(Timestamp))) AS firstMs, toUInt32(count()) AS calls,
  toUInt32(countIf(Timestamp >= ${FROM})) AS currentCalls
FROM llm_calls
WHERE Timestamp >= ${BASE} AND Timestamp < ${TO} AND ${PROJECT_FILTER} AND PromptName != '' AND PromptVersion != ''
GROUP BY project, promptName, promptVersion`;

export interface Candidate {
  project: string;
  promptName: string;
  newVersion: string;
  previousVersion: string;
  firstMs: number;
}

/** Pure: versions first seen within the lookback, each paired with the version it replaces. */
export function findCandidates(
  rows: VersionRow[],
  window: DetectWindow,
  baseMs: number,
  cfg: DetectionConfig,
): Candidate[] {
  const lookbackMs = cfg.prompt_regression.lookbackHours * 3_600_000;
  const byPrompt = new Map<string, VersionRow[]>();
  for (const r of rows) {
    const k = `${r.project}\n${r.promptName}`;
    byPrompt.set(k, [
      ...(byPrompt.get(k) ?? []),
      { ...r, firstMs: Number(r.firstMs), calls: Number(r.calls) },
    ]);
  }
  const out: Candidate[] = [];
  for (const versions of byPrompt.values()) {
    for (const v of versions) {
      // A version seen at the very start of the data is not new: it is just where the data begins.
      if (v.firstMs < window.toMs - lookbackMs || v.firstMs < baseMs + lookbackMs) continue;
      if (Number(v.currentCalls) === 0) continue;
      const older = versions.filter((o) => o.firstMs < v.firstMs).sort((a, b) => b.calls - a.calls);
      const prev = older[0];
      if (!prev) continue;
      out.push({
        project: v.project,
        promptName: v.promptName,
        newVersion: v.promptVersion,
        previousVersion: prev.promptVersion,
        firstMs: v.firstMs,
      });
    }
  }
  return out;
}

/** idx 0: the new version since it appeared; idx 1: the previous version before that. */
const SOURCE = `
  SELECT TraceId, Status, CostUsd, LatencyMs, OutputTokens, toUInt8(PromptVersion = {prev:String}) AS idx FROM llm_calls
  WHERE ProjectId = {p:String} AND PromptName = {pn:String} AND Timestamp < ${TO}
    AND ((PromptVersion = {new:String} AND Timestamp >= fromUnixTimestamp64Milli({first:Int64}))
      OR (PromptVersion = {prev:String} AND Timestamp >= ${BASE} AND Timestamp < fromUnixTimestamp64Milli({first:Int64})))`;

export interface VersionStats {
  nNew: number;
  nPrev: number;
  okNew: number;
  okPrev: number;
  eNew: number;
  ePrev: number;
  costNew: number;
  costPrev: number;
  latNew: number;
  latPrev: number;
  outNew: number;
  outPrev: number;
  errZ: number | null;
  errP: number | null;
}

export const VERSION_STATS_SQL = `
SELECT *, proportionsZTest(eNew, ePrev, nNew, nPrev, 0.95, 'pooled') AS t, t.1 AS errZ, t.2 AS errP
FROM (
  SELECT toUInt64(countIf(idx = 0)) AS nNew, toUInt64(countIf(idx = 1)) AS nPrev,
    toUInt32(countIf(idx = 0 AND Status != 'error')) AS okNew, toUInt32(countIf(idx = 1 AND Status != 'error')) AS okPrev,
    toUInt64(countIf(idx = 0 AND Status = 'error')) AS eNew, toUInt64(countIf(idx = 1 AND Status = 'error')) AS ePrev,
    medianIf(ifNull(CostUsd, 0), idx = 0 AND Status != 'error') AS costNew, medianIf(ifNull(CostUsd, 0), idx = 1 AND Status != 'error') AS costPrev,
    medianIf(LatencyMs, idx = 0 AND Status != 'error') AS latNew, medianIf(LatencyMs, idx = 1 AND Status != 'error') AS latPrev,
    medianIf(OutputTokens, idx = 0 AND Status != 'error') AS outNew, medianIf(OutputTokens, idx = 1 AND Status != 'error') AS outPrev
  FROM (${SOURCE})
)`;

export const VERSION_TESTS_SQL = `
SELECT mannWhitneyUTest('greater')(ifNull(CostUsd, 0), idx).2 AS costP,
  mannWhitneyUTest('greater')(LatencyMs, idx).2 AS latP,
  mannWhitneyUTest('greater')(toFloat64(OutputTokens), idx).2 AS outP
FROM (${SOURCE}) WHERE Status != 'error'`;

export const VERSION_SCORES_SQL = `
SELECT s.Name AS name, toUInt32(countIf(c.idx = 0)) AS nNew, toUInt32(countIf(c.idx = 1)) AS nPrev,
  avgIf(s.Value, c.idx = 0) AS meanNew, avgIf(s.Value, c.idx = 1) AS meanPrev,
  welchTTest(s.Value, c.idx).2 AS p
FROM scores AS s
INNER JOIN (SELECT TraceId, idx FROM (${SOURCE})) AS c ON s.TraceId = c.TraceId
WHERE s.ProjectId = {p:String}
GROUP BY name`;

export interface ScoreRow {
  name: string;
  nNew: number;
  nPrev: number;
  meanNew: number;
  meanPrev: number;
  p: number | null;
}

export interface Finding {
  metric: string;
  current: number;
  previous: number;
  change: number;
  pValue: number;
}

/** Pure: which metrics of the new version are significantly worse than the previous one. */
export function evaluateVersion(
  c: Candidate,
  s: VersionStats,
  tests: { costP: number; latP: number; outP: number } | null,
  scores: ScoreRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const r = cfg.prompt_regression;
  const worse: Finding[] = [];
  const rel = (a: number, b: number) => (b > 0 ? a / b - 1 : a > 0 ? Number.POSITIVE_INFINITY : 0);
  if (tests) {
    const metrics: Array<[string, number, number, number]> = [
      ['cost_per_call_usd', s.costNew, s.costPrev, tests.costP],
      ['latency_ms', s.latNew, s.latPrev, tests.latP],
      ['output_tokens', s.outNew, s.outPrev, tests.outP],
    ];
    for (const [metric, cur, prev, p] of metrics) {
      const change = rel(cur, prev);
      if (p < r.alpha && change >= r.minRelativeChange)
        worse.push({
          metric,
          current: round(cur, 6),
          previous: round(prev, 6),
          change: round(change, 3),
          pValue: p,
        });
    }
  }
  const errNew = s.eNew / Math.max(1, s.nNew);
  const errPrev = s.ePrev / Math.max(1, s.nPrev);
  // proportionsZTest is null when a version never failed: an exact Poisson test decides then.
  const errExact = poissonSf(s.eNew, (s.nNew * (s.ePrev + 0.5)) / (s.nPrev + 1));
  const errSignificant =
    s.errZ !== null && s.errP !== null
      ? s.errZ > 0 && s.errP / 2 < r.alpha
      : s.eNew > 0 && errExact < r.alpha;
  if (errSignificant && errNew - errPrev >= r.minErrorIncrease)
    worse.push({
      metric: 'error_rate',
      current: round(errNew, 4),
      previous: round(errPrev, 4),
      change: round(errNew - errPrev, 4),
      pValue: s.errP === null ? errExact : s.errP / 2,
    });
  for (const sc of scores) {
    if (sc.nNew < r.minScores || sc.nPrev < r.minScores || sc.p === null) continue;
    if (sc.meanPrev - sc.meanNew >= r.minScoreDrop && sc.p < r.scoreAlpha)
      worse.push({
        metric: `score:${sc.name}`,
        current: round(sc.meanNew, 4),
        previous: round(sc.meanPrev, 4),
        change: round(sc.meanNew - sc.meanPrev, 4),
        pValue: sc.p,
      });
  }
  if (worse.length === 0) return [];
  const head = worse[0]!;
  const subject = { promptName: c.promptName, promptVersion: c.newVersion };
  const describe = (f: Finding) =>
    f.metric === 'error_rate'
      ? `error rate ${pct(f.current)} vs ${pct(f.previous)}`
      : f.metric.startsWith('score:')
        ? `${f.metric.slice(6)} score ${f.current} vs ${f.previous}`
        : `${f.metric.replaceAll('_', ' ')} +${pct(f.change)}`;
  return [
    detection(
      {
        kind: 'prompt_regression',
        severity: worse.length >= 2 || worse.some((f) => f.metric === 'error_rate') ? 'critical' : 'warning',
        project: c.project,
        rule: 'prompt_regression.version',
        subject,
        observed: head.current,
        baseline: head.previous,
        message: `Prompt ${c.promptName} version ${c.newVersion} is worse than ${c.previousVersion}: ${worse.map(describe).join('; ')}.`,
        evidence: {
          unit: head.metric,
          previousVersion: c.previousVersion,
          newVersionSince: new Date(c.firstMs).toISOString(),
          samples: { new: s.nNew, previous: s.nPrev },
          worse,
          medians: {
            costPerCallUsd: { new: round(s.costNew, 6), previous: round(s.costPrev, 6) },
            latencyMs: { new: round(s.latNew, 1), previous: round(s.latPrev, 1) },
            outputTokens: { new: s.outNew, previous: s.outPrev },
            errorRate: { new: round(errNew, 4), previous: round(errPrev, 4) },
          },
          scores: scores.map((sc) => ({
            name: sc.name,
            new: round(sc.meanNew, 4),
            previous: round(sc.meanPrev, 4),
            n: [sc.nNew, sc.nPrev],
          })),
        },
      },
      window,
    ),
  ];
}

export const promptRegressionDetector: Detector = {
  kind: 'prompt_regression',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const r = ctx.config.prompt_regression;
    const params = windowParams(ctx);
    const versions = await queryRows<VersionRow>(ctx.client, VERSIONS_SQL, params);
    const out: Detection[] = [];
    for (const c of findCandidates(versions, ctx.window, Number(params.base), ctx.config)) {
      const cp = {
        ...params,
        p: c.project,
        pn: c.promptName,
        new: c.newVersion,
        prev: c.previousVersion,
        first: c.firstMs,
      };
      const [raw] = await queryRows<VersionStats>(ctx.client, VERSION_STATS_SQL, cp);
      if (!raw) continue;
      const s = {
        ...raw,
        nNew: Number(raw.nNew),
        nPrev: Number(raw.nPrev),
        eNew: Number(raw.eNew),
        ePrev: Number(raw.ePrev),
      };
      if (s.nNew < r.minSamples || s.nPrev < r.minBaselineSamples) continue;
      const tests =
        s.okNew >= r.minSamples && s.okPrev >= r.minSamples
          ? ((
              await queryRows<{ costP: number; latP: number; outP: number }>(
                ctx.client,
                VERSION_TESTS_SQL,
                cp,
              )
            )[0] ?? null)
          : null;
      const scores = await queryRows<ScoreRow>(ctx.client, VERSION_SCORES_SQL, cp);
      out.push(...evaluateVersion(c, s, tests, scores, ctx.window, ctx.config));
    }
    return out;
  },
};
