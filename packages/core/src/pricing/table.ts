/**
 * The built-in price table: data, not code. USD per 1M tokens.
 *
 * Bump `PRICE_VERSION` on every change: it is stored with each priced call, so a cost can always
 * be traced back to the table that produced it, and old rows are never silently re-priced.
 *
 * Sources and assumptions:
 * - OpenAI, Anthropic, Google (Gemini API / AI Studio), Mistral: the providers' public list prices
 *   for standard (non-batch, non-priority) processing, first context tier only (Claude Sonnet 4.x
 *   above 200k input tokens and Gemini 2.5 Pro above 200k are priced higher; not modelled).
 * - Anthropic cache writes are the 5-minute TTL rate (1.25x input); cache reads 0.1x input.
 * - OpenAI charges nothing extra to write its cache, so `cacheWrite` is absent and such tokens (the
 *   API never reports any) would be priced as plain input.
 * - Reasoning tokens are billed as output by every provider here, so no entry sets `reasoning`.
 * - Meta Llama has no first-party API: prices are Amazon Bedrock on-demand (us-east-1) list prices,
 *   a typical hosted price; Groq-specific model ids carry Groq's prices. Other hosts differ: use
 *   config overrides (`pricing.models`) for the host you pay.
 */
export const PRICE_VERSION = '2026-11-01';

export interface ModelPrice {
  /** Uncached input tokens. */
  input: number;
  output: number;
  /** Input tokens served from the provider cache. @default input */
  cacheRead?: number;
  /** Input tokens written to the provider cache. @default input */
  cacheWrite?: number;
  /** Reasoning (thinking) output tokens, when billed differently from output. @default output */
  reasoning?: number;
}

export interface PriceEntry extends ModelPrice {
  /** Canonical model id (what providers accept as the undated alias). */
  model: string;
  provider: string;
  /** Other ids of the same model at the same price (spelling variants, hosts' ids). */
  aliases?: readonly string[];
}

