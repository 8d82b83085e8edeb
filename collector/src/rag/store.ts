import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import { retrievedDocuments, type RetrievedDoc, type SpanRow } from './steps.js';

/** The ClickHouse side of the RAG diagnosis (docs/rag.md): what it reads and writes. */

/** A span is a retrieval step in any dialect we accept (see steps.ts stepKind). */
export const RETRIEVAL_SPAN = `(SpanAttributes['gen_ai.operation.name'] = 'retrieval'
  OR SpanAttributes['llmwatch.span.kind'] = 'retrieval'
  OR SpanAttributes['openinference.span.kind'] IN ('RETRIEVER', 'RERANKER')
  OR mapContains(SpanAttributes, 'gen_ai.retrieval.documents'))`;

interface SpanQueryRow {
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  SpanName: string;
  ServiceName: string;
  traceStartMs: number;
  startMs: number;
  durationMs: number;
  StatusCode: string;
  SpanAttributes: Record<string, string>;
}

interface CallQueryRow {
  SpanId: string;
  Model: string;
  CostUsd: number | null;
  InputTokens: number | null;
  OutputTokens: number | null;
  InputContent: string;
  OutputContent: string;
  PromptName: string;
  PromptVersion: string;
}

interface ScoreQueryRow {
  TraceId: string;
  SpanId: string;
  Name: string;
  Value: number;
}

export interface TraceRows {
  traceId: string;
  service: string;
  /** Epoch ms of the trace's first span; span times in `rows` are offsets from it (exact in a double). */
  startMs: number;
  rows: SpanRow[];
}

/**
 * Every stored span of the given traces with their LLM-call data and scores joined in. Scores on
 * the trace as a whole (no span id) are attached to the trace's root span.
 */
export async function loadTraces(
  client: ClickHouseClient,
  project: string,
  traceIds: readonly string[],
): Promise<TraceRows[]> {
  if (traceIds.length === 0) return [];
  const params = { project, traces: traceIds };
  const [spans, calls, scores] = await Promise.all([
    queryRows<SpanQueryRow>(
      client,
      `SELECT TraceId, SpanId, ParentSpanId, SpanName, ServiceName,
         toFloat64(toUnixTimestamp64Milli(min(Timestamp) OVER (PARTITION BY TraceId))) AS traceStartMs,
         (toUnixTimestamp64Nano(Timestamp) - toUnixTimestamp64Nano(min(Timestamp) OVER (PARTITION BY TraceId))) / 1e6 AS startMs,
         Duration / 1e6 AS durationMs,
         StatusCode, SpanAttributes
       FROM otel_traces
       WHERE ProjectId = {project:String} AND TraceId IN {traces:Array(String)}
       ORDER BY TraceId, Timestamp
       LIMIT 1 BY TraceId, SpanId`,
      params,
    ),
    queryRows<CallQueryRow & { TraceId: string }>(
      client,
      `SELECT TraceId, SpanId, Model, CostUsd, InputTokens, OutputTokens, InputContent, OutputContent,
         PromptName, PromptVersion
       FROM llm_calls
       WHERE ProjectId = {project:String} AND TraceId IN {traces:Array(String)}
       LIMIT 1 BY TraceId, SpanId`,
      params,
    ),
    queryRows<ScoreQueryRow>(
      client,
      `SELECT TraceId, SpanId, Name, Value FROM scores
       WHERE ProjectId = {project:String} AND TraceId IN {traces:Array(String)}`,
      params,
    ),
  ]);
  const callBySpan = new Map(calls.map((c) => [`${c.TraceId}/${c.SpanId}`, c]));
  const byTrace = new Map<string, TraceRows>();
  for (const s of spans) {
    let trace = byTrace.get(s.TraceId);
    if (!trace)
      byTrace.set(
        s.TraceId,
        (trace = { traceId: s.TraceId, service: s.ServiceName, startMs: s.traceStartMs, rows: [] }),
      );
    const call = callBySpan.get(`${s.TraceId}/${s.SpanId}`);
    const row: SpanRow = {
      spanId: s.SpanId,
      parentSpanId: s.ParentSpanId,
      name: s.SpanName,
      startMs: s.startMs,
      durationMs: s.durationMs,
      status: s.StatusCode,
      attributes: s.SpanAttributes,
      scores: [],
    };
    if (call)
      row.call = {
        model: call.Model,
        costUsd: call.CostUsd,
        inputTokens: call.InputTokens,
        outputTokens: call.OutputTokens,
        input: call.InputContent,
        output: call.OutputContent,
        promptName: call.PromptName,
        promptVersion: call.PromptVersion,
      };
    trace.rows.push(row);
  }
  for (const score of scores) {
    const trace = byTrace.get(score.TraceId);
    if (!trace) continue;
    const target =
      trace.rows.find((r) => r.spanId === score.SpanId) ??
      (score.SpanId === ''
        ? trace.rows.find((r) => !trace.rows.some((p) => p.spanId === r.parentSpanId))
        : undefined);
    target?.scores.push({ name: score.Name, value: score.Value });
  }
  return traceIds.flatMap((id) => byTrace.get(id) ?? []);
}

