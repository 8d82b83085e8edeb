import { isRefusal } from '@llmwatch/core';
import { messageText } from '../enrich/features.js';
import { contentTerms, coverage, groundedness } from './text.js';
import { walk, type RetrievedDoc, type SpanRow, type Step } from './steps.js';

/**
 * Why a RAG answer went wrong (docs/rag.md), from the trace alone plus the documents other
 * traces retrieved:
 * - knowledge_gap: nothing relevant was retrieved here, and nothing stored elsewhere covers it;
 * - retrieval_miss: nothing relevant here, but documents retrieved for other questions cover it;
 * - refusal: relevant context was retrieved, yet the model declined;
 * - ungrounded: relevant context was retrieved, but the answer says things it does not support;
 * - ok.
 */
export const RAG_VERDICTS = ['ok', 'knowledge_gap', 'retrieval_miss', 'ungrounded', 'refusal'] as const;
export type RagVerdict = (typeof RAG_VERDICTS)[number];

export interface RagThresholds {
  /** A document is relevant when it holds at least this share of the question's terms. @default 0.5 */
  relevance: number;
  /** Without document text, a retriever score at least this high counts as relevant. @default 0.5 */
  retrieverScore: number;
  /** An answer is grounded when at least this share of its new terms is in the context. @default 0.6 */
  groundedness: number;
}

export const DEFAULT_RAG_THRESHOLDS: RagThresholds = {
  relevance: 0.5,
  retrieverScore: 0.5,
  groundedness: 0.6,
};

/** What the verdict rests on: the question, the answer and the retrieved context. */
export interface RagInputs {
  question: string;
  answer: string;
  documents: RetrievedDoc[];
  /** Trace had at least one retrieval step and one LLM step: the only traces with a verdict. */
  isRag: boolean;
}

export interface RagEvidence {
  questionTerms: string[];
  documents: number;
  documentsWithText: number;
  /** Best and mean share of the question's terms found in one retrieved document. */
  maxRelevance: number;
  meanRelevance: number;
  /** Best retriever score, when the retriever sent scores. */
  maxRetrieverScore?: number;
  groundedness?: number;
  /** Answer terms not found in the context (first 12). */
  unsupportedTerms?: string[];
  /** Documents found in other traces that cover the question (retrieval miss). */
  coveredElsewhere?: Array<{ id: string; relevance: number; traceId?: string }>;
  refusal: boolean;
  reason: string;
}

export interface Verdict {
  verdict: RagVerdict;
  evidence: RagEvidence;
}

/** Collects question, answer and documents from a step tree (the spans' own data). */
export function ragInputs(root: Step, rows: readonly SpanRow[]): RagInputs {
  const calls = new Map(rows.filter((r) => r.call).map((r) => [r.spanId, r.call!]));
  const steps = [...walk(root)];
  const retrievals = steps.filter((s) => s.kind === 'retrieval');
  const llms = steps.filter((s) => s.kind === 'llm').sort((a, b) => a.endMs - b.endMs);
  const documents = retrievals.flatMap((s) => s.documents ?? []);
  const answerCall = llms.length ? calls.get(llms[llms.length - 1]!.spanId) : undefined;
  const query = retrievals.find((s) => s.query)?.query;
  const question = query ?? lastUserText(answerCall?.input ?? '');
  return {
    question,
    answer: messageText(answerCall?.output ?? ''),
    documents,
    isRag: retrievals.length > 0 && llms.length > 0,
  };
}

/** The last user message of a GenAI messages JSON input (the question the answer answers). */
function lastUserText(input: string): string {
  try {
    const parsed: unknown = JSON.parse(input);
    if (Array.isArray(parsed)) {
      for (let i = parsed.length - 1; i >= 0; i--) {
        const m = parsed[i] as { role?: unknown } | null;
        if (m && m.role === 'user') return messageText(JSON.stringify([m]));
      }
    }
  } catch {
    // Plain text input.
  }
  return messageText(input);
}

