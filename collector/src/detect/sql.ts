import type { DetectContext } from './types.js';

export const DAY_MS = 86_400_000;

/** Bound parameters every detector query gets; times are epoch milliseconds (no timezone games). */
export function windowParams(ctx: DetectContext): Record<string, number | string> {
  return {
    from: ctx.window.fromMs,
    to: ctx.window.toMs,
    base: ctx.window.fromMs - ctx.config.baselineDays * DAY_MS,
    recent: ctx.window.fromMs - ctx.config.recentBaselineHours * 3_600_000,
    // Distribution detectors: the same window on previous days (seasonal) or the recent hours.
    dist:
      ctx.config.distributionBaseline === 'seasonal'
        ? ctx.window.fromMs - ctx.config.baselineDays * DAY_MS
        : ctx.window.fromMs - ctx.config.recentBaselineHours * 3_600_000,
    seasonal: ctx.config.distributionBaseline === 'seasonal' ? 1 : 0,
    len: ctx.window.toMs - ctx.window.fromMs,
    project: ctx.project ?? '',
  };
}

export const PROJECT_FILTER = `({project:String} = '' OR ProjectId = {project:String})`;
export const FROM = `fromUnixTimestamp64Milli({from:Int64})`;
export const TO = `fromUnixTimestamp64Milli({to:Int64})`;
export const BASE = `fromUnixTimestamp64Milli({base:Int64})`;
export const RECENT = `fromUnixTimestamp64Milli({recent:Int64})`;
/**
 * Baseline of the distribution detectors and current window together: with a seasonal baseline
 * only the window's own hours on each previous day (a daily cycle in latency, errors or content
 * is then in the baseline), else the recent hours before the window.
 */
export const DIST_TO_RANGE = `Timestamp >= fromUnixTimestamp64Milli({dist:Int64}) AND Timestamp < ${TO}
  AND ({seasonal:UInt8} = 0 OR ({to:Int64} - 1 - toUnixTimestamp64Milli(Timestamp)) % ${DAY_MS} < {len:Int64})`;
/** Seasonal baseline and current window together: [base, to). */
export const BASE_TO_RANGE = `Timestamp >= ${BASE} AND Timestamp < ${TO}`;
export const CURRENT_RANGE = `Timestamp >= ${FROM} AND Timestamp < ${TO}`;
/** 0 for the current window, 1 for the baseline (Mann-Whitney / KS take the first sample as index 0). */
export const IDX = `toUInt8(Timestamp < ${FROM})`;

/** Median of a small list (baseline buckets); NaN for an empty one. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation scaled to a standard deviation under normality. */
export function robustSigma(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/** Standard normal quantile Φ⁻¹(p) (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = Math.min(Math.max(p, 1e-300), 1 - 1e-16);
  if (q < 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q));
    return (
      (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) /
      ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1)
    );
  }
  if (q > 1 - 0.02425) return -normalQuantile(1 - q);
  const r = q - 0.5;
  const s = r * r;
  return (
    ((((((a[0]! * s + a[1]!) * s + a[2]!) * s + a[3]!) * s + a[4]!) * s + a[5]!) * r) /
    (((((b[0]! * s + b[1]!) * s + b[2]!) * s + b[3]!) * s + b[4]!) * s + 1)
  );
}

/** Chi-square critical value at significance alpha (Wilson-Hilferty). */
export function chiSquareCritical(df: number, alpha: number): number {
  const z = -normalQuantile(alpha);
  const k = 2 / (9 * df);
  return df * (1 - k + z * Math.sqrt(k)) ** 3;
}

/**
 * `<tuple of 4 string expressions> IN` the `{keys:Array(Array(String))}` parameter, as a hashed
 * set built once per query (a per-row `has()` over the array would cost more than the scan).
 */
export function keyIn(exprs: readonly [string, string, string, string]): string {
  return `(${exprs.map((e) => `toString(${e})`).join(', ')}) IN (SELECT (k[1], k[2], k[3], k[4]) FROM (SELECT arrayJoin({keys:Array(Array(String))}) AS k))`;
}

/**
 * Deterministic baseline subsampling per group, so that the rank tests and centroids read at
 * most about `cap` baseline rows of each group whatever the traffic: the current window is
 * always taken whole. Returns the SQL condition and its parameters.
 */
export function baselineSample(
  groups: ReadonlyArray<{ key: readonly string[]; nBase: number }>,
  keyExprs: readonly string[],
  cap: number,
): { sql: string; params: { sKeys: string[]; sMods: number[] } } {
  const sKeys = groups.map((g) => g.key.join('\u0001'));
  const sMods = groups.map((g) => Math.max(1, Math.floor(Number(g.nBase) / cap)));
  const key = `arrayStringConcat([${keyExprs.map((e) => `toString(${e})`).join(', ')}], '\\x01')`;
  return {
    sql: `(Timestamp >= ${FROM} OR cityHash64(SpanId) % transform(${key}, {sKeys:Array(String)}, {sMods:Array(UInt32)}, toUInt32(1)) = 0)`,
    params: { sKeys, sMods },
  };
}

/** P(X ≥ k) for X ~ Poisson(λ): is a count of rare events unusually high for its expected rate? */
export function poissonSf(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let term = Math.exp(-lambda);
  let cdf = term;
  for (let i = 1; i < k; i++) {
    term *= lambda / i;
    cdf += term;
  }
  return Math.max(0, 1 - cdf);
}