/**
 * Documents other traces retrieved (within the range) whose text mentions the question's terms:
 * the candidates that tell a retrieval miss from a knowledge gap. Ranked by how many terms they
 * mention, so the best few come first.
 */
export async function findDocumentsMentioning(
  client: ClickHouseClient,
  project: string,
  terms: readonly string[],
  excludeTraceId: string,
  fromMs: number,
  toMs: number,
  limit = 50,
): Promise<Array<RetrievedDoc & { traceId: string }>> {
  const needles = terms.slice(0, 64);
  if (needles.length === 0) return [];
  const rows = await queryRows<{ TraceId: string; SpanAttributes: Record<string, string> }>(
    client,
    `SELECT TraceId, SpanAttributes,
       arrayStringConcat(mapValues(SpanAttributes), ' ') AS text
     FROM otel_traces
     WHERE ProjectId = {project:String}
       AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
       AND TraceId != {exclude:String}
       AND ${RETRIEVAL_SPAN}
       AND multiSearchAnyCaseInsensitiveUTF8(text, {terms:Array(String)})
     ORDER BY length(arrayFilter(p -> p > 0, multiSearchAllPositionsCaseInsensitiveUTF8(text, {terms:Array(String)}))) DESC
     LIMIT {limit:UInt32}`,
    {
      project,
      terms: needles,
      exclude: excludeTraceId,
      from: Math.floor(fromMs),
      to: Math.ceil(toMs),
      limit,
    },
  );
  const seen = new Set<string>();
  const out: Array<RetrievedDoc & { traceId: string }> = [];
  for (const row of rows) {
    for (const doc of retrievedDocuments(row.SpanAttributes) ?? []) {
      if (doc.content === undefined || seen.has(doc.id)) continue;
      seen.add(doc.id);
      out.push({ ...doc, traceId: row.TraceId });
    }
  }
  return out;
}

/**
 * Traces in the range with a retrieval step and an LLM call that have no diagnosis yet, oldest
 * first: what the diagnosis job works through.
 */
