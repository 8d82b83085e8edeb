import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { DAY_MS, PROJECT_FILTER } from './sql.js';
import { normalQuantile } from './stats.js';
import { foldIntoMostSpecific } from './subjects.js';
import {
  detection,
  describeSubject,
  pct,
  round,
  type DetectContext,
  type Detection,
  type DetectWindow,
  type Detector,
  type Subject,
} from './types.js';

/**
 * Slow creep: a metric that rises a little every day (cost per call, p95 latency, output tokens,
 * error ratio) never trips a window-vs-baseline test, because the baseline creeps along with it.
 * Over the last `days` whole days (ending at the window end) a weighted least-squares line is
 * fitted to the daily values, each day weighted by its own sampling precision; the slope must be
 * significant (overdispersion between days widens its error) and the rise over the span large.
 */
export type CreepMetric = 'cost_per_call' | 'latency_p95' | 'output_tokens' | 'error_ratio';

export interface CreepDayRow {
  project: string;
  model: string;
  /** 0 = the last 24 h before the window end, d = d days earlier. */
  day: number;
  calls: number;
  costMean: number;
  costVar: number;
  outMean: number;
  outVar: number;
  errMean: number;
  /** p95 latency of the day and of 8 disjoint subsamples (its sampling spread). */
  p95: number;
  p95Parts: number[];
}

const SUBSAMPLES = 8;
const HOUR_MS = 3_600_000;

export const CREEP_SQL = `
SELECT ProjectId AS project, g AS model, toUInt8(intDiv({to:Int64} - 1 - toUnixTimestamp64Milli(Timestamp), ${DAY_MS})) AS day,
  toUInt32(count()) AS calls,
  avgIf(ifNull(CostUsd, 0), Status != 'error') AS costMean, varSampIf(ifNull(CostUsd, 0), Status != 'error') AS costVar,
  avgIf(toFloat64(OutputTokens), Status != 'error') AS outMean, varSampIf(toFloat64(OutputTokens), Status != 'error') AS outVar,
  avg(toFloat64(Status = 'error')) AS errMean,
  quantileTDigestIf(0.95)(LatencyMs, Status != 'error') AS p95,
  [${Array.from({ length: SUBSAMPLES }, (_, k) => `quantileTDigestIf(0.95)(LatencyMs, Status != 'error' AND cityHash64(SpanId) % ${SUBSAMPLES} = ${k})`).join(', ')}] AS p95Parts
FROM llm_calls
ARRAY JOIN ['', Model] AS g
WHERE Timestamp >= fromUnixTimestamp64Milli({to:Int64} - {days:Int64} * ${DAY_MS}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
  AND ${PROJECT_FILTER}
GROUP BY project, model, day`;

/** One day's value of a metric and the variance of that value (sampling error). */
interface DayPoint {
  x: number;
  y: number;
  variance: number;
}

function points(rows: CreepDayRow[], metric: CreepMetric): DayPoint[] {
  // The spread of 8 subsample p95s says how precise a day's p95 is only roughly (its own error is
  // ~50%): weighted by it, a day that drew a low spread dominates the fit. The shape of the
  // latency distribution changes slowly, so the spread is pooled over the days, scaled by each
  // day's calls (a quantile's sampling variance falls like 1/n).
  const pooledP95 =
    metric === 'latency_p95'
      ? rows.reduce((a, r) => a + p95Spread(r) * Math.max(1, r.calls), 0) / Math.max(1, rows.length)
      : 0;
  return rows.map((r) => {
    const n = Math.max(1, r.calls);
    const x = -r.day;
    switch (metric) {
      case 'cost_per_call':
        return { x, y: r.costMean, variance: r.costVar / n };
      case 'output_tokens':
        return { x, y: r.outMean, variance: r.outVar / n };
      case 'error_ratio':
        // Jeffreys-smoothed: a day without errors still has a sampling error.
        return {
          x,
          y: r.errMean,
          variance: ((r.errMean * n + 0.5) * (n - r.errMean * n + 0.5)) / (n + 1) ** 3,
        };
      case 'latency_p95':
        return { x, y: r.p95, variance: pooledP95 / n };
    }
  });
}

