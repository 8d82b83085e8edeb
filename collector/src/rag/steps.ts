/**
 * A trace as a tree of steps (docs/rag.md): what each span did (retrieval, LLM, tool, embedding,
 * chain), when, what it cost and whether it failed, built from the stored spans of every emitter
 * we accept. Pure: the rows come from rag/store.ts.
 */

export type StepKind = 'retrieval' | 'llm' | 'tool' | 'embedding' | 'chain';

export interface RetrievedDoc {
  id: string;
  score?: number;
  content?: string;
}

/** One stored span of the trace, with its LLM-call and score data joined in. */
export interface SpanRow {
  spanId: string;
  parentSpanId: string;
  name: string;
  /** From the trace's first span, ms. */
  startMs: number;
  durationMs: number;
  status: string;
  attributes: Record<string, string>;
  /** Present when the span is an LLM call stored in llm_calls. */
  call?: {
    model: string;
    costUsd: number | null;
    inputTokens: number | null;
    outputTokens: number | null;
    input: string;
    output: string;
    promptName: string;
    promptVersion: string;
  };
  scores: Array<{ name: string; value: number }>;
}

export interface Step {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: StepKind;
  startMs: number;
  endMs: number;
  durationMs: number;
  error: boolean;
  costUsd: number;
  /** Time this step alone keeps the trace waiting (its part of the critical path), ms. */
  criticalMs: number;
  /** criticalMs over the root's duration. */
  criticalShare: number;
  /** Its LLM cost over the trace's. */
  costShare: number;
  scores: Array<{ name: string; value: number }>;
  model?: string;
  documents?: RetrievedDoc[];
  query?: string;
  children: Step[];
}

const RETRIEVAL_KINDS = new Set(['RETRIEVER', 'RERANKER']);

/** The kind of a span from every dialect's markers: llmwatch, GenAI semconv, OpenInference, OpenLLMetry. */
export function stepKind(row: SpanRow): StepKind {
  const a = row.attributes;
  const op = a['gen_ai.operation.name'] ?? '';
  const oi = a['openinference.span.kind'] ?? '';
  const own = a['llmwatch.span.kind'] ?? '';
  const traceloop = a['traceloop.span.kind'] ?? '';
  if (op === 'retrieval' || own === 'retrieval' || RETRIEVAL_KINDS.has(oi)) return 'retrieval';
  if (a['gen_ai.retrieval.documents'] !== undefined || a['retrieval.documents.0.document.id'] !== undefined)
    return 'retrieval';
  if (op === 'embeddings' || own === 'embedding' || oi === 'EMBEDDING') return 'embedding';
  if (row.call) return 'llm';
  if (op === 'execute_tool' || own === 'tool' || oi === 'TOOL' || traceloop === 'tool') return 'tool';
  return 'chain';
}

/** Retrieved documents from the llmwatch SDK / GenAI JSON form or OpenInference's flattened form. */
export function retrievedDocuments(attributes: Record<string, string>): RetrievedDoc[] | undefined {
  const json = attributes['gen_ai.retrieval.documents'];
  if (json !== undefined) {
    try {
      const parsed: unknown = JSON.parse(json);
      if (Array.isArray(parsed))
        return parsed.flatMap((d: unknown) => {
          if (!d || typeof d !== 'object') return [];
          const o = d as Record<string, unknown>;
          const doc: RetrievedDoc = { id: String(o.id ?? '') };
          if (typeof o.score === 'number') doc.score = o.score;
          if (typeof o.content === 'string') doc.content = o.content;
          return [doc];
        });
    } catch {
      // Not JSON: fall through to the flattened form.
    }
  }
  const docs: RetrievedDoc[] = [];
  for (let i = 0; ; i++) {
    const prefix = `retrieval.documents.${i}.document.`;
    const id = attributes[`${prefix}id`];
    const content = attributes[`${prefix}content`];
    if (id === undefined && content === undefined) break;
    const doc: RetrievedDoc = { id: id ?? String(i) };
    const score = Number(attributes[`${prefix}score`]);
    if (attributes[`${prefix}score`] !== undefined && Number.isFinite(score)) doc.score = score;
    if (content !== undefined) doc.content = content;
    docs.push(doc);
  }
  return docs.length || json !== undefined ? docs : undefined;
}

