import { z } from 'zod';
import { ModelMatcher } from './match.js';
import { FINE_TUNED_PRICES, PRICES, PRICE_VERSION, type ModelPrice, type PriceEntry } from './table.js';

/** Token usage of one call, with GenAI semconv meaning (see LlmCall). */
export interface PriceUsage {
  provider: string;
  model: string;
  /** All input tokens, INCLUDING cacheRead and cacheWrite tokens. */
  inputTokens: number;
  /** All output tokens, INCLUDING reasoning tokens. */
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** The call's duration: prices it when a GPU-hour rate covers its provider and model. */
  latencyMs?: number;
}

export interface PriceResult {
  /** Null when the model has no known price: an unknown model is never priced at 0. */
  costUsd: number | null;
  /**
   * Table version used; `PRICE_VERSION`, `PRICE_VERSION+config` when a per-token override priced
   * it, `PRICE_VERSION+gpu` when a GPU-hour rate did.
   */
  priceVersion: string;
  known: boolean;
}

const rate = z.number().finite().min(0);

/** One model's price in config, USD per 1M tokens. */
export const modelPriceSchema = z
  .object({
    input: rate,
    output: rate,
    cacheRead: rate.optional(),
    cacheWrite: rate.optional(),
    reasoning: rate.optional(),
    /** Restrict this price to spans of one provider (`gen_ai.provider.name` value). */
    provider: z.string().min(1).optional(),
  })
  .strict();

/**
 * What a self-hosted server's GPUs cost (docs/fine-tuning.md#what-a-self-hosted-call-costs). A
 * call is priced by the GPU time it held: gpuHourUsd × gpus × latency / 1 h / concurrency.
 * `concurrency` is the server's mean number of requests in flight over the hour, idle time
 * included (e.g. vLLM's `vllm:num_requests_running` averaged over the hour). By Little's law the
 * calls of an hour then add up to exactly gpuHourUsd × gpus; at the default 1 each call is charged
 * the whole server for its duration, an upper bound when the server batches requests.
 */
export const gpuRateSchema = z
  .object({
    /** The provider the server is stored as: vllm, tgi, ollama, lmstudio, or a configured name. */
    provider: z.string().min(1),
    /** Only this model id (exact, case-insensitive); without it, every model of the provider. */
    model: z.string().min(1).optional(),
    gpuHourUsd: z.number().finite().positive(),
    gpus: z.number().finite().positive().default(1),
    concurrency: z.number().finite().positive().default(1),
  })
  .strict();

export type GpuRate = z.infer<typeof gpuRateSchema>;

/**
 * The `pricing` config section: prices for custom / fine-tuned models and corrections of the
 * built-in table (e.g. a negotiated rate), and GPU-hour rates of self-hosted servers. Keys of
 * `models` are model ids, matched like the built-in table (exact, then snapshot suffixes), and win
 * over it; a per-token price of the model wins over a GPU-hour rate, which wins over the table.
 *
 * ```yaml
 * pricing:
 *   models:
 *     ft:gpt-4o-mini:acme::abc123: { input: 0.3, output: 1.2, cacheRead: 0.15 }
 *     llama-3.3-70b-instruct: { input: 0.88, output: 0.88, provider: together }
 *   gpu:
 *     - { provider: vllm, gpuHourUsd: 2.4, gpus: 1, concurrency: 8 }
 * ```
 */
export const priceOverridesSchema = z
  .object({
    models: z.record(z.string().min(1), modelPriceSchema).default({}),
    gpu: z.array(gpuRateSchema).max(256).default([]),
  })
  .strict()
  .prefault({});

export type PriceOverrides = z.infer<typeof priceOverridesSchema>;
export type ModelPriceOverride = z.infer<typeof modelPriceSchema>;

const OVERRIDE_VERSION = `${PRICE_VERSION}+config`;
const GPU_VERSION = `${PRICE_VERSION}+gpu`;

/** The GPU-hour rate covering a call: the model's own first, then the provider-wide one. */
export function gpuRateFor(
  overrides: PriceOverrides | undefined,
  provider: string,
  model: string,
): GpuRate | null {
  const rates = overrides?.gpu;
  if (!rates || rates.length === 0 || provider === '') return null;
  const id = model.trim().toLowerCase();
  let providerWide: GpuRate | null = null;
  for (const r of rates) {
    if (r.provider !== provider) continue;
    if (r.model === undefined) providerWide ??= r;
    else if (r.model.trim().toLowerCase() === id) return r;
  }
  return providerWide;
}

