import { stopwords } from '@llmwatch/core';
import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import {
  baselineSample,
  keyIn,
  DIST_TO_RANGE,
  DAY_MS,
  FROM,
  IDX,
  PROJECT_FILTER,
  TO,
  windowParams,
} from './sql.js';
import { chiSquareCritical } from './stats.js';
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

/**
 * Drift per (service, prompt) — per (service, model) for calls without a prompt name:
 * token-length distributions (Kolmogorov-Smirnov), categorical mixes (PSI with a chi-square
 * guard) and content (cosine distance of sketch or app-embedding centroids against the spread of
 * random baseline subsamples of the same size).
 */
const GROUP = `ServiceName AS service, PromptName AS promptName, if(PromptName = '', Model, '') AS model`;
const GROUP_EXPRS = ['ProjectId', 'ServiceName', 'PromptName', "if(PromptName = '', Model, '')"] as const;
const GROUP_KEY = keyIn(GROUP_EXPRS);

export interface DriftGroupRow {
  project: string;
  service: string;
  promptName: string;
  model: string;
  nCur: number;
  nBase: number;
  inMedCur: number;
  inMedBase: number;
  outMedCur: number;
  outMedBase: number;
  /** Calls carrying app embeddings, and their dimension range (0,0 when none). */
  inEmb: number;
  inEmbMin: number;
  inEmbMax: number;
  outEmb: number;
  outEmbMin: number;
  outEmbMax: number;
  inSketch: number;
  outSketch: number;
  /** Category counts of the current window and the baseline, per categorical feature. */
  finishCur: Record<string, number>;
  finishBase: Record<string, number>;
  languageCur: Record<string, number>;
  languageBase: Record<string, number>;
  toolCur: Record<string, number>;
  toolBase: Record<string, number>;
}

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

export const DRIFT_GROUPS_SQL = `
SELECT ProjectId AS project, ${GROUP},
  toUInt32(countIf(idx = 0)) AS nCur, toUInt32(countIf(idx = 1)) AS nBase,
  quantileTDigestIf(0.5)(InputTokens, idx = 0) AS inMedCur, quantileTDigestIf(0.5)(InputTokens, idx = 1) AS inMedBase,
  quantileTDigestIf(0.5)(OutputTokens, idx = 0) AS outMedCur, quantileTDigestIf(0.5)(OutputTokens, idx = 1) AS outMedBase,
  toUInt32(countIf(ie > 0)) AS inEmb, toUInt32(minIf(ie, ie > 0)) AS inEmbMin, toUInt32(maxIf(ie, ie > 0)) AS inEmbMax,
  toUInt32(countIf(oe > 0)) AS outEmb, toUInt32(minIf(oe, oe > 0)) AS outEmbMin, toUInt32(maxIf(oe, oe > 0)) AS outEmbMax,
  toUInt32(countIf(isz = 64)) AS inSketch, toUInt32(countIf(osz = 64)) AS outSketch,
  sumMap(map(fr, toUInt64(idx = 0))) AS finishCur, sumMap(map(fr, toUInt64(idx = 1))) AS finishBase,
  sumMap(map(lang, toUInt64(idx = 0))) AS languageCur, sumMap(map(lang, toUInt64(idx = 1))) AS languageBase,
  sumMap(map(tool, toUInt64(idx = 0))) AS toolCur, sumMap(map(tool, toUInt64(idx = 1))) AS toolBase
FROM (SELECT ProjectId, ServiceName, PromptName, Model, InputTokens, OutputTokens,
        if(empty(FinishReasons), '(none)', toString(FinishReasons[1])) AS fr, toString(Language) AS lang,
        if(empty(ToolNames), 'no', 'yes') AS tool,
        InputEmbedding.size0 AS ie, OutputEmbedding.size0 AS oe, InputSketch.size0 AS isz, OutputSketch.size0 AS osz,
        ${IDX} AS idx
      FROM llm_calls WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error')
GROUP BY project, service, promptName, model
HAVING nCur >= {minSamples:UInt32} AND nBase >= {minBaseline:UInt32}`;

export interface DriftKsRow {
  project: string;
  service: string;
  promptName: string;
  model: string;
  inD: number;
  inP: number;
  outD: number;
  outP: number;
}

export const driftKsSql = (sample: string): string => `
SELECT ProjectId AS project, ${GROUP},
  kolmogorovSmirnovTest('two-sided', 'asymp')(toFloat64(InputTokens), idx) AS ki, ki.1 AS inD, ki.2 AS inP,
  kolmogorovSmirnovTest('two-sided', 'asymp')(toFloat64(OutputTokens), idx) AS ko, ko.1 AS outD, ko.2 AS outP
FROM (SELECT ProjectId, ServiceName, PromptName, Model, InputTokens, OutputTokens, ${IDX} AS idx
      FROM llm_calls WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error' AND ${sample})
WHERE ${GROUP_KEY}
GROUP BY project, service, promptName, model`;

