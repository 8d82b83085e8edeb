import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { DAY_MS, FROM, PROJECT_FILTER, RECENT, TO, windowParams } from './sql.js';
import { median, robustSigma } from './stats.js';
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

type Dim = 'project' | 'model' | 'prompt' | 'user' | 'service';

export interface CostGroupRow {
  project: string;
  dim: Dim;
  key: string;
  /** [dayOffset, cost, calls]: 0 = current window, d = same window d days earlier. */
  days: Array<[number, number, number]>;
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
  return `
SELECT project, dim, key, groupArray((toInt32(d), cost, toUInt32(calls))) AS days
FROM (
  SELECT ProjectId AS project, g.1 AS dim, g.2 AS key, d, sum(ifNull(CostUsd, 0)) AS cost, count() AS calls
  FROM (
    SELECT ProjectId, CostUsd,
      intDiv({to:Int64} - 1 - toUnixTimestamp64Milli(Timestamp), ${DAY_MS}) AS d,
      arrayJoin([('project', ''), ('model', Model), ('prompt', PromptName), ('user', UserId), ('service', ServiceName)]) AS g
    FROM llm_calls
    WHERE (${ranges.join(' OR ')}) AND ${PROJECT_FILTER}
  )
  WHERE g.1 = 'project' OR g.2 != ''
  GROUP BY project, dim, key, d
)
GROUP BY project, dim, key
HAVING dim = 'project' OR (sumIf(cost, d = 0) >= {minCost:Float64} AND sumIf(calls, d = 0) >= {minCalls:UInt32})`;
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

/** Pure: seasonal robust z-score per group. */
export function evaluateCostGroups(
  rows: CostGroupRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const c = cfg.cost_spike;
  const projectDays = new Map<string, Map<number, number>>();
  for (const r of rows) {
    if (r.dim !== 'project') continue;
    projectDays.set(r.project, new Map(r.days.filter(([d]) => d > 0).map(([d, cost]) => [d, cost])));
  }
  const out: Detection[] = [];
  for (const r of rows) {
    const days = projectDays.get(r.project);
    // Only days on which the project had traffic count: a project that started yesterday has one.
    if (!days || days.size < c.minBaselineDays) continue;
    const byDay = new Map(r.days.map(([d, cost, calls]) => [d, { cost, calls }]));
    const current = byDay.get(0);
    if (!current || current.calls < c.minCalls || current.cost < c.minCostUsd) continue;
    const baseline = [...days.keys()].map((d) => byDay.get(d)?.cost ?? 0);
    const m = median(baseline);
    const projectMedian = median([...days.values()]);
    // MAD is 0 when a few baseline days agree exactly; a floor of 10% of the median keeps the
    // z-score meaningful, and minRatio carries the decision then.
    const scale = Math.max(robustSigma(baseline), 0.1 * m, 1e-6);
    const z = (current.cost - m) / scale;
    const ratio = m > 0 ? current.cost / m : Number.POSITIVE_INFINITY;
    if (z < c.minZ || ratio < c.minRatio) continue;
    if (r.dim !== 'project' && current.cost < c.minShareOfProject * projectMedian) continue;
    const subject = SUBJECT_OF[r.dim](r.key);
    const ratioText = Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : 'new spend, none';
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
          message: `Cost of ${describeSubject(subject)} is $${current.cost.toFixed(2)} in the window, ${ratioText} the usual $${m.toFixed(2)} at this time of day (robust z ${z.toFixed(1)}).`,
          evidence: {
            unit: 'usd_per_window',
            calls: current.calls,
            baselineCalls: median([...days.keys()].map((d) => byDay.get(d)?.calls ?? 0)),
            baselineDays: baseline.map((v) => round(v, 6)),
            robustZ: round(z, 2),
            ratio: Number.isFinite(ratio) ? round(ratio, 2) : null,
            costPerCall: round(current.cost / current.calls, 6),
            baselineCostPerCall: round(
              m / Math.max(1, median([...days.keys()].map((d) => byDay.get(d)?.calls ?? 0))),
              6,
            ),
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
    const groups = await queryRows<CostGroupRow>(ctx.client, costGroupsSql(ctx.config.baselineDays), {
      ...params,
      minCost: c.minCostUsd,
      minCalls: c.minCalls,
    });
    const out = evaluateCostGroups(groups, ctx.window, ctx.config);
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
