import { queryRows } from '../storage/clickhouse.js';
import { projectHistories, type ProjectHistory } from './baseline.js';
import type { DetectionConfig } from './config.js';
import { DAY_MS, FROM, PROJECT_FILTER, RECENT, TO, windowParams } from './sql.js';
import { median, poissonLogSf, robustSigma } from './stats.js';
import { foldByConcentration } from './subjects.js';
import {
  detection,
  describeSubject,
  round,
  type DetectContext,
  type Detection,
  type DetectWindow,
  type Detector,
  type Subject,
} from './types.js';

const HOUR_MS = 3_600_000;

type Dim = 'project' | 'model' | 'prompt' | 'user' | 'service';

export interface CostGroupRow {
  project: string;
  dim: Dim;
  key: string;
  /**
   * [dayOffset, cost, calls, sum of squared call costs]: 0 = current window, d = same window d
   * days earlier (or d windows earlier for the recent baseline).
   */
  days: Array<[number, number, number, number?]>;
  /** Slices of this dimension with calls in the window (the number of tests made), when known. */
  slices?: number;
}

export interface CostOutlierRow {
  project: string;
  model: string;
  promptName: string;
  service: string;
  userId: string;
  traceId: string;
  spanId: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  peerMedian: number;
  peerP99: number;
  peers: string;
}

/**
 * Cost per window per project, model, prompt, user and service against the same window on each
 * of the previous `baselineDays` days (a seasonal baseline: the daily load cycle is in it).
 * The window is taken modulo one day, so only rows inside the current window or its earlier
 * same-hour copies are aggregated.
 */
export function costGroupsSql(baselineDays: number): string {
  // One time range per day (the window and its copies on previous days): the primary key
  // (ProjectId, toStartOfHour(Timestamp), …) then skips every other hour of the baseline.
  const ranges = Array.from(
    { length: baselineDays + 1 },
    (_, d) =>
      `(Timestamp >= fromUnixTimestamp64Milli({from:Int64} - ${d * DAY_MS}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64} - ${d * DAY_MS}))`,
  );
  return costBucketsSql(
    `intDiv({to:Int64} - 1 - toUnixTimestamp64Milli(Timestamp), ${DAY_MS})`,
    `(${ranges.join(' OR ')})`,
  );
}

/**
 * Cost, calls and squared call costs per bucket (0 = the current window) of the project and of
 * every model, prompt, user and service slice; `slices` counts the slices of the dimension with
 * calls in the window (all of them were looked at, so all count for the multiple-testing
 * correction), and only those above the floors are returned.
 */
function costBucketsSql(bucket: string, range: string): string {
  return `
SELECT project, dim, key, days, slices
FROM (
  SELECT project, dim, key, groupArray((toInt32(d), cost, toUInt32(calls), sq)) AS days,
    sumIf(cost, d = 0) AS currentCost, sumIf(calls, d = 0) AS currentCalls,
    toUInt32(countIf(currentCalls > 0) OVER (PARTITION BY project, dim)) AS slices
  FROM (
    SELECT ProjectId AS project, g.1 AS dim, g.2 AS key, d, sum(ifNull(CostUsd, 0)) AS cost, count() AS calls,
      sum(pow(ifNull(CostUsd, 0), 2)) AS sq
    FROM (
      SELECT ProjectId, CostUsd, ${bucket} AS d,
        arrayJoin([('project', ''), ('model', Model), ('prompt', PromptName), ('user', UserId), ('service', ServiceName)]) AS g
      FROM llm_calls
      WHERE ${range} AND ${PROJECT_FILTER}
    )
    WHERE g.1 = 'project' OR g.2 != ''
    GROUP BY project, dim, key, d
  )
  GROUP BY project, dim, key
)
WHERE dim = 'project' OR (currentCost >= {minCost:Float64} AND currentCalls >= {minCalls:UInt32})`;
}