export interface DriftCategoryRow {
  project: string;
  service: string;
  promptName: string;
  model: string;
  feature: 'finish_reason' | 'language' | 'tool_use';
  category: string;
  cur: number;
  base: number;
}

export interface CentroidRow {
  /** -1 for the current window, 0..K-1 for random baseline subsamples. */
  bucket: number;
  n: number;
  centroid: number[];
}

const NULL_BUCKETS = 16;
const CURRENT_RANGE_SQL = `Timestamp >= ${FROM} AND Timestamp < ${TO}`;
/** Baseline rows per group read by the KS test and by the centroids (sampled deterministically beyond). */
const KS_BASELINE_CAP = 5_000;
const CENTROID_BASELINE_CAP = 8_000;

export interface GroupCentroidRow extends CentroidRow {
  project: string;
  service: string;
  promptName: string;
  model: string;
  side: 'input' | 'output';
}

/**
 * Centroids of the current window and of K random baseline subsamples, for every listed group
 * and both sides in one scan: sketches (64-dim) or app embeddings.
 */
export function centroidsSql(vectors: 'sketch' | 'embedding', sample: string): string {
  const pair =
    vectors === 'sketch'
      ? `[('input', InputSketch), ('output', OutputSketch)]`
      : `[('input', InputEmbedding), ('output', OutputEmbedding)]`;
  return `
SELECT ProjectId AS project, ${GROUP}, v.1 AS side,
  toInt32(if(Timestamp >= ${FROM}, -1, cityHash64(SpanId) % ${NULL_BUCKETS})) AS bucket,
  toUInt32(count()) AS n, avgForEach(v.2) AS centroid
FROM llm_calls
ARRAY JOIN ${pair} AS v
WHERE ${DIST_TO_RANGE} AND ${PROJECT_FILTER} AND Status != 'error' AND ${GROUP_KEY} AND ${sample}
  AND ${vectors === 'sketch' ? 'length(v.2) = 64' : 'notEmpty(v.2)'}
GROUP BY project, service, promptName, model, side, bucket`;
}

/** Document frequency of words in the current window vs the last day of baseline: what changed. */
export function termsSql(column: 'InputContent' | 'OutputContent'): string {
  return `
SELECT term, countIf(idx = 0) / greatest(1, any(nc)) AS cur, countIf(idx = 1) / greatest(1, any(nb)) AS base
FROM (
  SELECT idx, arrayJoin(arrayDistinct(extractAll(lower(${column}), '\\\\p{L}{4,}'))) AS term,
    countIf(idx = 0) OVER () AS nc, countIf(idx = 1) OVER () AS nb
  FROM (SELECT ${column}, ${IDX} AS idx FROM llm_calls
        WHERE Timestamp >= fromUnixTimestamp64Milli({from:Int64} - ${DAY_MS}) AND Timestamp < ${TO}
          AND ProjectId = {p:String} AND ServiceName = {s:String} AND PromptName = {pn:String}
          AND (PromptName != '' OR Model = {m:String}) AND Status != 'error' AND ${column} != ''
        LIMIT 20000)
)
WHERE term NOT IN ('role', 'user', 'assistant', 'system', 'parts', 'type', 'text', 'content', 'tool', 'name', 'finish', 'reason')
  AND term NOT IN {stop:Array(String)}
GROUP BY term
HAVING countIf(idx = 0) >= 3 OR countIf(idx = 1) >= 3
ORDER BY abs(cur - base) DESC
LIMIT 12`;
}

/** Text of the last message of up to 3 current calls containing a term (content is stored after PII policy). */
export function examplesSql(column: 'InputContent' | 'OutputContent'): string {
  return `
SELECT substring(if(isValidJSON(${column}),
    JSONExtractString(${column}, -1, 'parts', 1, 'content'), ${column}), 1, 300) AS text
FROM llm_calls
WHERE ${CURRENT_RANGE_SQL} AND ProjectId = {p:String} AND ServiceName = {s:String} AND PromptName = {pn:String}
  AND (PromptName != '' OR Model = {m:String}) AND Status != 'error' AND positionCaseInsensitiveUTF8(${column}, {term:String}) > 0
ORDER BY Timestamp
LIMIT 3`;
}

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
 * of each random baseline subsample to the rest of the baseline, rescaled to the current sample
 * size (the noise of a centroid distance shrinks like 1/n): drift must stand out of that noise.
 */