/** The query a retrieval step searched for. */
export function retrievalQuery(attributes: Record<string, string>): string | undefined {
  return attributes['gen_ai.retrieval.query.text'] ?? attributes['input.value'];
}

/**
 * Builds the step tree of one trace. Spans whose parent is missing (not stored, or from another
 * service) hang under a synthetic root so nothing is lost; a trace with one root keeps it.
 */
export function buildSteps(rows: readonly SpanRow[]): Step | undefined {
  if (rows.length === 0) return undefined;
  const steps = new Map<string, Step>();
  for (const row of rows) {
    const kind = stepKind(row);
    const step: Step = {
      spanId: row.spanId,
      parentSpanId: row.parentSpanId,
      name: row.name,
      kind,
      startMs: row.startMs,
      endMs: row.startMs + row.durationMs,
      durationMs: row.durationMs,
      error: row.status === 'Error' || row.status === 'STATUS_CODE_ERROR',
      costUsd: row.call?.costUsd ?? 0,
      criticalMs: 0,
      criticalShare: 0,
      costShare: 0,
      scores: row.scores,
      children: [],
    };
    if (row.call) step.model = row.call.model;
    if (kind === 'retrieval') {
      const docs = retrievedDocuments(row.attributes);
      if (docs) step.documents = docs;
      const query = retrievalQuery(row.attributes);
      if (query !== undefined) step.query = query;
    }
    steps.set(row.spanId, step);
  }
  const roots: Step[] = [];
  for (const step of steps.values()) {
    const parent = step.parentSpanId ? steps.get(step.parentSpanId) : undefined;
    if (parent && parent !== step) parent.children.push(step);
    else roots.push(step);
  }
  for (const step of steps.values()) step.children.sort((a, b) => a.startMs - b.startMs);
  let root: Step;
  if (roots.length === 1) root = roots[0] as Step;
  else {
    roots.sort((a, b) => a.startMs - b.startMs);
    const startMs = Math.min(...roots.map((r) => r.startMs));
    const endMs = Math.max(...roots.map((r) => r.endMs));
    root = {
      spanId: '',
      parentSpanId: '',
      name: '(trace)',
      kind: 'chain',
      startMs,
      endMs,
      durationMs: endMs - startMs,
      error: false,
      costUsd: 0,
      criticalMs: 0,
      criticalShare: 0,
      costShare: 0,
      scores: [],
      children: roots,
    };
  }
  const totalCost = sumCost(root);
  assignCriticalPath(root, root.endMs);
  const total = root.durationMs > 0 ? root.durationMs : 1;
  for (const step of walk(root)) {
    step.criticalShare = step.criticalMs / total;
    step.costShare = totalCost > 0 ? step.costUsd / totalCost : 0;
  }
  return root;
}

export function* walk(step: Step): Generator<Step> {
  yield step;
  for (const child of step.children) yield* walk(child);
}

function sumCost(step: Step): number {
  let total = step.costUsd;
  for (const child of step.children) total += sumCost(child);
  return total;
}

/**
 * The critical path (what the end of the trace waited for): walking back from the step's end,
 * the last-finishing child is on it, then the last child that finished before that one started,
 * and so on; the gaps between them are the step's own time. Each step gets the milliseconds it
 * contributes; they add up to the root's duration.
 */
function assignCriticalPath(step: Step, capEndMs: number, floorMs = step.startMs): void {
  // A child may start or end a hair outside its parent (clocks, rounding): it is clipped to it.
  const start = Math.max(step.startMs, floorMs);
  let cursor = Math.min(step.endMs, capEndMs);
  const byEnd = [...step.children].sort((a, b) => b.endMs - a.endMs);
  for (const child of byEnd) {
    if (child.startMs >= cursor) continue;
    const childEnd = Math.min(child.endMs, cursor);
    step.criticalMs += cursor - childEnd;
    assignCriticalPath(child, childEnd, start);
    cursor = Math.max(child.startMs, start);
  }
  step.criticalMs += Math.max(0, cursor - start);
}