export async function undiagnosedTraces(
  client: ClickHouseClient,
  project: string | undefined,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<Array<{ project: string; traceId: string }>> {
  const rows = await queryRows<{ ProjectId: string; TraceId: string }>(
    client,
    `SELECT ProjectId, TraceId FROM otel_traces
     WHERE ({project:String} = '' OR ProjectId = {project:String})
       AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
       AND ${RETRIEVAL_SPAN}
       AND (ProjectId, TraceId) IN (
         SELECT ProjectId, TraceId FROM llm_calls
         WHERE ({project:String} = '' OR ProjectId = {project:String})
           AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) - INTERVAL 1 HOUR
           AND Timestamp < fromUnixTimestamp64Milli({to:Int64}) + INTERVAL 1 HOUR)
       AND (ProjectId, TraceId) NOT IN (
         SELECT ProjectId, TraceId FROM rag_diagnoses
         WHERE ({project:String} = '' OR ProjectId = {project:String})
           AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) - INTERVAL 1 HOUR
           AND Timestamp < fromUnixTimestamp64Milli({to:Int64}) + INTERVAL 1 HOUR)
     GROUP BY ProjectId, TraceId
     ORDER BY min(Timestamp)
     LIMIT {limit:UInt32}`,
    { project: project ?? '', from: Math.floor(fromMs), to: Math.ceil(toMs), limit },
  );
  return rows.map((r) => ({ project: r.ProjectId, traceId: r.TraceId }));
}

export interface DiagnosisRow {
  ProjectId: string;
  Timestamp: number;
  TraceId: string;
  ServiceName: string;
  Pipeline: string;
  PromptName: string;
  PromptVersion: string;
  Verdict: string;
  Documents: number;
  MaxRelevance: number;
  MeanRelevance: number;
  Groundedness: number | null;
  QuestionTerms: string[];
  Evidence: string;
}

export async function insertDiagnoses(
  client: ClickHouseClient,
  rows: readonly DiagnosisRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.insert({ table: 'rag_diagnoses', values: rows as DiagnosisRow[], format: 'JSONEachRow' });
}

export interface VerdictRateRow {
  bucket: string;
  pipeline: string;
  promptName: string;
  traces: number;
  ok: number;
  knowledgeGap: number;
  retrievalMiss: number;
  ungrounded: number;
  refusal: number;
  meanMaxRelevance: number;
  meanRelevance: number;
  emptyRetrievals: number;
}

const COUNTS = [
  'traces',
  'ok',
  'knowledgeGap',
  'retrievalMiss',
  'ungrounded',
  'refusal',
  'emptyRetrievals',
] as const;

/** The rows of `verdictRates` summed over time: one per pipeline and prompt, most answers first. */
export function verdictTotals(rows: readonly VerdictRateRow[]): VerdictRateRow[] {
  const byKey = new Map<string, VerdictRateRow>();
  for (const r of rows) {
    const key = `${r.pipeline}\t${r.promptName}`;
    const acc = byKey.get(key);
    if (!acc) {
      byKey.set(key, { ...r, bucket: '' });
      continue;
    }
    // Relevance means weighted by answers, before the counts grow.
    const n = acc.traces + r.traces;
    acc.meanMaxRelevance = (acc.meanMaxRelevance * acc.traces + r.meanMaxRelevance * r.traces) / n;
    acc.meanRelevance = (acc.meanRelevance * acc.traces + r.meanRelevance * r.traces) / n;
    for (const k of COUNTS) acc[k] += r[k];
  }
  return [...byKey.values()].sort((a, b) => b.traces - a.traces);
}

/** Verdict counts and retrieval quality per time bucket, pipeline and prompt. */
export async function verdictRates(
  client: ClickHouseClient,
  project: string,
  fromMs: number,
  toMs: number,
  bucketMinutes: number,
): Promise<VerdictRateRow[]> {
  return queryRows<VerdictRateRow>(
    client,
    `SELECT formatDateTime(toStartOfInterval(Timestamp, INTERVAL {bucket:UInt32} MINUTE), '%FT%TZ', 'UTC') AS bucket,
       Pipeline AS pipeline, PromptName AS promptName,
       toUInt32(count()) AS traces,
       toUInt32(countIf(Verdict = 'ok')) AS ok,
       toUInt32(countIf(Verdict = 'knowledge_gap')) AS knowledgeGap,
       toUInt32(countIf(Verdict = 'retrieval_miss')) AS retrievalMiss,
       toUInt32(countIf(Verdict = 'ungrounded')) AS ungrounded,
       toUInt32(countIf(Verdict = 'refusal')) AS refusal,
       round(avg(MaxRelevance), 4) AS meanMaxRelevance,
       round(avg(MeanRelevance), 4) AS meanRelevance,
       toUInt32(countIf(Documents = 0)) AS emptyRetrievals
     FROM rag_diagnoses FINAL
     WHERE ProjectId = {project:String}
       AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
     GROUP BY bucket, pipeline, promptName
     ORDER BY bucket, pipeline, promptName`,
    { project, from: Math.floor(fromMs), to: Math.ceil(toMs), bucket: bucketMinutes },
  );
}
