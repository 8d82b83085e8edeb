/**
 * Provider and model identity: the one table that says which provider a call went to when the
 * instrumentation did not name it in a provider attribute (`gen_ai.provider.name`, `llm.provider`,
 * `gen_ai.system`, LangChain's `metadata.ls_provider`, read through PROVIDER_ALIASES first).
 * Hints, in order of trust: the API host the client called (`server.address`), then the model
 * family. Values are current `gen_ai.provider.name` values.
 */
export interface ProviderIdentity {
  provider: string;
  /** Host names or suffixes (a leading '.' matches any subdomain). */
  hosts: readonly string[];
  /** Model-id prefixes (lower case) that only this provider serves under its own name. */
  modelPrefixes: readonly string[];
}

export const PROVIDER_IDENTITIES: readonly ProviderIdentity[] = [
  {
    provider: 'openai',
    hosts: ['api.openai.com'],
    modelPrefixes: [
      'gpt-',
      'chatgpt-',
      'o1',
      'o3',
      'o4',
      'text-embedding-',
      'davinci',
      'babbage',
      'dall-e',
      'whisper',
      'tts-',
    ],
  },
  { provider: 'azure.ai.openai', hosts: ['.openai.azure.com'], modelPrefixes: [] },
  {
    provider: 'azure.ai.inference',
    hosts: ['.models.ai.azure.com', '.services.ai.azure.com'],
    modelPrefixes: [],
  },
  { provider: 'anthropic', hosts: ['api.anthropic.com'], modelPrefixes: ['claude'] },
  { provider: 'aws.bedrock', hosts: ['.amazonaws.com'], modelPrefixes: [] },
  {
    provider: 'gcp.gemini',
    hosts: ['generativelanguage.googleapis.com'],
    modelPrefixes: ['gemini', 'models/gemini'],
  },
  {
    provider: 'gcp.vertex_ai',
    hosts: ['aiplatform.googleapis.com', '.aiplatform.googleapis.com'],
    modelPrefixes: [],
  },
  {
    provider: 'mistral_ai',
    hosts: ['api.mistral.ai'],
    modelPrefixes: ['mistral-', 'open-mistral', 'mixtral', 'codestral', 'ministral', 'pixtral', 'magistral'],
  },
  {
    provider: 'cohere',
    hosts: ['api.cohere.com', 'api.cohere.ai'],
    modelPrefixes: ['command', 'embed-english', 'embed-multilingual'],
  },
  { provider: 'groq', hosts: ['api.groq.com'], modelPrefixes: [] },
  { provider: 'deepseek', hosts: ['api.deepseek.com'], modelPrefixes: ['deepseek-'] },
  { provider: 'x_ai', hosts: ['api.x.ai'], modelPrefixes: ['grok-'] },
  { provider: 'perplexity', hosts: ['api.perplexity.ai'], modelPrefixes: ['sonar', 'pplx-'] },
];

/** The provider serving `host` (a `server.address`), or undefined for an unknown host. */
export function providerOfHost(host: string): string | undefined {
  const h = host.trim().toLowerCase().replace(/:\d+$/, '');
  if (h === '') return undefined;
  for (const identity of PROVIDER_IDENTITIES) {
    for (const pattern of identity.hosts) {
      if (pattern.startsWith('.') ? h.endsWith(pattern) : h === pattern) return identity.provider;
    }
  }
  return undefined;
}

/** The provider whose own model family `model` belongs to, or undefined (open models, unknown ids). */
export function providerOfModel(model: string): string | undefined {
  const m = model.trim().toLowerCase();
  if (m === '') return undefined;
  for (const identity of PROVIDER_IDENTITIES) {
    for (const prefix of identity.modelPrefixes) if (m.startsWith(prefix)) return identity.provider;
  }
  return undefined;
}

/**
 * Snapshot markers after a model family (dates, `-latest`, `-preview`, numeric revisions), in a
 * syntax both JavaScript and ClickHouse (RE2) read, so filters and report rows match the same
 * family in SQL as here: `gpt-4o-mini-2024-07-18`, `gpt-4o-mini` and `GPT-4o-mini` are one family.
 */
export const MODEL_SNAPSHOT_SUFFIX = '(-(\\d{4}-\\d{2}-\\d{2}|\\d{8}|\\d{3,4}|latest|preview|v\\d+))+$';
const SNAPSHOT = new RegExp(MODEL_SNAPSHOT_SUFFIX);

/** The model family of a model id: lower case, snapshot markers removed. */
export function modelFamily(model: string): string {
  return model.trim().toLowerCase().replace(SNAPSHOT, '');
}