/** Sampling variance of a day's p95 from the spread of its subsample p95s. */
function p95Spread(r: CreepDayRow): number {
  const parts = r.p95Parts.filter((v) => Number.isFinite(v));
  const m = parts.reduce((a, b) => a + b, 0) / Math.max(1, parts.length);
  const spread = parts.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, parts.length - 1);
  return spread / Math.max(1, parts.length);
}

export interface Trend {
  /** Fitted value at the oldest and the newest day. */
  start: number;
  end: number;
  slope: number;
  /** slope / its standard error (overdispersion included). */
  t: number;
  /** Residual χ² per degree of freedom: day-to-day variation beyond sampling error. */
  dispersion: number;
}

/** Pure: weighted least squares of y on x, weights 1/variance (floored so no day dominates). */
export function weightedTrend(pts: readonly DayPoint[]): Trend | null {
  if (pts.length < 3) return null;
  const meanY = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  // A day's variance is never taken below 0.1% of the level: rounding and tiny samples would
  // otherwise give one day almost all the weight.
  const floor = (0.001 * Math.abs(meanY)) ** 2 + 1e-18;
  const w = pts.map((p) => 1 / Math.max(p.variance, floor));
  const sw = w.reduce((a, b) => a + b, 0);
  const mx = pts.reduce((a, p, i) => a + w[i]! * p.x, 0) / sw;
  const my = pts.reduce((a, p, i) => a + w[i]! * p.y, 0) / sw;
  const sxx = pts.reduce((a, p, i) => a + w[i]! * (p.x - mx) ** 2, 0);
  if (sxx <= 0) return null;
  const slope = pts.reduce((a, p, i) => a + w[i]! * (p.x - mx) * (p.y - my), 0) / sxx;
  const chi2 = pts.reduce((a, p, i) => a + w[i]! * (p.y - my - slope * (p.x - mx)) ** 2, 0);
  const dispersion = chi2 / (pts.length - 2);
  const se = Math.sqrt(Math.max(1, dispersion) / sxx);
  const xs = pts.map((p) => p.x);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  return {
    start: my + slope * (x0 - mx),
    end: my + slope * (x1 - mx),
    slope,
    t: slope / se,
    dispersion,
  };
}

const METRICS: readonly CreepMetric[] = ['cost_per_call', 'latency_p95', 'output_tokens', 'error_ratio'];
const UNIT: Record<CreepMetric, string> = {
  cost_per_call: 'usd_per_call',
  latency_p95: 'ms_p95',
  output_tokens: 'tokens_mean',
  error_ratio: 'error_ratio',
};

/** Pure: one detection per (project, model, metric) whose daily values rise steadily. */
export function evaluateCreep(rows: CreepDayRow[], window: DetectWindow, cfg: DetectionConfig): Detection[] {
  const c = cfg.creep;
  const z = -normalQuantile(c.alpha);
  const groups = new Map<string, CreepDayRow[]>();
  for (const r of rows) {
    if (Number(r.calls) < c.minCallsPerDay) continue;
    const k = `${r.project}\n${r.model}`;
    groups.set(k, [...(groups.get(k) ?? []), { ...r, calls: Number(r.calls), day: Number(r.day) }]);
  }
  const out: Detection[] = [];
  // A project's own trend that is not significant by itself (its mix of models widens the
  // spread of its daily values): kept only to name a creep several of its models share.
  const supportOnly = new Set<Detection>();
  for (const days of groups.values()) {
    if (days.length < c.minDays) continue;
    const { project, model } = days[0]!;
    for (const metric of METRICS) {
      const trend = weightedTrend(points(days, metric));
      if (!trend || (trend.t < z && model !== '')) continue;
      const rise =
        metric === 'error_ratio'
          ? trend.end - trend.start
          : trend.start > 0
            ? trend.end / trend.start - 1
            : 0;
      const span = Math.max(...days.map((d) => d.day)) - Math.min(...days.map((d) => d.day));
      const threshold = metric === 'error_ratio' ? c.minErrorRise : c.minRelativeRise;
      if (rise < threshold) continue;
      const subject: Subject = model === '' ? {} : { model };
      const what = metric.replaceAll('_', ' ');
      const found = detection(
        {
          kind: 'creep',
          severity: 'warning',
          project,
          rule: `creep.${metric}`,
          subject,
          observed: round(trend.end, 6),
          baseline: round(trend.start, 6),
          message: `${what[0]!.toUpperCase()}${what.slice(1)} of ${describeSubject(subject)} has crept up over ${span + 1} days: ${round(trend.start, 4)} → ${round(trend.end, 4)} (${metric === 'error_ratio' ? `+${(rise * 100).toFixed(1)} points` : `+${pct(rise)}`}, about ${metric === 'error_ratio' ? `${((trend.slope * 100) / 1).toFixed(2)} points` : pct(trend.slope / Math.max(trend.start, 1e-12))} a day; trend t = ${trend.t.toFixed(1)}).`,
          evidence: {
            unit: UNIT[metric],
            baseline: { kind: 'daily_trend', days: days.length },
            daily: days
              .map((d) => points([d], metric)[0]!)
              .sort((a, b) => a.x - b.x)
              .map((p) => round(p.y, 6)),
            slopePerDay: round(trend.slope, 8),
            t: round(trend.t, 2),
            dispersion: round(trend.dispersion, 2),
            rise: round(rise, 4),
          },
        },
        window,
      );
      out.push(found);
      if (trend.t < z) supportOnly.add(found);
    }
  }
  return mostSpecificCreep(out, supportOnly);
}

