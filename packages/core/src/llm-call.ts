import { GENAI } from './semconv.js';

/**
 * The normalized LLM call: one per LLM span, whatever instrumentation produced it.
 * The collector builds it from span attributes (see normalize/), enriches it (cost, PII,
 * drift features) and stores it as one `llm_calls` row. Field names map 1:1 to columns
 * (camelCase here, PascalCase in ClickHouse).
 */
export type CallStatus = 'ok' | 'error' | 'unset';

/** Which instrumentation dialect the span was recognised as. */
export type Dialect = 'llmwatch' | 'genai' | 'genai_legacy' | 'openllmetry' | 'openinference' | 'openlit';

/** Where in a call a piece of content (or a PII finding) sits. */
export type ContentPlace = 'input' | 'output' | 'system' | 'tool';

export interface LlmCall {
  projectId: string;
  /** Span start, epoch nanoseconds as a decimal string (event time, exact). */
  startTimeUnixNano: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  serviceName: string;
  dialect: Dialect;

  provider: string;
  operation: string;
  requestModel: string;
  responseModel: string;
  /** Response model when known, else request model: the model that is priced and grouped by. */
  model: string;
  responseId: string;

  /** 0 when the emitter reported no usage: read with `usageReported`. */
  inputTokens: number;
  outputTokens: number;
  /**
   * Whether the emitter reported token usage at all (a stream without a usage chunk does not).
   * When false the token counts are unknown, not zero: the API answers null for them and the
   * call is left unpriced (costUsd null).
   */
  usageReported: boolean;
  /** Subset of inputTokens served from the provider cache. */
  cacheReadTokens: number;
  /** Subset of inputTokens written to the provider cache. */
  cacheWriteTokens: number;
  /** Subset of outputTokens spent on reasoning. */
  reasoningTokens: number;

  /** Null when the model has no known price: never priced at 0. */
  costUsd: number | null;
  priceVersion: string;

  latencyMs: number;
  /** Time to first token/chunk; null for non-streaming calls or when unknown. */
  ttftMs: number | null;
  streaming: boolean;
  finishReasons: string[];

  status: CallStatus;
  /** Low-cardinality error class (`error.type`), '' when none. */
  errorType: string;

  promptName: string;
  promptVersion: string;
  userId: string;
  sessionId: string;
  conversationId: string;
  tags: Record<string, string>;

  /** Input messages as JSON (GenAI `gen_ai.input.messages` shape), after the content policy. */
  inputContent: string;
  /** Output messages as JSON (GenAI `gen_ai.output.messages` shape), after the content policy. */
  outputContent: string;
  systemContent: string;
  toolNames: string[];

  /** Optional app-supplied embeddings for semantic drift. */
  inputEmbedding: number[];
  outputEmbedding: number[];
}

/** Message shape of `gen_ai.input.messages` / `gen_ai.output.messages` (GenAI semconv). */
export interface GenAiMessagePart {
  type: 'text' | 'tool_call' | 'tool_call_response' | 'reasoning' | 'blob' | 'uri' | string;
  content?: string;
  id?: string;
  name?: string;
  arguments?: unknown;
  response?: unknown;
  [key: string]: unknown;
}
export interface GenAiMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  parts: GenAiMessagePart[];
  name?: string;
  finish_reason?: string;
}

type ContentField = 'inputContent' | 'outputContent' | 'systemContent';

/**
 * The GenAI span attributes whose messages an LLM call holds (canonical form, after the content
 * policy). The call row stores them; the span row keeps every other attribute. Wherever a span's
 * attributes are shown (trace views), these are shown from the call.
 */
export const CALL_CONTENT_ATTRIBUTES: ReadonlyArray<readonly [field: ContentField, attribute: string]> = [
  ['inputContent', GENAI.inputMessages],
  ['outputContent', GENAI.outputMessages],
  ['systemContent', GENAI.systemInstructions],
];

/** The attributes of `attributes` that `call` holds the content of: what the span row need not repeat. */
export function contentHeldByCall(
  call: Pick<LlmCall, ContentField>,
  attributes: Readonly<Record<string, unknown>>,
): string[] {
  const out: string[] = [];
  for (const [field, attribute] of CALL_CONTENT_ATTRIBUTES)
    if (call[field] !== '' && attributes[attribute] !== undefined) out.push(attribute);
  return out;
}

/** A span's attributes with the content its call holds put back (attributes already there win). */
export function withCallContent(
  attributes: Readonly<Record<string, string>>,
  call: Pick<LlmCall, ContentField>,
): Record<string, string> {
  const out: Record<string, string> = { ...attributes };
  for (const [field, attribute] of CALL_CONTENT_ATTRIBUTES)
    if (call[field] !== '' && out[attribute] === undefined) out[attribute] = call[field];
  return out;
}
