export { GENAI, LEGACY_GENAI, GENERAL, LLMWATCH, GENAI_OPERATION, GENAI_PROVIDER } from './semconv.js';
export type { GenAiOperation } from './semconv.js';
export type {
  LlmCall,
  CallStatus,
  Dialect,
  ContentPlace,
  GenAiMessage,
  GenAiMessagePart,
} from './llm-call.js';
export { CALL_CONTENT_ATTRIBUTES, contentHeldByCall, withCallContent } from './llm-call.js';
export type {
  AttributeValue,
  Attributes,
  SpanKindName,
  SpanStatusName,
  DecodedSpan,
  DecodedSpanEvent,
  DecodedSpanLink,
} from './span.js';
export {
  PRICE_VERSION,
  PRICES,
  canonicalModelId,
  priceCall,
  costOf,
  findPrice,
  gpuRateFor,
  gpuTimeCost,
  priceOverridesSchema,
  modelPriceSchema,
  gpuRateSchema,
} from './pricing/index.js';
export type {
  ModelPrice,
  PriceEntry,
  PriceUsage,
  PriceResult,
  PriceOverrides,
  ModelPriceOverride,
  GpuRate,
} from './pricing/index.js';
export { scanText, redactText, PII_TYPES } from './pii/index.js';
export type { PiiType, PiiFinding, PiiScanOptions } from './pii/index.js';
export {
  normalizeSpan,
  contentFromEvents,
  PROVIDER_ALIASES,
  FINISH_REASON_ALIASES,
  type EventContent,
  MODEL_SNAPSHOT_SUFFIX,
  PROVIDER_IDENTITIES,
  modelFamily,
  providerOfHost,
  providerOfModel,
  selfHostedProvider,
  SELF_HOSTED_DEFAULT_PORTS,
  type ProviderIdentity,
  type SelfHostedServer,
} from './normalize/index.js';
export type { AttributeAliases } from './normalize/index.js';
export { seededRandom } from './random.js';
export { isRefusal } from './refusal.js';
export { STOPWORDS_BY_LANGUAGE, stopwords } from './stopwords.js';