/**
 * A model's creep lifts the project's average too, and a project-wide creep shows in each busy
 * model. Per project and metric: models that rise clearly more than the project (≥ 1.25×) are the
 * news, unless several of them rise alike; otherwise the project is, with its models as
 * contributors.
 */
function mostSpecificCreep(found: Detection[], supportOnly: ReadonlySet<Detection>): Detection[] {
  const groups = new Map<string, Detection[]>();
  for (const d of found) {
    const k = `${d.project}\n${d.rule}`;
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  const rise = (d: Detection) => Number(d.evidence.rise);
  const out: Detection[] = [];
  for (const ds of groups.values()) {
    const projectTrend = ds.find((d) => !d.subject.model);
    const models = ds.filter((d) => d.subject.model);
    // Without a significant trend of its own, the project is named only for a creep that at
    // least two of its models share.
    const project =
      projectTrend && (!supportOnly.has(projectTrend) || models.length >= 2) ? projectTrend : undefined;
    if (!project) {
      out.push(...models);
      continue;
    }
    const outliers = models.filter((m) => rise(m) >= 1.25 * rise(project));
    // Several models creeping by about as much (within 1.5× of each other) are the project's
    // creep, whatever the project's own fit says: its mix of models makes that fit the noisiest.
    const rises = outliers.map(rise);
    const alike = outliers.length >= 2 && Math.max(...rises) <= 1.5 * Math.min(...rises);
    if (outliers.length > 0 && !alike)
      out.push(...foldIntoMostSpecific([project, ...outliers], (d) => (d.subject.model ? 1 : 0), rise, 0));
    else
      out.push(
        ...foldIntoMostSpecific(
          [project, ...models],
          (d) => (d.subject.model ? 0 : 1),
          rise,
          0,
          (folded) => `Its models rise alike (${folded}).`,
        ),
      );
  }
  return out;
}

/**
 * Daily aggregates change slowly: the query runs once per project and hour (the trend's days end
 * at the last whole hour), not on every scheduler tick.
 */
const recent = new Map<string, CreepDayRow[]>();
const CACHE_ENTRIES = 256;

async function dailyRows(ctx: DetectContext, toMs: number): Promise<CreepDayRow[]> {
  const key = `${ctx.project ?? ''}\n${toMs}\n${ctx.config.creep.days}`;
  const hit = recent.get(key);
  if (hit) return hit;
  const rows = await queryRows<CreepDayRow>(ctx.client, CREEP_SQL, {
    to: toMs,
    days: ctx.config.creep.days,
    project: ctx.project ?? '',
  });
  if (recent.size >= CACHE_ENTRIES) recent.delete(recent.keys().next().value!);
  recent.set(key, rows);
  return rows;
}

export const creepDetector: Detector = {
  kind: 'creep',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const toMs = Math.floor(ctx.window.toMs / HOUR_MS) * HOUR_MS;
    return evaluateCreep(await dailyRows(ctx, toMs), ctx.window, ctx.config);
  },
};
