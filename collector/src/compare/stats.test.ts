import { describe, expect, it } from 'vitest';
import {
  callsNeeded,
  differenceFromCis,
  holm,
  nonInferiorityP,
  quantileCiLevels,
  welchDf,
  welchTest,
  zQuantile,
} from './stats.js';

describe('compare statistics against reference values', () => {
  it('normal quantiles match the tables', () => {
    expect(zQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(zQuantile(0.8)).toBeCloseTo(0.841621, 6);
    expect(zQuantile(0.95)).toBeCloseTo(1.644854, 6);
  });

  it('Holm adjusts step-down and keeps the adjusted p-values monotone', () => {
    // Worked example: sorted 0.005·4, 0.01·3, 0.03·2, 0.04·1 → 0.02, 0.03, 0.06, max(0.04, 0.06).
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted.map((p) => Number(p.toFixed(6)))).toEqual([0.03, 0.06, 0.06, 0.02]);
    expect(holm([0.2, Number.NaN, 0.9])).toEqual([0.4, Number.NaN, 0.9]);
  });

  it('Welch-Satterthwaite degrees of freedom', () => {
    // var 1, n 10 and var 4, n 20: (0.1 + 0.2)² / (0.1²/9 + 0.2²/19) = 27.98
    expect(welchDf(1, 10, 4, 20)).toBeCloseTo(27.98, 2);
    // Equal variances and sizes: 2(n − 1).
    expect(welchDf(0.03, 6, 0.03, 6)).toBeCloseTo(10, 10);
  });

  it("Welch's test matches ClickHouse's welchTTest(0.95) on the same samples", () => {
    // SELECT welchTTest(0.95)(x, idx) FROM (SELECT number % 2 AS idx, idx + number % 7 AS x FROM numbers(100))
    // = (t -2.509545939656127, p 0.013727906959071617, CI -1.826584362387813 .. -0.21341563761218685)
    // for mean(idx 0) − mean(idx 1): idx 1 is A, idx 0 is B.
    const stats = (idx: number) => {
      const xs = Array.from({ length: 100 }, (_, n) => n)
        .filter((n) => n % 2 === idx)
        .map((n) => idx + (n % 7));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
      return { mean, variance, n: xs.length };
    };
    const r = welchTest(stats(1), stats(0));
    expect(r.t_statistic).toBeCloseTo(-2.509545939656127, 10);
    expect(r.p_value).toBeCloseTo(0.013727906959071617, 8);
    expect(r.confidence_interval_low).toBeCloseTo(-1.826584362387813, 6);
    expect(r.confidence_interval_high).toBeCloseTo(-0.21341563761218685, 6);
    // Two constant samples: no test (ClickHouse's welchTTest throws here).
    expect(welchTest({ mean: 1, variance: 0, n: 10 }, { mean: 1, variance: 0, n: 10 }).p_value).toBeNaN();
  });

  it('non-inferiority p-value is the one-sided t tail: t(0.95, 10 df) = 1.812461 gives p = 0.05', () => {
    // n = 6 each, variance 0.03: se = 0.1 and df = 10; (diff + margin) / se = 1.812461.
    const a = { mean: 0.5, variance: 0.03, n: 6 };
    const b = { mean: 0.5 + 0.1812461 - 0.05, variance: 0.03, n: 6 };
    expect(nonInferiorityP(a, b, 0.05)).toBeCloseTo(0.05, 6);
    // t(0.99, 10 df) = 2.763769.
    expect(nonInferiorityP(a, { ...b, mean: 0.5 + 0.2763769 - 0.05 }, 0.05)).toBeCloseTo(0.01, 6);
  });

  it('difference of two estimates from their CIs: z = 3/√2 gives p = 0.0339', () => {
    const z = 1.959964;
    const { pValue, ci } = differenceFromCis(
      { value: 10, lower: 10 - z, upper: 10 + z },
      { value: 13, lower: 13 - z, upper: 13 + z },
    );
    expect(pValue).toBeCloseTo(0.033895, 5);
    expect(ci[0]).toBeCloseTo(3 - z * Math.SQRT2, 5);
  });

  it('quantile CI ranks: median of 100 is bracketed by ranks 40 and 60', () => {
    expect(quantileCiLevels(100, 0.5)).toEqual([0.4, 0.6]);
  });

  it('sample size: half a standard deviation at α = 0.05, power 0.8 needs 63 per group', () => {
    expect(callsNeeded(1, 0.5)).toBe(63);
    // One-sided (non-inferiority): 2·((1.645 + 0.842)·1/0.5)² = 49.5 → 50.
    expect(callsNeeded(1, 0.5, 0.05, 0.8, 1)).toBe(50);
  });
});
