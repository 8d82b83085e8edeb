import { PRICE_VERSION, type Attributes, type DecodedSpan, type LlmCall } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../../packages/core/test/decoded-span.js';
import { parseConfig, type LlmwatchConfigInput } from '../config/index.js';
import { defaultStages } from './pipeline.js';

/** An OpenAI-client span of 1.8 s to `address:port`, as the SDK writes it (it names `openai`). */
function span(address: string, port: number, attrs: Attributes = {}): DecodedSpan {
  return decodedSpan({
    name: 'chat llama-3.1-8b-instruct',
    endTimeUnixNano: '1700000001800000000',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'llama-3.1-8b-instruct',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 0,
      'server.address': address,
      'server.port': port,
      ...attrs,
    },
  });
}

function ingest(config: LlmwatchConfigInput, decoded: DecodedSpan): LlmCall {
  const stages = defaultStages(parseConfig(config), 'k');
  const call = stages.normalizeSpan(decoded, 'p');
  if (!call) throw new Error('not an LLM call');
  return stages.priceCall(call);
}

const GPU_HOUR = { pricing: { gpu: [{ provider: 'vllm', gpuHourUsd: 3, gpus: 2, concurrency: 4 }] } };

describe('ingest of calls to self-hosted servers', () => {
  it('stores a call at a default vLLM port as vllm, priced by GPU time over the SDK table cost', () => {
    // The SDK priced the open model at the table's hosted rate: 1M input tokens × 0.22 $/M.
    const call = ingest(GPU_HOUR, span('gpu-box', 8000, { 'llmwatch.cost.usd': 0.22 }));
    expect(call.provider).toBe('vllm');
    // 3 $/h × 2 GPUs × 1.8 s / 3600 s / 4 in flight = 0.00075 $
    expect(call.costUsd).toBe(0.00075);
    expect(call.priceVersion).toBe(`${PRICE_VERSION}+gpu`);
  });

  it('keeps the span cost and the table when no GPU-hour rate covers the server', () => {
    const call = ingest({}, span('gpu-box', 8000, { 'llmwatch.cost.usd': 0.22 }));
    expect(call.provider).toBe('vllm');
    expect(call.costUsd).toBe(0.22);
  });

  it('prices GPU time even when the server reported no usage', () => {
    const noUsage = span('gpu-box', 8000);
    delete noUsage.attributes['gen_ai.usage.input_tokens'];
    delete noUsage.attributes['gen_ai.usage.output_tokens'];
    const call = ingest(GPU_HOUR, noUsage);
    expect(call.usageReported).toBe(false);
    expect(call.costUsd).toBe(0.00075);
  });

  it('names a configured server on any port; its rate does not reach other servers', () => {
    const config = {
      ...GPU_HOUR,
      ingest: { selfHosted: [{ address: 'infer.internal:9001', provider: 'vllm' }] },
    };
    expect(ingest(config, span('infer.internal', 9001)).costUsd).toBe(0.00075);
    const other = ingest(config, span('infer.internal', 9002));
    expect(other.provider).toBe('openai');
    expect(other.costUsd).toBe(0.22); // the table's llama-3.1-8b-instruct rate
  });

  it('rejects a bad self-hosted server entry with its path', () => {
    expect(() => parseConfig({ ingest: { selfHosted: [{ address: 'gpu box', provider: 'vllm' }] } })).toThrow(
      /ingest\.selfHosted\.0\.address/,
    );
    expect(() => parseConfig({ ingest: { selfHosted: [{ address: 'gpu-box', provider: 'vLLM' }] } })).toThrow(
      /ingest\.selfHosted\.0\.provider/,
    );
  });
});
