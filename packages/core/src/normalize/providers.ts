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
 * A self-hosted OpenAI-compatible server named in config (`ingest.selfHosted`): every call to
 * `address` (`host`, or `host:port` to tell several servers on one host apart) is that provider's.
 */
export interface SelfHostedServer {
  address: string;
  provider: string;
}

/**
 * The port each self-hosted OpenAI-compatible server listens on out of the box. Provider names
 * match the detectors' list of internal providers (collector/src/detect/config.ts).
 */
export const SELF_HOSTED_DEFAULT_PORTS: Readonly<Record<number, string>> = {
  8000: 'vllm',
  8080: 'tgi',
  3000: 'tgi',
  11434: 'ollama',
  1234: 'lmstudio',
};

/**
 * The self-hosted server a call went to, from its `server.address` and `server.port`
 * (docs/fine-tuning.md#self-hosted-models), or undefined. In order of trust:
 * 1. a configured server with that host (and port, when the entry names one);
 * 2. a known public provider host is never self-hosted, whatever its port;
 * 3. otherwise, only when `guessFromPort` (the caller saw an OpenAI-compatible client, or no
 *    provider at all), the server whose default port this is. A gateway that happens to listen on
 *    8000 or 8080 is mislabelled by this guess: name it in config to override.
 */
export function selfHostedProvider(
  address: string,
  port: number | undefined,
  servers: readonly SelfHostedServer[] | undefined,
  guessFromPort: boolean,
): string | undefined {
  // Hot path (every span with a server address): nothing configured and no default port to guess from.
  const configured = servers !== undefined && servers.length > 0;
  if (
    !configured &&
    (!guessFromPort || (port !== undefined && SELF_HOSTED_DEFAULT_PORTS[port] === undefined))
  ) {
    return undefined;
  }
  const { host, port: portInAddress } = splitHostPort(address);
  if (host === '') return undefined;
  const callPort = port ?? portInAddress;
  for (const server of servers ?? []) {
    const named = splitHostPort(server.address);
    if (named.host !== host) continue;
    if (named.port === undefined || named.port === callPort) return server.provider;
  }
  if (!guessFromPort || callPort === undefined) return undefined;
  const guess = SELF_HOSTED_DEFAULT_PORTS[callPort];
  return guess !== undefined && providerOfHost(host) === undefined ? guess : undefined;
}

function splitHostPort(address: string): { host: string; port: number | undefined } {
  let a = address.trim().toLowerCase();
  const scheme = a.indexOf('://');
  if (scheme >= 0) a = a.slice(scheme + 3);
  a = a.replace(/\/.*$/, '');
  // A bare IPv6 address (`::1`) has no port; with one it is bracketed (`[::1]:8000`).
  const m = /^([^:]*|\[.*\]):(\d{1,5})$/.exec(a);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: a, port: undefined };
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