/** USD of `latencyMs` of GPU time at `rate`, or null when the duration is unknown. */
export function gpuTimeCost(rate: GpuRate, latencyMs: number | undefined): number | null {
  if (latencyMs === undefined || !Number.isFinite(latencyMs) || latencyMs < 0) return null;
  const usd = (rate.gpuHourUsd * rate.gpus * latencyMs) / 3_600_000 / rate.concurrency;
  return Math.round(usd * 1e10) / 1e10;
}

const fineTuned = new ModelMatcher<PriceEntry>(FINE_TUNED_PRICES.map((e) => [e.model, e] as const));
const FINE_TUNE_ID = /^ft:([^:]+):/;

/** The fine-tuned rates of an OpenAI `ft:<base>:…` id, or null (never the base model's price). */
function fineTunedPrice(model: string): PriceEntry | null {
  const base = FINE_TUNE_ID.exec(model.trim())?.[1];
  return base ? fineTuned.match(base) : null;
}

const builtin = new ModelMatcher<PriceEntry>(
  PRICES.flatMap((e) => [[e.model, e] as const, ...(e.aliases ?? []).map((a) => [a, e] as const)]),
);

/**
 * Override ids are matched exactly first (fine-tune ids like `ft:gpt-4o:org::id` contain ':' and
 * '/' that canonicalization would cut), then through the same matcher as the table.
 */
interface CompiledOverrides {
  exact: Map<string, ModelPriceOverride>;
  matcher: ModelMatcher<ModelPriceOverride>;
}
const compiled = new WeakMap<PriceOverrides, CompiledOverrides>();

function compile(overrides: PriceOverrides): CompiledOverrides {
  let c = compiled.get(overrides);
  if (!c) {
    const entries = Object.entries(overrides.models ?? {});
    c = { exact: new Map(entries), matcher: new ModelMatcher(entries) };
    compiled.set(overrides, c);
  }
  return c;
}

function lookupOverride(
  overrides: PriceOverrides,
  model: string,
  provider: string,
): ModelPriceOverride | null {
  const c = compile(overrides);
  if (c.matcher.size === 0) return null;
  const hit = c.exact.get(model) ?? c.matcher.match(model);
  if (!hit) return null;
  return hit.provider === undefined || hit.provider === provider ? hit : null;
}

/** Cost of the token counts at the given prices, in USD. */
export function costOf(price: ModelPrice, usage: Omit<PriceUsage, 'provider' | 'model'>): number {
  const cacheRead = nonNegative(usage.cacheReadTokens);
  const cacheWrite = nonNegative(usage.cacheWriteTokens);
  // Cached tokens are part of inputTokens: price them once, at the cache rate.
  const uncachedInput = Math.max(0, nonNegative(usage.inputTokens) - cacheRead - cacheWrite);
  const reasoning = Math.min(nonNegative(usage.reasoningTokens), nonNegative(usage.outputTokens));
  const plainOutput = nonNegative(usage.outputTokens) - reasoning;
  const microUsd =
    uncachedInput * price.input +
    cacheRead * (price.cacheRead ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    plainOutput * price.output +
    reasoning * (price.reasoning ?? price.output);
  // 1e-10 USD resolution hides float noise (0.1 + 0.2) so equal calls store equal costs.
  return Math.round(microUsd * 1e4) / 1e10;
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The price entry a model id resolves to in the built-in table, or null. */
export function findPrice(model: string): PriceEntry | null {
  return builtin.match(model);
}

export function priceCall(usage: PriceUsage, overrides?: PriceOverrides): PriceResult {
  if (overrides) {
    const o = lookupOverride(overrides, usage.model, usage.provider);
    if (o) return { costUsd: costOf(o, usage), priceVersion: OVERRIDE_VERSION, known: true };
    const gpu = gpuRateFor(overrides, usage.provider, usage.model);
    if (gpu) {
      const costUsd = gpuTimeCost(gpu, usage.latencyMs);
      return { costUsd, priceVersion: GPU_VERSION, known: costUsd !== null };
    }
  }
  const entry = usage.model.startsWith('ft:') ? fineTunedPrice(usage.model) : builtin.match(usage.model);
  if (!entry) return { costUsd: null, priceVersion: PRICE_VERSION, known: false };
  return { costUsd: costOf(entry, usage), priceVersion: PRICE_VERSION, known: true };
}
