import { describe, expect, it } from 'vitest';
import { logGamma, poissonLogSf, poissonSf } from './stats.js';

/**
 * References computed independently of this code: mpmath 1.3 `gammainc(k, 0, λ, regularized=True)`
 * at 50 digits (P(X ≥ k) = P(k, λ)), cross-checked with scipy 1.17 `poisson.sf(k − 1, λ)`.
 */
const REFERENCES: Array<[k: number, lambda: number, sf: number]> = [
  [1, 0.5, 0.3934693402873666],
  [5, 1.2, 0.007745788276441411],
  [10, 3, 0.0011024881301154798],
  [30, 10, 2.5099512015279076e-7],
  [100, 50, 3.200065324585125e-10],
  [3, 1e-4, 1.666541671666528e-13],
  [800, 745, 0.023900746391145766],
  [2000, 1000, 3.0581920801687568e-170],
  [10000, 10000, 0.5013298083399552],
  [10300, 10000, 0.001432365367466765],
  [10500, 10000, 3.5995897948120387e-7],
  [10700, 10000, 2.3002577146597327e-12],
  [10712, 10000, 9.985759522039988e-13],
  [11000, 10000, 3.911225805093015e-23],
  [9500, 10000, 0.9999997743806506],
];

describe('poissonSf', () => {
  it.each(REFERENCES)('P(X ≥ %d | λ = %d) matches the reference', (k, lambda, sf) => {
    expect(Math.abs(poissonSf(k, lambda) / sf - 1)).toBeLessThan(1e-9);
  });

  it('is right at λ = 10⁴ around p = 1e-12 (the count that first crosses 1e-12 is 10712)', () => {
    expect(poissonSf(10711, 10000)).toBeGreaterThan(1e-12);
    expect(poissonSf(10712, 10000)).toBeLessThan(1e-12);
  });

  // Regression: exp(-λ) underflowed to 0 for λ ≳ 745, so every busy group got p = 1.
  it('does not underflow for busy groups (poissonSf(2000, 1000) was 1)', () => {
    expect(poissonSf(2000, 1000)).toBeLessThan(1e-100);
    expect(poissonLogSf(2000, 1000)).toBeCloseTo(-390.32164189110273, 6);
    expect(poissonLogSf(100_000, 50_000)).toBeLessThan(-10_000);
  });

  it('edge cases', () => {
    expect(poissonSf(0, 5)).toBe(1);
    expect(poissonSf(3, 0)).toBe(0);
    expect(poissonSf(9000, 10000)).toBe(1);
  });
});

describe('logGamma', () => {
  it('matches factorials and Γ(1/2)', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    // ln Γ(10⁴) = ln(9999!) (mpmath: 82099.717496442377…)
    expect(logGamma(10000)).toBeCloseTo(82099.71749644238, 7);
  });
});
