import { GENAI, GENAI_OPERATION, LLMWATCH } from '@llmwatch/core';
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { captureText } from './content.js';
import { scopeAttributes } from './context.js';
import { recordError } from './instrument.js';
import { ensureContextManager, runtime, warnOnce } from './runtime.js';
import type { ObserveOptions, RetrievedDocument, StepHandle, StepKind } from './types.js';

const OPERATION: Partial<Record<StepKind, string>> = {
  agent: GENAI_OPERATION.invokeAgent,
  tool: GENAI_OPERATION.executeTool,
  retrieval: GENAI_OPERATION.retrieval,
  embedding: GENAI_OPERATION.embeddings,
};

class Step implements StepHandle {
  constructor(private readonly span: Span) {}
  setAttributes(attributes: Attributes): void {
    try {
      this.span.setAttributes(attributes);
    } catch (e) {
      warnOnce('observe attributes', e);
    }
  }
  recordDocuments(documents: readonly RetrievedDocument[]): void {
    try {
      const docs = documents.map((d) => {
        const doc: { id: string; score?: number; content?: string } = { id: String(d.id) };
        if (d.score !== undefined) doc.score = d.score;
        const content = typeof d.content === 'string' ? captureText(d.content) : undefined;
        if (content !== undefined) doc.content = content;
        return doc;
      });
      this.span.setAttribute(GENAI.retrievalDocuments, JSON.stringify(docs));
    } catch (e) {
      warnOnce('retrieval documents', e);
    }
  }
  recordQuery(text: string): void {
    try {
      const captured = captureText(text);
      if (captured !== undefined) this.span.setAttribute(GENAI.retrievalQueryText, captured);
    } catch (e) {
      warnOnce('retrieval query', e);
    }
  }
}

function fail(span: Span, error: unknown): void {
  recordError(span, error);
  span.end();
}

/**
 * Runs `fn` as a traced step (chain, agent, tool, retrieval, ...). The step's span is the active
 * span inside `fn`, so LLM calls and nested steps become its children. Works for sync and async
 * functions; errors are recorded and rethrown unchanged; the return value (and a returned
 * promise's identity) is untouched.
 */
export function observe<T>(name: string, fn: (step: StepHandle) => T, options: ObserveOptions = {}): T {
  let span: Span | undefined;
  try {
    ensureContextManager();
    const kind = options.kind ?? 'task';
    const attrs: Attributes = { [LLMWATCH.spanKind]: kind };
    const op = OPERATION[kind];
    if (op) attrs[GENAI.operationName] = op;
    if (kind === 'tool') attrs[GENAI.toolName] = name;
    if (kind === 'agent') attrs[GENAI.agentName] = name;
    const scope = scopeAttributes();
    if (scope) Object.assign(attrs, scope);
    if (options.attributes) Object.assign(attrs, options.attributes);
    span = runtime.tracer.startSpan(op ? `${op} ${name}` : name, {
      kind: SpanKind.INTERNAL,
      attributes: attrs,
    });
  } catch (e) {
    warnOnce('observe start', e);
  }
  if (!span) return fn(noopStep);
  const s = span;
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), s), fn, undefined, new Step(s));
  } catch (error) {
    fail(s, error);
    throw error;
  }
  if (result && typeof (result as unknown as PromiseLike<unknown>).then === 'function') {
    (result as unknown as PromiseLike<unknown>).then(
      () => s.end(),
      (error: unknown) => fail(s, error),
    );
  } else {
    s.end();
  }
  return result;
}

const noopStep: StepHandle = { setAttributes() {}, recordDocuments() {}, recordQuery() {} };
