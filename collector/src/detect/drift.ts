import { stopwords } from '@llmwatch/core';
import { queryRows } from '../storage/clickhouse.js';
import {
  CENTROID_BASELINE_CAP,
  GROUP_EXPRS,
  KS_BASELINE_CAP,
  DRIFT_GROUPS_SQL,
  centroidsSql,
  driftKsSql,
  examplesSql,
  termsSql,
  type DriftGroupRow,
  type DriftKsRow,
  type GroupCentroidRow,
} from './drift-sql.js';
import { categoryRows, evaluateDriftDistributions, semanticDetection } from './drift-evaluate.js';
import { semanticDrift } from './drift-stats.js';
import { baselineSample, windowParams } from './sql.js';
import type { DetectContext, Detection, Detector } from './types.js';

/**
 * Drift per (service, prompt) — per (service, model) for calls without a prompt name: SQL in
 * drift-sql.ts, statistics in drift-stats.ts, evaluation in drift-evaluate.ts; this module runs
 * the queries in order.
 */
type Side = 'input' | 'output';
const SIDES = ['input', 'output'] as const;
const keyOf = (g: DriftGroupRow) => [g.project, g.service, g.promptName, g.model];

/** Per group and side: app embeddings when (nearly) every call has them in one dimension, else sketches. */
function usesEmbedding(g: DriftGroupRow, side: Side): boolean {
  const emb = side === 'input' ? [g.inEmb, g.inEmbMin, g.inEmbMax] : [g.outEmb, g.outEmbMin, g.outEmbMax];
  return emb[0]! >= 0.9 * (g.nCur + g.nBase) && emb[1] === emb[2] && emb[1]! > 0;
}

function hasSketches(g: DriftGroupRow, side: Side): boolean {
  return (side === 'input' ? g.inSketch : g.outSketch) >= 0.5 * (g.nCur + g.nBase);
}

/** Words that say nothing about what changed, on top of the language stopwords. */
const FILLER_WORDS = [
  'with',
  'from',
  'about',
  'there',
  'their',
  'would',
  'could',
  'should',
  'which',
  'when',
  'will',
  'been',
  'were',
  'they',
  'them',
  'then',
  'than',
  'also',
  'please',
  'does',
];

/** Token lengths (KS on a baseline subsample) and categorical mixes. */
async function distributionDrift(
  ctx: DetectContext,
  params: Record<string, unknown>,
  groups: DriftGroupRow[],
): Promise<Detection[]> {
  const ksSample = baselineSample(
    groups.map((g) => ({ key: keyOf(g), nBase: g.nBase })),
    GROUP_EXPRS,
    KS_BASELINE_CAP,
  );
  const ks = await queryRows<DriftKsRow>(ctx.client, driftKsSql(ksSample.sql), {
    ...params,
    keys: groups.map(keyOf),
    ...ksSample.params,
  });
  return evaluateDriftDistributions(groups, ks, categoryRows(groups), ctx.window, ctx.config);
}

/** Centroids of the groups' sketches and app embeddings, current window and baseline subsample. */
async function centroidsOf(
  ctx: DetectContext,
  params: Record<string, unknown>,
  groups: DriftGroupRow[],
): Promise<Array<GroupCentroidRow & { embedding?: boolean }>> {
  const sample = baselineSample(
    groups.map((g) => ({ key: keyOf(g), nBase: g.nBase })),
    GROUP_EXPRS,
    CENTROID_BASELINE_CAP,
  );
  const sketchGroups = groups.filter((g) =>
    SIDES.some((side) => !usesEmbedding(g, side) && hasSketches(g, side)),
  );
  const embeddingGroups = groups.filter((g) => SIDES.some((side) => usesEmbedding(g, side)));
  const query = (vectors: 'sketch' | 'embedding', of: DriftGroupRow[]) =>
    of.length
      ? queryRows<GroupCentroidRow>(ctx.client, centroidsSql(vectors, sample.sql), {
          ...params,
          ...sample.params,
          keys: of.map(keyOf),
        })
      : Promise.resolve([]);
  return [
    ...(await query('sketch', sketchGroups)),
    ...(await query('embedding', embeddingGroups)).map((r) => ({ ...r, embedding: true })),
  ];
}

/** Content: centroid distance per group and side, with the words that rose and fell and examples. */
async function semanticDriftOf(
  ctx: DetectContext,
  params: Record<string, unknown>,
  groups: DriftGroupRow[],
): Promise<Detection[]> {
  const c = ctx.config.drift;
  const centroids = await centroidsOf(ctx, params, groups);
  const out: Detection[] = [];
  for (const g of groups) {
    for (const side of SIDES) {
      const emb = usesEmbedding(g, side);
      if (!emb && !hasSketches(g, side)) continue;
      const rows = centroids.filter(
        (r) =>
          r.project === g.project &&
          r.service === g.service &&
          r.promptName === g.promptName &&
          r.model === g.model &&
          r.side === side &&
          (r.embedding === true) === emb,
      );
      const result = semanticDrift(rows, ctx.config);
      if (!result || result.nCur < c.minSamples || !(result.distance > result.threshold)) continue;
      const column = side === 'input' ? 'InputContent' : 'OutputContent';
      const gp = { ...params, p: g.project, s: g.service, pn: g.promptName, m: g.model };
      const terms = await queryRows<{ term: string; cur: number; base: number }>(
        ctx.client,
        termsSql(column),
        {
          ...gp,
          stop: [...stopwords(), ...FILLER_WORDS],
        },
      );
      const rising = terms.filter((t) => t.cur > t.base).slice(0, 5);
      const falling = terms.filter((t) => t.cur < t.base).slice(0, 5);
      // A few current messages that use the most-risen word: the drift in the users' own words.
      const examples = rising.length
        ? await queryRows<{ text: string }>(ctx.client, examplesSql(column), { ...gp, term: rising[0]!.term })
        : [];
      out.push(
        semanticDetection(
          g,
          side,
          result,
          emb,
          { rising, falling, examples: examples.map((e) => e.text) },
          ctx.window,
        ),
      );
    }
  }
  return out;
}

export const driftDetector: Detector = {
  kind: 'drift',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const c = ctx.config.drift;
    const params = windowParams(ctx);
    const groups = await queryRows<DriftGroupRow>(ctx.client, DRIFT_GROUPS_SQL, {
      ...params,
      minSamples: c.minSamples,
      minBaseline: c.minBaselineSamples,
    });
    if (groups.length === 0) return [];
    return [
      ...(await distributionDrift(ctx, params, groups)),
      ...(await semanticDriftOf(ctx, params, groups)),
    ];
  },
};
