export { GENAI, LEGACY_GENAI, GENERAL, LLMWATCH, GENAI_OPERATION, GENAI_PROVIDER } from './semconv.js';
export type { GenAiOperation } from './semconv.js';
export type { LlmCall, CallStatus, Dialect, ContentPlace, GenAiMessage, GenAiMessagePart } from './llm-call.js';
export type {
  AttributeValue,
  Attributes,
  SpanKindName,
  SpanStatusName,
  DecodedSpan,
  DecodedSpanEvent,
  DecodedSpanLink,
} from './span.js';