/** Calls costing far more than the p99 of their peers (same model and prompt) in the recent baseline. */
export const COST_OUTLIERS_SQL = `
WITH peers AS (
  SELECT ProjectId, Model, PromptName, median(CostUsd) AS p50, quantileTDigest(0.99)(CostUsd) AS p99, count() AS n
  FROM llm_calls
  WHERE Timestamp >= ${RECENT} AND Timestamp < ${FROM} AND ${PROJECT_FILTER} AND CostUsd IS NOT NULL
  GROUP BY ProjectId, Model, PromptName
  HAVING n >= {minPeers:UInt32}
)
SELECT c.ProjectId AS project, c.Model AS model, c.PromptName AS promptName, c.ServiceName AS service,
  c.UserId AS userId, c.TraceId AS traceId, c.SpanId AS spanId, assumeNotNull(c.CostUsd) AS costUsd,
  c.InputTokens AS inputTokens, c.OutputTokens AS outputTokens, p.p50 AS peerMedian, p.p99 AS peerP99,
  toString(p.n) AS peers
FROM llm_calls AS c
INNER JOIN peers AS p ON c.ProjectId = p.ProjectId AND c.Model = p.Model AND c.PromptName = p.PromptName
WHERE c.Timestamp >= ${FROM} AND c.Timestamp < ${TO} AND ({project:String} = '' OR c.ProjectId = {project:String})
  AND c.CostUsd IS NOT NULL AND c.CostUsd > greatest(p.p99 * {factor:Float64}, {minCallCost:Float64})
ORDER BY costUsd DESC
LIMIT 500`;

const SUBJECT_OF: Record<Dim, (key: string) => Subject> = {
  project: () => ({}),
  model: (model) => ({ model }),
  prompt: (promptName) => ({ promptName }),
  user: (userId) => ({ userId }),
  service: (service) => ({ service }),
};

/**
 * Cost per window-length bucket over the recent hours before the window (bucket 0 = the window,
 * b = the b-th window before it), for projects without enough seasonal history.
 */
export const RECENT_COST_SQL = costBucketsSql(
  `if(Timestamp >= ${FROM}, 0, intDiv({from:Int64} - 1 - toUnixTimestamp64Milli(Timestamp), {len:Int64}) + 1)`,
  `Timestamp >= ${RECENT} AND Timestamp < ${TO}`,
);

type CostTier = 'seasonal' | 'recent' | 'guard';

/** Baseline buckets of one project: which bucket offsets count, and how the project was judged. */
interface ProjectBaseline {
  tier: CostTier;
  /** Bucket offsets (days for seasonal, windows for recent/guard) that are part of the baseline. */
  offsets: number[];
  /** The project's own cost in those buckets. */
  projectCosts: number[];
  historyHours: number | null;
}

function projectBaselines(
  rows: CostGroupRow[],
  tier: CostTier | 'recent_or_guard',
  window: DetectWindow,
  cfg: DetectionConfig,
  histories: ReadonlyMap<string, ProjectHistory> | undefined,
): Map<string, ProjectBaseline> {
  const c = cfg.cost_spike;
  const out = new Map<string, ProjectBaseline>();
  const len = window.toMs - window.fromMs;
  for (const r of rows) {
    if (r.dim !== 'project') continue;
    const history = histories?.get(r.project);
    const hours = history ? Math.round((history.historyMs / HOUR_MS) * 10) / 10 : null;
    if (tier === 'seasonal') {
      // Only days on which the project had traffic count: a project that started yesterday has one.
      const days = r.days.filter(([d]) => d > 0);
      if (days.length < c.minBaselineDays) continue;
      out.set(r.project, {
        tier,
        offsets: days.map(([d]) => d),
        projectCosts: days.map(([, cost]) => cost),
        historyHours: hours,
      });
      continue;
    }
    if (!history) continue;
    // Whole windows of history before this one, up to recentBaselineHours.
    const n = Math.min(
      Math.floor(history.historyMs / len),
      Math.floor((cfg.recentBaselineHours * HOUR_MS) / len),
    );
    if (n < 1) continue;
    const offsets = Array.from({ length: n }, (_, i) => i + 1);
    const byOffset = new Map(r.days.map(([b, cost]) => [b, cost]));
    out.set(r.project, {
      tier: history.historyMs >= cfg.minRecentHours * HOUR_MS ? 'recent' : 'guard',
      offsets,
      projectCosts: offsets.map((b) => byOffset.get(b) ?? 0),
      historyHours: hours,
    });
  }
  return out;
}

/**
 * Pure: cost per group against the best baseline each project's history supports — seasonal
 * (robust z-score over the same window on previous days), else the recent windows (a higher bar:
 * no daily cycle in them), else an absolute guard (far above any window seen so far).
 * `recentRows` (RECENT_COST_SQL) are judged only for projects the seasonal rows could not cover.
 */
export function evaluateCostGroups(
  rows: CostGroupRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
  recent?: { rows: CostGroupRow[]; histories: ReadonlyMap<string, ProjectHistory> },
): Detection[] {
  const seasonal = projectBaselines(rows, 'seasonal', window, cfg, recent?.histories);
  const out = judgeGroups(rows, seasonal, window, cfg);
  if (recent) {
    const rest = recent.rows.filter((r) => !seasonal.has(r.project));
    out.push(
      ...judgeGroups(
        rest,
        projectBaselines(rest, 'recent_or_guard', window, cfg, recent.histories),
        window,
        cfg,
      ),
    );
  }
  // A user within a model, a prompt within a service: the most specific group that explains the
  // rise; a rise spread over them all is the project's.
  return foldByConcentration(out, (d) => SPECIFICITY[d.rule.slice('cost_spike.'.length) as Dim], {
    excess: (d) => d.observed - d.baseline,
    baseline: (d) => d.baseline,
    whole: (d) => d.evidence.slicesJudged === 1,
  });
}