/** Relevance of each retrieved document to the question (text when sent, else the retriever's score). */
export function relevanceOf(question: ReadonlySet<string>, docs: readonly RetrievedDoc[]): number[] {
  return docs.map((d) =>
    d.content !== undefined ? coverage(question, contentTerms(d.content)) : Number.NaN,
  );
}

/**
 * Classifies one RAG answer. `elsewhere` is what other traces retrieved that may cover this
 * question (asked for only when nothing relevant was retrieved here).
 */
export function classify(
  inputs: RagInputs,
  thresholds: RagThresholds,
  elsewhere: ReadonlyArray<RetrievedDoc & { traceId?: string }> = [],
): Verdict {
  const q = contentTerms(inputs.question);
  const relevances = relevanceOf(q, inputs.documents);
  const withText = relevances.filter((r) => !Number.isNaN(r));
  const scores = inputs.documents.map((d) => d.score).filter((s): s is number => typeof s === 'number');
  const maxRelevance = withText.length ? Math.max(...withText) : 0;
  const meanRelevance = withText.length ? withText.reduce((a, b) => a + b, 0) / withText.length : 0;
  const refusal = isRefusal(inputs.answer);
  const evidence: RagEvidence = {
    questionTerms: [...q].slice(0, 24),
    documents: inputs.documents.length,
    documentsWithText: withText.length,
    maxRelevance,
    meanRelevance,
    refusal,
    reason: '',
  };
  if (scores.length) evidence.maxRetrieverScore = Math.max(...scores);
  const relevantHere = withText.length
    ? maxRelevance >= thresholds.relevance
    : scores.length > 0 && Math.max(...scores) >= thresholds.retrieverScore;

  if (!relevantHere) {
    const covering = elsewhere
      .map((d) => ({ id: d.id, traceId: d.traceId, relevance: coverage(q, contentTerms(d.content ?? '')) }))
      .filter((d) => d.relevance >= thresholds.relevance && !inputs.documents.some((own) => own.id === d.id))
      .sort((a, b) => b.relevance - a.relevance)
      .slice(0, 5)
      .map((d) => (d.traceId ? d : { id: d.id, relevance: d.relevance }));
    if (covering.length) {
      evidence.coveredElsewhere = covering;
      evidence.reason = `none of the ${inputs.documents.length} documents retrieved here covers the question (best ${pctText(maxRelevance)} of its terms), but ${covering.length} document(s) retrieved for other questions do (best ${pctText(covering[0]!.relevance)})`;
      return { verdict: 'retrieval_miss', evidence };
    }
    evidence.reason =
      inputs.documents.length === 0
        ? 'the retrieval returned no documents, and no stored document covers the question'
        : `the ${inputs.documents.length} retrieved documents cover at most ${pctText(maxRelevance)} of the question's terms, and no stored document covers it`;
    return { verdict: 'knowledge_gap', evidence };
  }
  if (refusal) {
    evidence.reason = 'relevant context was retrieved, but the model declined to answer';
    return { verdict: 'refusal', evidence };
  }
  const contextTerms = new Set<string>();
  for (const d of inputs.documents)
    if (d.content) for (const t of contentTerms(d.content)) contextTerms.add(t);
  if (contextTerms.size > 0) {
    const g = groundedness(contentTerms(inputs.answer), q, contextTerms);
    evidence.groundedness = g.score;
    evidence.unsupportedTerms = g.unsupported.slice(0, 12);
    if (g.score < thresholds.groundedness) {
      evidence.reason = `only ${pctText(g.score)} of what the answer adds is found in the retrieved context`;
      return { verdict: 'ungrounded', evidence };
    }
  }
  evidence.reason = 'relevant context was retrieved and the answer is supported by it';
  return { verdict: 'ok', evidence };
}

function pctText(x: number): string {
  return `${Math.round(x * 100)}%`;
}
