import type { DetectionConfig } from './config.js';
import type { CentroidRow } from './drift-sql.js';
import { chiSquareCritical } from './stats.js';
import { round } from './types.js';

/** Statistics of the drift detector: centroid distances against subsample noise, PSI with a χ² guard. */
function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : 1 - dot / Math.sqrt(na * nb);
}

function weightedMean(rows: CentroidRow[]): number[] {
  const dim = rows[0]?.centroid.length ?? 0;
  const out = new Array<number>(dim).fill(0);
  let total = 0;
  for (const r of rows) {
    total += r.n;
    for (let i = 0; i < dim; i++) out[i]! += r.centroid[i]! * r.n;
  }
  return out.map((v) => v / Math.max(1, total));
}

export interface SemanticResult {
  distance: number;
  threshold: number;
  noise: number;
  nCur: number;
  nBase: number;
}

/**
 * Pure. The distance between the current and baseline centroids is judged against the distance
 * of each random baseline subsample to the rest of the baseline, rescaled to the sample sizes of
 * the comparison (the noise of a centroid distance shrinks like 1/n): drift must stand out of
 * that noise.
 */
export function semanticDrift(rows: CentroidRow[], cfg: DetectionConfig): SemanticResult | null {
  const cur = rows.find((r) => r.bucket === -1);
  const base = rows.filter((r) => r.bucket >= 0 && r.n > 0);
  if (!cur || base.length < 4) return null;
  const nBase = base.reduce((s, r) => s + r.n, 0);
  const distance = cosineDistance(cur.centroid, weightedMean(base));
  // Rescaled by the variance of a difference of two means: (1/n_cur + 1/n_base) for the current
  // window against the whole baseline, (1/n_b + 1/n_rest) for a subsample against the rest. A
  // small baseline is as noisy as the window it is compared with; scaling by n_b/n_cur alone
  // left that out and let ordinary variation through.
  const scaled = base.map((b) => {
    const rest = weightedMean(base.filter((r) => r !== b));
    const ratio = (1 / cur.n + 1 / nBase) / (1 / b.n + 1 / Math.max(1, nBase - b.n));
    return cosineDistance(b.centroid, rest) * ratio;
  });
  scaled.sort((a, b) => a - b);
  // The 90th percentile of a dozen subsamples is itself noisy: a draw that lands low would let
  // ordinary variation through. 1.5 × their mean (steadier) is at least the q90 of a centroid
  // distance spread over ten or more directions; the q90 governs when a few directions dominate.
  const mean = scaled.reduce((s, v) => s + v, 0) / scaled.length;
  const noise = Math.max(scaled[Math.floor(scaled.length * 0.9)] ?? 0, 1.5 * mean);
  const threshold = Math.max(cfg.drift.minCosineDistance, cfg.drift.noiseFactor * noise);
  return { distance, threshold, noise, nCur: cur.n, nBase };
}

/** Pure. PSI of a categorical mix plus a chi-square guard (PSI·n_eff ~ χ²(k−1) under no change). */
export function categoricalShift(
  rows: Array<{ category: string; cur: number; base: number }>,
  alpha: number,
): {
  psi: number;
  critical: number;
  nEff: number;
  top: Array<{ category: string; current: number; baseline: number }>;
} {
  const nc = rows.reduce((s, r) => s + r.cur, 0);
  const nb = rows.reduce((s, r) => s + r.base, 0);
  let psi = 0;
  const top = rows.map((r) => {
    const pc = (r.cur + 0.5) / (nc + 0.5 * rows.length);
    const pb = (r.base + 0.5) / (nb + 0.5 * rows.length);
    psi += (pc - pb) * Math.log(pc / pb);
    return {
      category: r.category,
      current: round(r.cur / Math.max(1, nc), 4),
      baseline: round(r.base / Math.max(1, nb), 4),
    };
  });
  top.sort((a, b) => Math.abs(b.current - b.baseline) - Math.abs(a.current - a.baseline));
  const nEff = (nc * nb) / Math.max(1, nc + nb);
  return {
    psi,
    critical: rows.length > 1 ? chiSquareCritical(rows.length - 1, alpha) / Math.max(1, nEff) : Infinity,
    nEff,
    top,
  };
}
