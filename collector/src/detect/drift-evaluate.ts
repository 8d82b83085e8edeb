import type { DetectionConfig } from './config.js';
import type { DriftCategoryRow, DriftGroupRow, DriftKsRow } from './drift-sql.js';
import { categoricalShift, type SemanticResult } from './drift-stats.js';
import {
  detection,
  describeSubject,
  round,
  type Detection,
  type DetectWindow,
  type Subject,
} from './types.js';

/** Pure evaluation of the drift detector's rows into detections (detect/drift.ts runs the queries). */
/** Pure: the category counts of the groups query as rows per (group, feature, category). */
export function categoryRows(groups: DriftGroupRow[]): DriftCategoryRow[] {
  const out: DriftCategoryRow[] = [];
  const features = [
    ['finish_reason', 'finishCur', 'finishBase'],
    ['language', 'languageCur', 'languageBase'],
    ['tool_use', 'toolCur', 'toolBase'],
  ] as const;
  for (const g of groups) {
    for (const [feature, curKey, baseKey] of features) {
      const cur = g[curKey] ?? {};
      const base = g[baseKey] ?? {};
      for (const category of new Set([...Object.keys(cur), ...Object.keys(base)])) {
        if (feature === 'language' && category === '') continue;
        out.push({
          project: g.project,
          service: g.service,
          promptName: g.promptName,
          model: g.model,
          feature,
          category,
          cur: Number(cur[category] ?? 0),
          base: Number(base[category] ?? 0),
        });
      }
    }
  }
  return out;
}

export function subjectOf(g: { service: string; promptName: string; model: string }): Subject {
  return { service: g.service, promptName: g.promptName, model: g.model };
}

export function evaluateDriftDistributions(
  groups: DriftGroupRow[],
  ks: DriftKsRow[],
  categories: DriftCategoryRow[],
  window: DetectWindow,
  cfg: DetectionConfig,
): Detection[] {
  const c = cfg.drift;
  const out: Detection[] = [];
  const key = (r: { project: string; service: string; promptName: string; model: string }) =>
    `${r.project}\n${r.service}\n${r.promptName}\n${r.model}`;
  const groupByKey = new Map(groups.map((g) => [key(g), g]));
  // Every group is tested on both sides in every window: `alpha` is the false-alert rate of a
  // project's whole pass (Bonferroni over its tests), not of each test, or a project with a
  // dozen prompts would see a chance length shift every few days.
  const ksTests = countBy(ks, (k) => k.project, 2);
  for (const k of ks) {
    const g = groupByKey.get(key(k));
    if (!g) continue;
    for (const side of ['input', 'output'] as const) {
      const d = side === 'input' ? k.inD : k.outD;
      const p = side === 'input' ? k.inP : k.outP;
      if (!(d >= c.minKsStatistic && p < c.alpha / (ksTests.get(k.project) ?? 1))) continue;
      const medCur = side === 'input' ? g.inMedCur : g.outMedCur;
      const medBase = side === 'input' ? g.inMedBase : g.outMedBase;
      const subject = subjectOf(g);
      out.push(
        detection(
          {
            kind: 'drift',
            severity: 'warning',
            project: g.project,
            rule: `drift.${side}_tokens`,
            subject,
            observed: round(medCur, 1),
            baseline: round(medBase, 1),
            message: `${side === 'input' ? 'Input' : 'Output'} length of ${describeSubject(subject)} shifted: median ${Math.round(medCur)} tokens vs ${Math.round(medBase)} (KS D=${d.toFixed(2)}, p=${p.toExponential(1)}).`,
            evidence: {
              unit: 'tokens_median',
              test: { name: 'kolmogorov-smirnov', d: round(d, 4), pValue: p },
              samples: { current: g.nCur, baseline: g.nBase },
            },
          },
          window,
        ),
      );
    }
  }
  const byFeature = new Map<string, DriftCategoryRow[]>();
  for (const r of categories) {
    const k = `${key(r)}\n${r.feature}`;
    const list = byFeature.get(k) ?? [];
    list.push(r);
    byFeature.set(k, list);
  }
  const mixTests = countBy([...byFeature.values()], (list) => list[0]!.project, 1);
  for (const list of byFeature.values()) {
    const first = list[0]!;
    const g = groupByKey.get(key(first));
    if (!g) continue;
    const shift = categoricalShift(list, c.alpha / (mixTests.get(first.project) ?? 1));
    if (!(shift.psi >= c.psiThreshold && shift.psi >= shift.critical)) continue;
    const subject = subjectOf(g);
    const moved = shift.top[0]!;
    out.push(
      detection(
        {
          kind: 'drift',
          severity: 'warning',
          project: g.project,
          rule: `drift.${first.feature}`,
          subject,
          observed: moved.current,
          baseline: moved.baseline,
          message: `${first.feature.replace('_', ' ')} mix of ${describeSubject(subject)} shifted (PSI ${shift.psi.toFixed(2)}): "${moved.category}" is ${(moved.current * 100).toFixed(0)}% of calls vs ${(moved.baseline * 100).toFixed(0)}% before.`,
          evidence: {
            unit: 'share_of_calls',
            feature: first.feature,
            psi: round(shift.psi, 4),
            chiSquareGuard: round(shift.critical, 4),
            categories: shift.top.slice(0, 6),
            samples: { current: g.nCur, baseline: g.nBase },
          },
        },
        window,
      ),
    );
  }
  return out;
}

/** Tests per project: `each` tests for every item of the project. */
function countBy<T>(items: readonly T[], project: (item: T) => string, each: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(project(item), (out.get(project(item)) ?? 0) + each);
  return out;
}

export interface TermShift {
  term: string;
  cur: number;
  base: number;
}

/** Pure: a semantic drift detection with the words whose share of calls rose and fell, and examples. */
export function semanticDetection(
  g: DriftGroupRow,
  side: 'input' | 'output',
  r: SemanticResult,
  emb: boolean,
  context: { rising: TermShift[]; falling: TermShift[]; examples: string[] },
  window: DetectWindow,
): Detection {
  const { rising, falling, examples } = context;
  const subject = subjectOf(g);
  return detection(
    {
      kind: 'drift',
      severity: 'warning',
      project: g.project,
      rule: `drift.${side}_semantic`,
      subject,
      observed: round(r.distance, 4),
      baseline: round(r.noise, 4),
      message: `What ${side === 'input' ? 'users send to' : 'the model answers in'} ${describeSubject(subject)} changed (centroid cosine distance ${r.distance.toFixed(3)} vs ${r.threshold.toFixed(3)} allowed)${rising.length ? `; more: ${rising.map((t) => t.term).join(', ')}` : ''}${falling.length ? `; less: ${falling.map((t) => t.term).join(', ')}` : ''}.`,
      evidence: {
        unit: 'cosine_distance',
        vectors: emb ? 'app_embedding' : 'sketch',
        threshold: round(r.threshold, 4),
        noiseAtCurrentSize: round(r.noise, 5),
        samples: { current: r.nCur, baseline: r.nBase },
        termsRising: rising.map((t) => ({
          term: t.term,
          current: round(t.cur, 3),
          baseline: round(t.base, 3),
        })),
        termsFalling: falling.map((t) => ({
          term: t.term,
          current: round(t.cur, 3),
          baseline: round(t.base, 3),
        })),
        examples,
      },
    },
    window,
  );
}