export function semanticDrift(rows: CentroidRow[], cfg: DetectionConfig): SemanticResult | null {
  const cur = rows.find((r) => r.bucket === -1);
  const base = rows.filter((r) => r.bucket >= 0 && r.n > 0);
  if (!cur || base.length < 4) return null;
  const nBase = base.reduce((s, r) => s + r.n, 0);
  const distance = cosineDistance(cur.centroid, weightedMean(base));
  const scaled = base.map((b) => {
    const rest = weightedMean(base.filter((r) => r !== b));
    return (cosineDistance(b.centroid, rest) * b.n) / cur.n;
  });
  scaled.sort((a, b) => a - b);
  const noise = scaled[Math.floor(scaled.length * 0.9)] ?? 0;
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

function subjectOf(g: { service: string; promptName: string; model: string }): Subject {
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
  for (const k of ks) {
    const g = groupByKey.get(key(k));
    if (!g) continue;
    for (const side of ['input', 'output'] as const) {
      const d = side === 'input' ? k.inD : k.outD;
      const p = side === 'input' ? k.inP : k.outP;
      if (!(d >= c.minKsStatistic && p < c.alpha)) continue;
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
  for (const list of byFeature.values()) {
    const first = list[0]!;
    const g = groupByKey.get(key(first));
    if (!g) continue;
    const shift = categoricalShift(list, c.alpha);
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
    const keys = groups.map((g) => [g.project, g.service, g.promptName, g.model]);
    const ksSample = baselineSample(
      groups.map((g) => ({ key: [g.project, g.service, g.promptName, g.model], nBase: g.nBase })),
      GROUP_EXPRS,
      KS_BASELINE_CAP,
    );
    const centroidSample = baselineSample(
      groups.map((g) => ({ key: [g.project, g.service, g.promptName, g.model], nBase: g.nBase })),
      GROUP_EXPRS,
      CENTROID_BASELINE_CAP,
    );
    const ks = await queryRows<DriftKsRow>(ctx.client, driftKsSql(ksSample.sql), {
      ...params,
      keys,
      ...ksSample.params,
    });
    const categories = categoryRows(groups);
    const out = evaluateDriftDistributions(groups, ks, categories, ctx.window, ctx.config);
    // Per group and side: app embeddings when (nearly) every call has them in one dimension, else sketches.
    const useEmbedding = (g: DriftGroupRow, side: 'input' | 'output') => {
      const emb = side === 'input' ? [g.inEmb, g.inEmbMin, g.inEmbMax] : [g.outEmb, g.outEmbMin, g.outEmbMax];
      return emb[0]! >= 0.9 * (g.nCur + g.nBase) && emb[1] === emb[2] && emb[1]! > 0;
    };
    const hasSketches = (g: DriftGroupRow, side: 'input' | 'output') =>
      (side === 'input' ? g.inSketch : g.outSketch) >= 0.5 * (g.nCur + g.nBase);
    const keyOf = (g: DriftGroupRow) => [g.project, g.service, g.promptName, g.model];
    const sketchGroups = groups.filter((g) =>
      (['input', 'output'] as const).some((side) => !useEmbedding(g, side) && hasSketches(g, side)),
    );
    const embeddingGroups = groups.filter((g) =>
      (['input', 'output'] as const).some((side) => useEmbedding(g, side)),
    );
    const centroids = [
      ...(sketchGroups.length
        ? await queryRows<GroupCentroidRow>(ctx.client, centroidsSql('sketch', centroidSample.sql), {
            ...params,
            ...centroidSample.params,
            keys: sketchGroups.map(keyOf),
          })
        : []),
      ...(embeddingGroups.length
        ? (
            await queryRows<GroupCentroidRow>(ctx.client, centroidsSql('embedding', centroidSample.sql), {
              ...params,
              ...centroidSample.params,
              keys: embeddingGroups.map(keyOf),
            })
          ).map((r) => ({ ...r, embedding: true }))
        : []),
    ] as Array<GroupCentroidRow & { embedding?: boolean }>;
    for (const g of groups) {
      for (const side of ['input', 'output'] as const) {
        const emb = useEmbedding(g, side);
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
        const gp = { ...params, p: g.project, s: g.service, pn: g.promptName, m: g.model };
        const r = semanticDrift(rows, ctx.config);
        if (!r || r.nCur < c.minSamples || !(r.distance > r.threshold)) continue;
        const terms = await queryRows<{ term: string; cur: number; base: number }>(
          ctx.client,
          termsSql(side === 'input' ? 'InputContent' : 'OutputContent'),
          {
            ...gp,
            stop: [
              ...stopwords(),
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
            ],
          },
        );
        const subject = subjectOf(g);
        const rising = terms.filter((t) => t.cur > t.base).slice(0, 5);
        const falling = terms.filter((t) => t.cur < t.base).slice(0, 5);
        // A few current messages that use the most-risen word: the drift in the users' own words.
        const examples = rising.length
          ? await queryRows<{ text: string }>(
              ctx.client,
              examplesSql(side === 'input' ? 'InputContent' : 'OutputContent'),
              {
                ...gp,
                term: rising[0]!.term,
              },
            )
          : [];
        out.push(
          detection(
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
                examples: examples.map((e) => e.text),
              },
            },
            ctx.window,
          ),
        );
      }
    }
    return out;
  },
};
