import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/**
 * The few statistics `compare` computes in TypeScript, on top of what ClickHouse computes
 * (welchTTest, mannWhitneyUTest, proportionsZTest, exact quantiles, varSamp): distribution
 * functions come from stdlib (@stdlib/stats-base-dists-*); the formulas here are tested against
 * published reference values in stats.test.ts.
 */

/** Standard normal quantile. */
export const zQuantile = (p: number): number => normalQuantile(p, 0, 1);

/**
 * Holm's step-down adjustment (Holm 1979): adjusted p-values that control the family-wise error
 * rate over all the metrics of one comparison. NaN p-values (tests that could not run) stay NaN
 * and do not count towards the family size.
 */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter((x) => Number.isFinite(x.p))
    .sort((a, b) => a.p - b.p);
  const m = order.length;
  const out = pValues.map(() => Number.NaN);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Welch-Satterthwaite degrees of freedom of a difference of two means. */
export function welchDf(varA: number, nA: number, varB: number, nB: number): number {
  const a = varA / nA;
  const b = varB / nB;
  return (a + b) ** 2 / (a ** 2 / (nA - 1) + b ** 2 / (nB - 1));
}

/**
 * Welch's two-sample t-test of B − A from each sample's mean, variance and size (computed by
 * ClickHouse: avg, varSamp, count). Same result as ClickHouse's welchTTest, which cannot be used
 * directly because it throws when both samples are constant. NaN fields when undefined.
 */
export function welchTest(
  a: { mean: number; variance: number; n: number },
  b: { mean: number; variance: number; n: number },
  confidence = 0.95,
): {
  t_statistic: number;
  p_value: number;
  confidence_interval_low: number;
  confidence_interval_high: number;
} {
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  if (!(a.n >= 2 && b.n >= 2 && se > 0))
    return { t_statistic: NaN, p_value: NaN, confidence_interval_low: NaN, confidence_interval_high: NaN };
  const diff = b.mean - a.mean;
  const df = welchDf(a.variance, a.n, b.variance, b.n);
  const t = diff / se;
  const half = tQuantile(1 - (1 - confidence) / 2, df) * se;
  return {
    t_statistic: t,
    p_value: 2 * (1 - tCdf(Math.abs(t), df)),
    confidence_interval_low: diff - half,
    confidence_interval_high: diff + half,
  };
}

/**
 * Non-inferiority of B against A for a higher-is-better mean (Welch): H0 is "B is worse than A by
 * at least `margin`". Returns the one-sided p-value; below alpha, B is not worse by more than it.
 */
export function nonInferiorityP(
  a: { mean: number; variance: number; n: number },
  b: { mean: number; variance: number; n: number },
  margin: number,
): number {
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  const diff = b.mean - a.mean;
  if (!(se > 0)) return diff > -margin ? 0 : 1;
  const t = (diff + margin) / se;
  return 1 - tCdf(t, welchDf(a.variance, a.n, b.variance, b.n));
}

/**
 * Distribution-free confidence interval of a quantile: the order statistics whose ranks bound
 * n·q ± z·√(n·q·(1−q)) (normal approximation to the binomial count below the quantile). Returned as
 * the probability levels of those ranks, for an exact-quantile query.
 */
export function quantileCiLevels(n: number, q: number, confidence = 0.95): [number, number] {
  const z = zQuantile(1 - (1 - confidence) / 2);
  const half = z * Math.sqrt(n * q * (1 - q));
  const lower = Math.max(0, Math.floor(n * q - half));
  const upper = Math.min(n, Math.ceil(n * q + half));
  return [lower / n, upper / n];
}

/**
 * Two-sided p-value and CI of a difference of two independent estimates from their own CIs
 * (standard errors recovered from the CI half-widths; normal approximation). Used for quantiles.
 */
export function differenceFromCis(
  a: { value: number; lower: number; upper: number },
  b: { value: number; lower: number; upper: number },
  confidence = 0.95,
): { pValue: number; ci: [number, number] } {
  const z = zQuantile(1 - (1 - confidence) / 2);
  const seA = (a.upper - a.lower) / (2 * z);
  const seB = (b.upper - b.lower) / (2 * z);
  const se = Math.sqrt(seA ** 2 + seB ** 2);
  const diff = b.value - a.value;
  if (!(se > 0)) return { pValue: diff === 0 ? 1 : 0, ci: [diff, diff] };
  return { pValue: 2 * (1 - normalCdf(Math.abs(diff) / se, 0, 1)), ci: [diff - z * se, diff + z * se] };
}

/**
 * Calls per cohort a two-sided test at `alpha` needs to detect a difference `delta` with `power`,
 * for a metric with standard deviation `sd` (two equal groups, normal approximation):
 * n = 2·((z₁₋α/₂ + z_power)·sd/δ)². One-sided tests (non-inferiority) pass `sides = 1`.
 */
export function callsNeeded(sd: number, delta: number, alpha = 0.05, power = 0.8, sides: 1 | 2 = 2): number {
  if (!(sd > 0) || !(delta > 0)) return 0;
  const z = zQuantile(1 - alpha / sides) + zQuantile(power);
  return Math.ceil(2 * ((z * sd) / delta) ** 2);
}
