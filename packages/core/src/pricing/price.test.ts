import { describe, expect, it } from 'vitest';
import { canonicalModelId } from './match.js';
import { findPrice, priceCall, priceOverridesSchema, type PriceUsage } from './price.js';
import { PRICES, PRICE_VERSION } from './table.js';

function usage(model: string, u: Partial<PriceUsage> = {}): PriceUsage {
  return {
    provider: '',
    model,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    ...u,
  };
}

describe('priceCall', () => {
  it('prices plain input and output per 1M tokens', () => {
    expect(priceCall(usage('gpt-4o', { inputTokens: 1000, outputTokens: 500 }))).toEqual({
      costUsd: 0.0075, // 1000 × $2.50/M + 500 × $10/M
      priceVersion: PRICE_VERSION,
      known: true,
    });
    expect(priceCall(usage('gpt-4o-mini', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).costUsd).toBe(
      0.75,
    );
  });

  it('prices cached input at the cache rate, not twice (input includes cache tokens)', () => {
    // 10k input of which 8k from cache: 2k × 2.50 + 8k × 1.25 + 1k × 10 = 5000 + 10000 + 10000 µ$
    expect(
      priceCall(usage('gpt-4o', { inputTokens: 10_000, cacheReadTokens: 8_000, outputTokens: 1_000 }))
        .costUsd,
    ).toBe(0.025);
  });

  it('prices Anthropic cache writes at 1.25x and cache reads at 0.1x input', () => {
    // claude-sonnet-4-5: input 3, write 3.75, read 0.30, output 15.
    // 1200 input = 100 uncached + 100 written + 1000 read; 200 output.
    const r = priceCall(
      usage('claude-sonnet-4-5-20250929', {
        provider: 'anthropic',
        inputTokens: 1200,
        cacheWriteTokens: 100,
        cacheReadTokens: 1000,
        outputTokens: 200,
      }),
    );
    // 100×3 + 100×3.75 + 1000×0.3 + 200×15 = 300 + 375 + 300 + 3000 = 3975 µ$
    expect(r).toEqual({ costUsd: 0.003975, priceVersion: PRICE_VERSION, known: true });
  });

  it('prices reasoning tokens once, inside output', () => {
    // o3: 2 in, 8 out. 100 in, 1000 out of which 800 reasoning → 200 + 8000 µ$.
    expect(
      priceCall(usage('o3', { inputTokens: 100, outputTokens: 1000, reasoningTokens: 800 })).costUsd,
    ).toBe(0.0082);
  });

  it('unknown model is null, never 0', () => {
    expect(priceCall(usage('my-own-model', { inputTokens: 10, outputTokens: 10 }))).toEqual({
      costUsd: null,
      priceVersion: PRICE_VERSION,
      known: false,
    });
    expect(priceCall(usage('', { inputTokens: 10 })).known).toBe(false);
  });

  it('clamps inconsistent counts instead of producing negative costs', () => {
    // Cache tokens larger than input (an instrumentation that excluded them): no negative input.
    expect(priceCall(usage('gpt-4o', { inputTokens: 100, cacheReadTokens: 400 })).costUsd).toBe(0.0005);
    expect(priceCall(usage('gpt-4o', { inputTokens: -5, outputTokens: Number.NaN })).costUsd).toBe(0);
  });

  it('embeddings price input only', () => {
    expect(priceCall(usage('text-embedding-3-small', { inputTokens: 50_000 })).costUsd).toBe(0.001);
  });
});

describe('model matching', () => {
  const cases: [string, string | null][] = [
    ['gpt-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['GPT-4o', 'gpt-4o'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['gpt-4.1-mini', 'gpt-4.1-mini'],
    ['gpt-4-0613', 'gpt-4'],
    ['gpt-4-1106-preview', 'gpt-4-turbo'],
    ['gpt-4-turbo-2024-04-09', 'gpt-4-turbo'],
    ['gpt-5-chat-latest', 'gpt-5-chat'],
    ['gpt-5-mini-2025-08-07', 'gpt-5-mini'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['o1-pro', 'o1-pro'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'],
    ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
    ['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'],
    ['gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['gemini-1.5-pro-002', 'gemini-1.5-pro'],
    ['projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['mistral-large-latest', 'mistral-large'],
    ['mistral-large-2411', 'mistral-large'],
    ['mistral.mistral-large-2407-v1:0', 'mistral-large'],
    ['codestral-2501', 'codestral'],
    ['open-mistral-nemo', 'mistral-nemo'],
    ['meta.llama3-1-70b-instruct-v1:0', 'llama-3.1-70b-instruct'],
    ['meta-llama/Llama-3.3-70B-Instruct', 'llama-3.3-70b-instruct'],
    ['meta-llama/llama-4-maverick-17b-128e-instruct', 'llama-4-maverick-17b-instruct'],
    ['llama-3.3-70b-versatile', 'llama-3.3-70b-versatile'],
    // Never priced as a neighbour:
    ['gpt-4o-audio-preview', null],
    ['gpt-4o-realtime-preview-2024-12-17', null],
    ['claude-opus-4-6', null],
    ['gemini-2.0-flash-thinking-exp', null],
    ['meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo', null],
    ['gpt-5o', null],
    ['o3-deep-research', null],
    ['text-embedding-3', null],
    // Fine-tunes bill differently from their base model: never the base's entry (see below).
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', null],
  ];
  it.each(cases)('%s → %s', (id, expected) => {
    expect(findPrice(id)?.model ?? null).toBe(expected);
  });

  it('prices OpenAI fine-tuned ids at the fine-tuned rates of their base, not the base rates', () => {
    const ft = (model: string) =>
      priceCall({
        provider: 'openai',
        model,
        inputTokens: 1_000_000,
        outputTokens: 1_000_000,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      });
    // gpt-4o-mini: $0.30 in + $1.20 out per 1M fine-tuned (base: $0.15 + $0.60).
    expect(ft('ft:gpt-4o-mini-2024-07-18:acme::abc123')).toEqual({
      costUsd: 1.5,
      priceVersion: PRICE_VERSION,
      known: true,
    });
    expect(ft('ft:gpt-4o-2024-08-06:acme:support:xyz').costUsd).toBe(18.75);
    expect(ft('ft:davinci-002:acme::old').costUsd).toBeNull();
  });

  it('canonicalizes host spellings', () => {
    expect(canonicalModelId('eu.anthropic.claude-3-haiku-20240307-v1:0')).toBe('claude-3-haiku-20240307-v1');
    expect(canonicalModelId('meta.llama3-8b-instruct-v1:0')).toBe('llama-3-8b-instruct-v1');
  });

  it('every table id and alias resolves to its own entry', () => {
    for (const e of PRICES) {
      expect(findPrice(e.model)).toBe(e);
      for (const a of e.aliases ?? []) expect(findPrice(a)).toBe(e);
    }
  });

  it('covers the families the product promises', () => {
    for (const id of [
      'gpt-5',
      'gpt-5-nano',
      'gpt-4.1-nano',
      'o1',
      'o4-mini',
      'text-embedding-3-large',
      'claude-haiku-4-5',
      'claude-opus-4-5',
      'claude-3-haiku-20240307',
      'claude-3-opus-20240229',
      'gemini-2.5-flash',
      'gemini-2.0-flash-lite',
      'mistral-medium-2505',
      'mistral-small-latest',
      'llama-3.1-8b-instruct',
      'llama-4-scout',
    ]) {
      expect(findPrice(id), id).not.toBeNull();
    }
  });
});

describe('overrides', () => {
  const overrides = priceOverridesSchema.parse({
    models: {
      'ft:gpt-4o-mini:acme::abc123': { input: 0.3, output: 1.2, cacheRead: 0.15 },
      'gpt-4o': { input: 2, output: 8 },
      'llama-3.3-70b-instruct': { input: 0.88, output: 0.88, provider: 'together' },
    },
  });

  it('prices custom models', () => {
    expect(
      priceCall(
        usage('ft:gpt-4o-mini:acme::abc123', { inputTokens: 1000, cacheReadTokens: 1000, outputTokens: 100 }),
        overrides,
      ),
    ).toEqual({ costUsd: 0.00027, priceVersion: `${PRICE_VERSION}+config`, known: true });
  });

  it('wins over the built-in table, including dated snapshots', () => {
    expect(priceCall(usage('gpt-4o-2024-08-06', { inputTokens: 1000 }), overrides).costUsd).toBe(0.002);
  });

  it('applies a provider-scoped price only to that provider', () => {
    const u = { inputTokens: 1_000_000 };
    expect(
      priceCall(usage('llama-3.3-70b-instruct', { ...u, provider: 'together' }), overrides).costUsd,
    ).toBe(0.88);
    expect(
      priceCall(usage('llama-3.3-70b-instruct', { ...u, provider: 'aws.bedrock' }), overrides).costUsd,
    ).toBe(0.72);
  });

  it('config schema defaults to no overrides and rejects bad prices with a path', () => {
    expect(priceOverridesSchema.parse(undefined)).toEqual({ models: {}, gpu: [] });
    const bad = priceOverridesSchema.safeParse({ models: { x: { input: -1, output: 1 } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['models', 'x', 'input']);
  });
});

describe('GPU-hour rates of self-hosted servers', () => {
  const overrides = priceOverridesSchema.parse({
    models: { 'support-lora': { input: 0.05, output: 0.2, provider: 'vllm' } },
    gpu: [
      { provider: 'vllm', gpuHourUsd: 2.4, gpus: 2, concurrency: 8 },
      { provider: 'vllm', model: 'Llama-3.3-70B-Instruct', gpuHourUsd: 4, gpus: 4 },
      { provider: 'ollama', gpuHourUsd: 0.9 },
    ],
  });
  const call = (provider: string, model: string, latencyMs?: number): PriceUsage =>
    usage(model, {
      provider,
      inputTokens: 1000,
      outputTokens: 200,
      ...(latencyMs === undefined ? {} : { latencyMs }),
    });

  it('prices the GPU time a call held, shared by the requests in flight', () => {
    // 2.4 $/h × 2 GPUs × 1.5 s / 3600 s / 8 in flight = 0.00025 $
    expect(priceCall(call('vllm', 'qwen2.5-7b-instruct', 1500), overrides)).toEqual({
      costUsd: 0.00025,
      priceVersion: `${PRICE_VERSION}+gpu`,
      known: true,
    });
    // A model's own rate before the provider's: 4 $/h × 4 GPUs × 900 ms / 3600 s / 1 = 0.004 $
    expect(priceCall(call('vllm', 'llama-3.3-70b-instruct', 900), overrides).costUsd).toBe(0.004);
    // Defaults: 1 GPU, one request at a time: 0.9 $/h × 2 s / 3600 s = 0.0005 $
    expect(priceCall(call('ollama', 'llama3.2:3b', 2000), overrides).costUsd).toBe(0.0005);
  });

  it("an hour of calls at the mean concurrency adds up to the GPU bill (Little's law)", () => {
    // 8 requests always in flight, 2 s each: 4 calls/s, 14,400 calls in the hour.
    const one = priceCall(call('vllm', 'qwen2.5-7b-instruct', 2000), overrides).costUsd!;
    // Within the stored 1e-10 USD resolution of each of the 14,400 costs.
    expect(Math.abs(one * 14_400 - 2.4 * 2)).toBeLessThanOrEqual(14_400 * 0.5e-10);
  });

  it('a per-token price of the model wins; other providers keep the table; no duration is unknown, not free', () => {
    expect(priceCall(call('vllm', 'support-lora', 1500), overrides)).toEqual({
      costUsd: 0.00009, // 1000 × 0.05 + 200 × 0.2 µ$
      priceVersion: `${PRICE_VERSION}+config`,
      known: true,
    });
    expect(priceCall(call('openai', 'gpt-4o', 1500), overrides).priceVersion).toBe(PRICE_VERSION);
    expect(priceCall(call('vllm', 'qwen2.5-7b-instruct'), overrides)).toEqual({
      costUsd: null,
      priceVersion: `${PRICE_VERSION}+gpu`,
      known: false,
    });
  });

  it('rejects a rate without a positive hourly price or concurrency', () => {
    const bad = priceOverridesSchema.safeParse({ gpu: [{ provider: 'vllm', gpuHourUsd: 0 }] });
    expect(bad.error?.issues[0]?.path).toEqual(['gpu', 0, 'gpuHourUsd']);
    expect(
      priceOverridesSchema.safeParse({ gpu: [{ provider: 'vllm', gpuHourUsd: 1, concurrency: 0 }] }).success,
    ).toBe(false);
  });
});