const SPECIFICITY: Record<Dim, number> = { project: 0, service: 1, model: 2, prompt: 3, user: 4 };

function judgeGroups(
  rows: CostGroupRow[],
  baselines: Map<string, ProjectBaseline>,
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const c = cfg.cost_spike;
  const out: Detection[] = [];
  for (const r of rows) {
    const pb = baselines.get(r.project);
    if (!pb) continue;
    const byBucket = new Map(r.days.map(([d, cost, calls, sq]) => [d, { cost, calls, sq: sq ?? 0 }]));
    const current = byBucket.get(0);
    if (!current || current.calls < c.minCalls || current.cost < c.minCostUsd) continue;
    const buckets = pb.offsets.map((d) => byBucket.get(d));
    const baseline = buckets.map((b) => b?.cost ?? 0);
    const baselineCalls = median(buckets.map((b) => b?.calls ?? 0));
    const m = median(baseline);
    const highest = Math.max(...baseline);
    const projectMedian = median(pb.projectCosts);
    // MAD is 0 when a few baseline buckets agree exactly; a floor of 10% of the median keeps the
    // z-score meaningful, and the ratio carries the decision then. The spread of a sum of a
    // Poisson number of calls (√(calls · mean squared call cost)) is a floor too: a handful of
    // baseline days can agree by chance for a user with a dozen calls an hour.
    const sumCalls = buckets.reduce((s, b) => s + (b?.calls ?? 0), 0);
    const meanSquare = sumCalls > 0 ? buckets.reduce((s, b) => s + (b?.sq ?? 0), 0) / sumCalls : 0;
    const countNoise = Math.sqrt(baselineCalls * meanSquare);
    const scale = Math.max(robustSigma(baseline), 0.1 * m, countNoise, 1e-6);
    // A slice's cost ≈ unit × Poisson(cost / unit), unit = E[c²]/E[c] of its baseline calls: a
    // dozen calls an hour doubling by chance is not an incident, even when a few days agree.
    const baselineCost = baseline.reduce((s, v) => s + v, 0);
    const unit = baselineCost > 0 && meanSquare > 0 ? (meanSquare * sumCalls) / baselineCost : 0;
    const slicesInDim = Math.max(1, r.slices ?? 1);
    const logP = r.dim !== 'project' && unit > 0 ? poissonLogSf(current.cost / unit, m / unit) : null;
    if (logP !== null && logP > Math.log(c.sliceAlpha / slicesInDim)) continue;
    const z = (current.cost - m) / scale;
    const ratio = m > 0 ? current.cost / m : Number.POSITIVE_INFINITY;
    if (pb.tier === 'seasonal' && (z < c.minZ || ratio < c.minRatio)) continue;
    if (
      pb.tier === 'recent' &&
      (z < c.minZ || ratio < c.recent.minRatio || current.cost < c.recent.maxFactor * highest)
    )
      continue;
    if (pb.tier === 'guard' && current.cost < c.guard.factor * Math.max(...pb.projectCosts)) continue;
    if (r.dim !== 'project' && current.cost < c.minShareOfProject * projectMedian) continue;
    const subject = SUBJECT_OF[r.dim](r.key);
    const ratioText = Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : 'new spend, none';
    const usual =
      pb.tier === 'seasonal'
        ? `the usual $${m.toFixed(2)} at this time of day (robust z ${z.toFixed(1)})`
        : pb.tier === 'recent'
          ? `the median $${m.toFixed(2)} of the last ${baseline.length} windows (highest $${highest.toFixed(2)})`
          : `anything seen in the ${pb.historyHours ?? '?'} h of history so far (highest $${Math.max(...pb.projectCosts).toFixed(2)} per window)`;
    out.push(
      detection(
        {
          kind: 'cost_spike',
          severity: ratio >= 5 ? 'critical' : 'warning',
          project: r.project,
          rule: `cost_spike.${r.dim}`,
          subject,
          observed: round(current.cost, 6),
          baseline: round(m, 6),
          message: `Cost of ${describeSubject(subject)} is $${current.cost.toFixed(2)} in the window, ${ratioText} ${usual}.`,
          evidence: {
            unit: 'usd_per_window',
            baseline: {
              kind: pb.tier,
              historyHours: pb.historyHours,
              buckets: baseline.length,
              bucket: pb.tier === 'seasonal' ? 'same_window_previous_days' : 'previous_windows',
            },
            calls: current.calls,
            baselineCalls,
            baselineDays: pb.tier === 'seasonal' ? baseline.map((v) => round(v, 6)) : undefined,
            baselineMax: round(highest, 6),
            robustZ: round(z, 2),
            countPValue: logP === null ? undefined : Number(Math.exp(logP).toPrecision(3)),
            slicesJudged: r.dim === 'project' ? undefined : r.slices,
            ratio: Number.isFinite(ratio) ? round(ratio, 2) : null,
            costPerCall: round(current.cost / current.calls, 6),
            baselineCostPerCall: round(m / Math.max(1, baselineCalls), 6),
          },
        },
        window,
      ),
    );
  }
  return out;
}

