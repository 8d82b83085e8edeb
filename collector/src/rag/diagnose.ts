import type { ClickHouseClient } from '@clickhouse/client';
import { contentTerms } from './text.js';
import { buildSteps, walk, type Step, type StepKind } from './steps.js';
import { classify, ragInputs, type RagThresholds, type RagVerdict, type Verdict } from './verdict.js';
import {
  findDocumentsMentioning,
  insertDiagnoses,
  loadTraces,
  undiagnosedTraces,
  type DiagnosisRow,
  type TraceRows,
} from './store.js';

/** A trace's diagnosis (docs/rag.md): its steps, their shares of time and cost, and a RAG verdict. */
export interface TraceDiagnosis {
  traceId: string;
  service: string;
  /** Root span name, or the workflow name an emitter set on it. */
  pipeline: string;
  startTime: string;
  durationMs: number;
  costUsd: number;
  errors: number;
  steps: DiagnosisStep[];
  rag?: Verdict & { question: string; answer: string };
}

export interface DiagnosisStep {
  spanId: string;
  parentSpanId: string;
  depth: number;
  name: string;
  kind: StepKind;
  /** From the trace's start, ms. */
  offsetMs: number;
  durationMs: number;
  /** Share of the trace's critical path this step is responsible for (0–1). */
  criticalShare: number;
  costUsd: number;
  costShare: number;
  error: boolean;
  model?: string;
  scores: Array<{ name: string; value: number }>;
  documents?: number;
}

export interface DiagnoseOptions {
  thresholds: RagThresholds;
  /** How far back to look for documents that cover a question (retrieval miss vs gap). @default 7 days */
  lookbackMs?: number;
}

const DEFAULT_LOOKBACK_MS = 7 * 86_400_000;
const MAX_TEXT = 2_000;

function pipelineOf(root: Step, trace: TraceRows): string {
  const rootRow = trace.rows.find((r) => r.spanId === root.spanId);
  const a = rootRow?.attributes ?? {};
  return a['gen_ai.workflow.name'] ?? a['traceloop.workflow.name'] ?? root.name;
}

async function diagnoseRows(
  client: ClickHouseClient,
  project: string,
  trace: TraceRows,
  options: DiagnoseOptions,
): Promise<TraceDiagnosis | undefined> {
  const root = buildSteps(trace.rows);
  if (!root) return undefined;
  const steps: DiagnosisStep[] = [];
  const visit = (step: Step, depth: number): void => {
    const out: DiagnosisStep = {
      spanId: step.spanId,
      parentSpanId: step.parentSpanId,
      depth,
      name: step.name,
      kind: step.kind,
      offsetMs: step.startMs - root.startMs,
      durationMs: step.durationMs,
      criticalShare: step.criticalShare,
      costUsd: step.costUsd,
      costShare: step.costShare,
      error: step.error,
      scores: step.scores,
    };
    if (step.model) out.model = step.model;
    if (step.documents) out.documents = step.documents.length;
    steps.push(out);
    for (const child of step.children) visit(child, depth + 1);
  };
  visit(root, 0);
  const all = [...walk(root)];
  const diagnosis: TraceDiagnosis = {
    traceId: trace.traceId,
    service: trace.service,
    pipeline: pipelineOf(root, trace),
    startTime: new Date(trace.startMs + root.startMs).toISOString(),
    durationMs: root.durationMs,
    costUsd: all.reduce((sum, s) => sum + s.costUsd, 0),
    errors: all.filter((s) => s.error).length,
    steps,
  };
  const inputs = ragInputs(root, trace.rows);
  if (!inputs.isRag) return diagnosis;
  let verdict = classify(inputs, options.thresholds);
  if (verdict.verdict === 'knowledge_gap' && verdict.evidence.questionTerms.length > 0) {
    const lookback = options.lookbackMs ?? DEFAULT_LOOKBACK_MS;
    const elsewhere = await findDocumentsMentioning(
      client,
      project,
      [...contentTerms(inputs.question)],
      trace.traceId,
      trace.startMs - lookback,
      trace.startMs + lookback,
    );
    if (elsewhere.length) verdict = classify(inputs, options.thresholds, elsewhere);
  }
  diagnosis.rag = {
    ...verdict,
    question: inputs.question.slice(0, MAX_TEXT),
    answer: inputs.answer.slice(0, MAX_TEXT),
  };
  return diagnosis;
}

/** Diagnoses one stored trace; undefined when the project has no such trace. */
export async function diagnoseTrace(
  client: ClickHouseClient,
  project: string,
  traceId: string,
  options: DiagnoseOptions,
): Promise<TraceDiagnosis | undefined> {
  const [trace] = await loadTraces(client, project, [traceId]);
  return trace ? diagnoseRows(client, project, trace, options) : undefined;
}

function diagnosisRow(project: string, d: TraceDiagnosis, trace: TraceRows): DiagnosisRow | undefined {
  if (!d.rag) return undefined;
  const answerCall = [...trace.rows].reverse().find((r) => r.call)?.call;
  return {
    ProjectId: project,
    Timestamp: Date.parse(d.startTime),
    TraceId: d.traceId,
    ServiceName: d.service,
    Pipeline: d.pipeline,
    PromptName: answerCall?.promptName ?? '',
    PromptVersion: answerCall?.promptVersion ?? '',
    Verdict: d.rag.verdict,
    Documents: d.rag.evidence.documents,
    MaxRelevance: d.rag.evidence.maxRelevance,
    MeanRelevance: d.rag.evidence.meanRelevance,
    Groundedness: d.rag.evidence.groundedness ?? null,
    QuestionTerms: d.rag.evidence.questionTerms,
    Evidence: JSON.stringify(d.rag.evidence),
  };
}

export interface DiagnoseRangeResult {
  diagnosed: number;
  verdicts: Record<RagVerdict, number>;
  /** More undiagnosed traces remain in the range (the limit was reached). */
  more: boolean;
}

/**
 * Diagnoses every RAG trace of the range that has no stored diagnosis yet (at most `limit`),
 * in batches, and stores the verdicts: the job behind the aggregates and the knowledge-gap
 * detector, also run as a backfill by `llmwatch rag diagnose`.
 */
export async function diagnoseRange(
  client: ClickHouseClient,
  request: { project?: string; fromMs: number; toMs: number; limit?: number },
  options: DiagnoseOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<DiagnoseRangeResult> {
  const limit = request.limit ?? 20_000;
  const pending = await undiagnosedTraces(client, request.project, request.fromMs, request.toMs, limit);
  const verdicts: Record<RagVerdict, number> = {
    ok: 0,
    knowledge_gap: 0,
    retrieval_miss: 0,
    ungrounded: 0,
    refusal: 0,
  };
  let diagnosed = 0;
  const BATCH = 200;
  for (let i = 0; i < pending.length; i += BATCH) {
    const batch = pending.slice(i, i + BATCH);
    const byProject = new Map<string, string[]>();
    for (const p of batch) byProject.set(p.project, [...(byProject.get(p.project) ?? []), p.traceId]);
    const rows: DiagnosisRow[] = [];
    for (const [project, traceIds] of byProject) {
      for (const trace of await loadTraces(client, project, traceIds)) {
        const d = await diagnoseRows(client, project, trace, options);
        const row = d && diagnosisRow(project, d, trace);
        if (!row || !d.rag) continue;
        rows.push(row);
        verdicts[d.rag.verdict]++;
      }
    }
    await insertDiagnoses(client, rows);
    diagnosed += rows.length;
    onProgress?.(Math.min(i + BATCH, pending.length), pending.length);
  }
  return { diagnosed, verdicts, more: pending.length === limit };
}