/** Anthropic's cache multipliers: write 1.25x, read 0.1x of the input price. */
function anthropic(model: string, input: number, output: number, aliases?: readonly string[]): PriceEntry {
  return {
    model,
    provider: 'anthropic',
    input,
    output,
    cacheWrite: round(input * 1.25),
    cacheRead: round(input * 0.1),
    ...(aliases ? { aliases } : {}),
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export const PRICES: readonly PriceEntry[] = [
  // ── OpenAI ────────────────────────────────────────────────────────────────────────────────
  { model: 'gpt-5.1', provider: 'openai', input: 1.25, cacheRead: 0.125, output: 10 },
  { model: 'gpt-5', provider: 'openai', input: 1.25, cacheRead: 0.125, output: 10 },
  { model: 'gpt-5-chat', provider: 'openai', input: 1.25, cacheRead: 0.125, output: 10 },
  { model: 'gpt-5-codex', provider: 'openai', input: 1.25, cacheRead: 0.125, output: 10 },
  { model: 'gpt-5-mini', provider: 'openai', input: 0.25, cacheRead: 0.025, output: 2 },
  { model: 'gpt-5-nano', provider: 'openai', input: 0.05, cacheRead: 0.005, output: 0.4 },
  { model: 'gpt-5-pro', provider: 'openai', input: 15, output: 120 },
  { model: 'gpt-4.1', provider: 'openai', input: 2, cacheRead: 0.5, output: 8 },
  { model: 'gpt-4.1-mini', provider: 'openai', input: 0.4, cacheRead: 0.1, output: 1.6 },
  { model: 'gpt-4.1-nano', provider: 'openai', input: 0.1, cacheRead: 0.025, output: 0.4 },
  { model: 'gpt-4o', provider: 'openai', input: 2.5, cacheRead: 1.25, output: 10 },
  // The first gpt-4o snapshot kept its launch price: exact ids win over the undated alias.
  { model: 'gpt-4o-2024-05-13', provider: 'openai', input: 5, output: 15 },
  { model: 'chatgpt-4o-latest', provider: 'openai', input: 5, output: 15 },
  { model: 'gpt-4o-mini', provider: 'openai', input: 0.15, cacheRead: 0.075, output: 0.6 },
  {
    model: 'gpt-4-turbo',
    provider: 'openai',
    input: 10,
    output: 30,
    aliases: ['gpt-4-turbo-preview', 'gpt-4-1106-preview', 'gpt-4-0125-preview'],
  },
  { model: 'gpt-4', provider: 'openai', input: 30, output: 60 },
  { model: 'gpt-4-32k', provider: 'openai', input: 60, output: 120 },
  { model: 'gpt-3.5-turbo', provider: 'openai', input: 0.5, output: 1.5 },
  { model: 'gpt-3.5-turbo-instruct', provider: 'openai', input: 1.5, output: 2 },
  { model: 'o1', provider: 'openai', input: 15, cacheRead: 7.5, output: 60 },
  { model: 'o1-mini', provider: 'openai', input: 1.1, cacheRead: 0.55, output: 4.4 },
  { model: 'o1-pro', provider: 'openai', input: 150, output: 600 },
  { model: 'o3', provider: 'openai', input: 2, cacheRead: 0.5, output: 8 },
  { model: 'o3-mini', provider: 'openai', input: 1.1, cacheRead: 0.55, output: 4.4 },
  { model: 'o3-pro', provider: 'openai', input: 20, output: 80 },
  { model: 'o4-mini', provider: 'openai', input: 1.1, cacheRead: 0.275, output: 4.4 },
  { model: 'codex-mini', provider: 'openai', input: 1.5, cacheRead: 0.375, output: 6 },
  { model: 'text-embedding-3-small', provider: 'openai', input: 0.02, output: 0 },
  { model: 'text-embedding-3-large', provider: 'openai', input: 0.13, output: 0 },
  { model: 'text-embedding-ada-002', provider: 'openai', input: 0.1, output: 0 },

  // ── Anthropic ─────────────────────────────────────────────────────────────────────────────
  anthropic('claude-opus-4-5', 5, 25),
  anthropic('claude-opus-4-1', 15, 75),
  anthropic('claude-opus-4', 15, 75, ['claude-opus-4-0', 'claude-4-opus']),
  anthropic('claude-sonnet-4-5', 3, 15),
  anthropic('claude-sonnet-4', 3, 15, ['claude-sonnet-4-0', 'claude-4-sonnet']),
  anthropic('claude-haiku-4-5', 1, 5),
  anthropic('claude-3-7-sonnet', 3, 15),
  anthropic('claude-3-5-sonnet', 3, 15),
  anthropic('claude-3-5-haiku', 0.8, 4),
  anthropic('claude-3-opus', 15, 75),
  anthropic('claude-3-sonnet', 3, 15),
  anthropic('claude-3-haiku', 0.25, 1.25),

  // ── Google Gemini (Gemini API list prices, ≤200k-token prompts) ────────────────────────────
  { model: 'gemini-3-pro', provider: 'gcp.gemini', input: 2, cacheRead: 0.2, output: 12 },
  { model: 'gemini-2.5-pro', provider: 'gcp.gemini', input: 1.25, cacheRead: 0.125, output: 10 },
  { model: 'gemini-2.5-flash', provider: 'gcp.gemini', input: 0.3, cacheRead: 0.03, output: 2.5 },
  { model: 'gemini-2.5-flash-lite', provider: 'gcp.gemini', input: 0.1, cacheRead: 0.01, output: 0.4 },
  { model: 'gemini-2.0-flash', provider: 'gcp.gemini', input: 0.1, cacheRead: 0.025, output: 0.4 },
  { model: 'gemini-2.0-flash-lite', provider: 'gcp.gemini', input: 0.075, output: 0.3 },
  { model: 'gemini-1.5-pro', provider: 'gcp.gemini', input: 1.25, cacheRead: 0.3125, output: 5 },
  { model: 'gemini-1.5-flash', provider: 'gcp.gemini', input: 0.075, cacheRead: 0.01875, output: 0.3 },
  { model: 'gemini-1.5-flash-8b', provider: 'gcp.gemini', input: 0.0375, cacheRead: 0.01, output: 0.15 },
  { model: 'gemini-embedding-001', provider: 'gcp.gemini', input: 0.15, output: 0 },

  // ── Mistral ───────────────────────────────────────────────────────────────────────────────
  { model: 'mistral-large', provider: 'mistral_ai', input: 2, output: 6 },
  { model: 'mistral-medium', provider: 'mistral_ai', input: 0.4, output: 2 },
  { model: 'mistral-small', provider: 'mistral_ai', input: 0.1, output: 0.3 },
  { model: 'magistral-medium', provider: 'mistral_ai', input: 2, output: 5 },
  { model: 'magistral-small', provider: 'mistral_ai', input: 0.5, output: 1.5 },
  { model: 'codestral', provider: 'mistral_ai', input: 0.3, output: 0.9 },
  { model: 'devstral-medium', provider: 'mistral_ai', input: 0.4, output: 2 },
  { model: 'devstral-small', provider: 'mistral_ai', input: 0.1, output: 0.3 },
  { model: 'ministral-8b', provider: 'mistral_ai', input: 0.1, output: 0.1 },
  { model: 'ministral-3b', provider: 'mistral_ai', input: 0.04, output: 0.04 },
  {
    model: 'mistral-nemo',
    provider: 'mistral_ai',
    input: 0.15,
    output: 0.15,
    aliases: ['open-mistral-nemo'],
  },
  { model: 'pixtral-large', provider: 'mistral_ai', input: 2, output: 6 },
  { model: 'pixtral-12b', provider: 'mistral_ai', input: 0.15, output: 0.15 },
  { model: 'mixtral-8x7b', provider: 'mistral_ai', input: 0.7, output: 0.7, aliases: ['open-mixtral-8x7b'] },
  { model: 'mixtral-8x22b', provider: 'mistral_ai', input: 2, output: 6, aliases: ['open-mixtral-8x22b'] },
  { model: 'mistral-embed', provider: 'mistral_ai', input: 0.1, output: 0 },

  // ── Meta Llama (Amazon Bedrock on-demand prices unless the id is host-specific) ─────────────
  {
    model: 'llama-4-maverick-17b-instruct',
    provider: 'meta',
    input: 0.24,
    output: 0.97,
    aliases: [
      'llama-4-maverick',
      'llama-4-maverick-17b-128e-instruct',
      'llama-4-maverick-17b-128e-instruct-fp8',
    ],
  },
  {
    model: 'llama-4-scout-17b-instruct',
    provider: 'meta',
    input: 0.17,
    output: 0.66,
    aliases: ['llama-4-scout', 'llama-4-scout-17b-16e-instruct'],
  },
  {
    model: 'llama-3.3-70b-instruct',
    provider: 'meta',
    input: 0.72,
    output: 0.72,
    aliases: ['llama-3.3-70b'],
  },
  {
    model: 'llama-3.2-90b-instruct',
    provider: 'meta',
    input: 0.72,
    output: 0.72,
    aliases: ['llama-3.2-90b-vision-instruct'],
  },
  {
    model: 'llama-3.2-11b-instruct',
    provider: 'meta',
    input: 0.16,
    output: 0.16,
    aliases: ['llama-3.2-11b-vision-instruct'],
  },
  { model: 'llama-3.2-3b-instruct', provider: 'meta', input: 0.15, output: 0.15, aliases: ['llama-3.2-3b'] },
  { model: 'llama-3.2-1b-instruct', provider: 'meta', input: 0.1, output: 0.1, aliases: ['llama-3.2-1b'] },
  {
    model: 'llama-3.1-405b-instruct',
    provider: 'meta',
    input: 2.4,
    output: 2.4,
    aliases: ['llama-3.1-405b'],
  },
  {
    model: 'llama-3.1-70b-instruct',
    provider: 'meta',
    input: 0.72,
    output: 0.72,
    aliases: ['llama-3.1-70b'],
  },
  { model: 'llama-3.1-8b-instruct', provider: 'meta', input: 0.22, output: 0.22, aliases: ['llama-3.1-8b'] },
  { model: 'llama-3-70b-instruct', provider: 'meta', input: 2.65, output: 3.5, aliases: ['llama-3-70b'] },
  { model: 'llama-3-8b-instruct', provider: 'meta', input: 0.3, output: 0.6, aliases: ['llama-3-8b'] },
  // Groq's own ids (Groq list prices).
  { model: 'llama-3.3-70b-versatile', provider: 'groq', input: 0.59, output: 0.79 },
  { model: 'llama-3.1-8b-instant', provider: 'groq', input: 0.05, output: 0.08 },
];

/**
 * Inference on OpenAI fine-tuned models (`ft:<base>:<org>::<id>`) bills at their own published
 * rates, keyed here by the base model the fine-tune was made from.
 */
export const FINE_TUNED_PRICES: readonly PriceEntry[] = [
  { model: 'gpt-4.1', provider: 'openai', input: 3, cacheRead: 0.75, output: 12 },
  { model: 'gpt-4.1-mini', provider: 'openai', input: 0.8, cacheRead: 0.2, output: 3.2 },
  { model: 'gpt-4.1-nano', provider: 'openai', input: 0.2, cacheRead: 0.05, output: 0.8 },
  { model: 'gpt-4o', provider: 'openai', input: 3.75, cacheRead: 1.875, output: 15 },
  { model: 'gpt-4o-mini', provider: 'openai', input: 0.3, cacheRead: 0.15, output: 1.2 },
  { model: 'gpt-3.5-turbo', provider: 'openai', input: 3, output: 6 },
];