/** Pure: one detection per (model, prompt) with the most expensive outlier calls as examples. */
export function evaluateCostOutliers(rows: CostOutlierRow[], window: DetectWindow): Detection[] {
  const groups = new Map<string, CostOutlierRow[]>();
  for (const r of rows) {
    const k = `${r.project}\n${r.model}\n${r.promptName}`;
    const list = groups.get(k) ?? [];
    list.push(r);
    groups.set(k, list);
  }
  const out: Detection[] = [];
  for (const list of groups.values()) {
    const top = list[0]!;
    const subject: Subject = { model: top.model, promptName: top.promptName };
    const factor = top.peerP99 > 0 ? top.costUsd / top.peerP99 : Number.POSITIVE_INFINITY;
    out.push(
      detection(
        {
          kind: 'cost_spike',
          severity: factor >= 20 ? 'critical' : 'warning',
          project: top.project,
          rule: 'cost_spike.single_call',
          subject,
          observed: round(top.costUsd, 6),
          baseline: round(top.peerP99, 6),
          message: `${list.length} call(s) of ${describeSubject(subject)} cost far more than their peers: up to $${top.costUsd.toFixed(4)} vs a p99 of $${top.peerP99.toFixed(4)} (median $${top.peerMedian.toFixed(4)}).`,
          evidence: {
            unit: 'usd_per_call',
            outlierCalls: list.length,
            peers: Number(top.peers),
            peerMedianUsd: round(top.peerMedian, 6),
            peerP99Usd: round(top.peerP99, 6),
            examples: list.slice(0, 5).map((r) => ({
              traceId: r.traceId,
              spanId: r.spanId,
              costUsd: round(r.costUsd, 6),
              inputTokens: r.inputTokens,
              outputTokens: r.outputTokens,
              service: r.service,
              userId: r.userId,
            })),
          },
        },
        window,
      ),
    );
  }
  return out;
}

export const costSpikeDetector: Detector = {
  kind: 'cost_spike',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const c = ctx.config.cost_spike;
    const params = windowParams(ctx);
    const thresholds = { ...params, minCost: c.minCostUsd, minCalls: c.minCalls };
    const groups = await queryRows<CostGroupRow>(
      ctx.client,
      costGroupsSql(ctx.config.baselineDays),
      thresholds,
    );
    const histories =
      ctx.histories ??
      new Map(
        (await projectHistories(ctx.client, ctx.config, ctx.window, ctx.project)).map((h) => [h.project, h]),
      );
    // Projects the seasonal baseline cannot judge yet: the recent windows (or the guard) instead.
    const seasonalDays = new Map(
      groups.filter((g) => g.dim === 'project').map((g) => [g.project, g.days.filter(([d]) => d > 0).length]),
    );
    const young = [...histories.values()].filter(
      (h) => h.historyMs > 0 && (seasonalDays.get(h.project) ?? 0) < c.minBaselineDays,
    );
    const recentRows =
      young.length === 0
        ? []
        : await queryRows<CostGroupRow>(ctx.client, RECENT_COST_SQL, {
            ...thresholds,
            project: young.length === 1 ? young[0]!.project : (ctx.project ?? ''),
          });
    const out = evaluateCostGroups(groups, ctx.window, ctx.config, { rows: recentRows, histories });
    if (c.singleCall.enabled) {
      const outliers = await queryRows<CostOutlierRow>(ctx.client, COST_OUTLIERS_SQL, {
        ...params,
        minPeers: c.singleCall.minPeers,
        factor: c.singleCall.factor,
        minCallCost: c.singleCall.minCostUsd,
      });
      out.push(...evaluateCostOutliers(outliers, ctx.window));
    }
    return out;
  },
};
