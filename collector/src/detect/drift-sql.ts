import { keyIn, DIST_TO_RANGE, DAY_MS, FROM, IDX, PROJECT_FILTER, TO } from './sql.js';

/**
 * SQL of the drift detector (detect/drift.ts). Drift per (service, prompt) — per (service, model) for calls without a prompt name:
 * token-length distributions (Kolmogorov-Smirnov), categorical mixes (PSI with a chi-square
 * guard) and content (cosine distance of sketch or app-embedding centroids against the spread of
 * random baseline subsamples of the same size).
 */
export const GROUP = `ServiceName AS service, PromptName AS promptName, if(PromptName = '', Model, '') AS model`;
export const GROUP_EXPRS = [
  'ProjectId',
  'ServiceName',
  'PromptName',
  "if(PromptName = '', Model, '')",
] as const;
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

/**
 * Baseline subsamples for the noise estimate. Bucketed by a different hash than the one
 * `baselineSample` (sql.ts) keeps by (cityHash64): with the same hash, a sampling modulus of 16
 * would put every kept row into bucket 0 and leave no noise estimate for the busiest groups.
 */
const NULL_BUCKETS = 16;
const CURRENT_RANGE_SQL = `Timestamp >= ${FROM} AND Timestamp < ${TO}`;
/** Baseline rows per group read by the KS test and by the centroids (sampled deterministically beyond). */
export const KS_BASELINE_CAP = 5_000;
export const CENTROID_BASELINE_CAP = 8_000;

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
  toInt32(if(Timestamp >= ${FROM}, -1, sipHash64(SpanId) % ${NULL_BUCKETS})) AS bucket,
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
