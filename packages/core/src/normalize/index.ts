export { normalizeSpan } from './normalize.js';
export { contentFromEvents, type EventContent } from './events.js';
export {
  MODEL_SNAPSHOT_SUFFIX,
  PROVIDER_IDENTITIES,
  modelFamily,
  providerOfHost,
  providerOfModel,
  selfHostedProvider,
  SELF_HOSTED_DEFAULT_PORTS,
  type ProviderIdentity,
  type SelfHostedServer,
} from './providers.js';
export type { AttributeAliases } from './aliases.js';
export {
  GENAI_TABLE,
  GENAI_LEGACY_TABLE,
  LLMWATCH_TABLE,
  OPENLLMETRY_TABLE,
  OPENINFERENCE_TABLE,
  OPENLIT_TABLE,
  LANGFUSE_TABLE,
  PROVIDER_ALIASES,
  FINISH_REASON_ALIASES,
} from './tables.js';
