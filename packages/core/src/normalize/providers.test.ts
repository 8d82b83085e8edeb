import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../test/decoded-span.js';
import type { Attributes, DecodedSpan } from '../span.js';
import { normalizeSpan } from './normalize.js';
import { modelFamily, providerOfHost, providerOfModel, selfHostedProvider } from './providers.js';

function span(attributes: Attributes): DecodedSpan {
  return decodedSpan({ name: 'llm', endTimeUnixNano: '1700000000500000000', attributes });
}

describe('provider identity', () => {
  it('reads LangChain metadata.ls_provider on an OpenInference span (regression: stored with an empty provider)', () => {
    const call = normalizeSpan(
      span({
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        metadata: JSON.stringify({
          ls_provider: 'openai',
          ls_model_name: 'gpt-4o-mini',
          ls_model_type: 'chat',
        }),
      }),
      'p',
    );
    expect(call?.provider).toBe('openai');
    const azure = normalizeSpan(
      span({
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o',
        metadata: '{"ls_provider":"azure"}',
      }),
      'p',
    );
    expect(azure?.provider).toBe('azure.ai.openai');
  });

  it('a named provider wins over the host and the model family', () => {
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 'groq',
        'gen_ai.request.model': 'llama-3.3-70b',
        'server.address': 'api.openai.com',
        'gen_ai.operation.name': 'chat',
      }),
      'p',
    );
    expect(call?.provider).toBe('groq');
  });

  it('infers the provider from server.address, then from the model family', () => {
    const base = { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 3 };
    expect(
      normalizeSpan(
        span({ ...base, 'gen_ai.request.model': 'my-deployment', 'server.address': 'acme.openai.azure.com' }),
        'p',
      )?.provider,
    ).toBe('azure.ai.openai');
    expect(normalizeSpan(span({ ...base, 'gen_ai.request.model': 'claude-sonnet-4-5' }), 'p')?.provider).toBe(
      'anthropic',
    );
    expect(
      normalizeSpan(span({ ...base, 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18' }), 'p')?.provider,
    ).toBe('openai');
    // Open models are served by many hosts: no guess.
    expect(normalizeSpan(span({ ...base, 'gen_ai.request.model': 'llama-3.1-8b' }), 'p')?.provider).toBe('');
  });

  it('a model alone (no provider, tokens or operation) is still not a call', () => {
    expect(normalizeSpan(span({ 'gen_ai.request.model': 'gpt-4o' }), 'p')).toBeNull();
  });

  it('hosts and model prefixes', () => {
    expect(providerOfHost('api.anthropic.com')).toBe('anthropic');
    expect(providerOfHost('bedrock-runtime.us-east-1.amazonaws.com')).toBe('aws.bedrock');
    expect(providerOfHost('API.OPENAI.COM:443')).toBe('openai');
    expect(providerOfHost('localhost')).toBeUndefined();
    expect(providerOfModel('gemini-2.5-pro')).toBe('gcp.gemini');
    expect(providerOfModel('o3-mini')).toBe('openai');
    expect(providerOfModel('mistral-large-latest')).toBe('mistral_ai');
  });

  it('model family: dated snapshots and case are one family, other models are not', () => {
    expect(modelFamily('gpt-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(modelFamily('GPT-4o-mini')).toBe('gpt-4o-mini');
    expect(modelFamily('claude-3-5-sonnet-20241022')).toBe('claude-3-5-sonnet');
    expect(modelFamily('mistral-large-latest')).toBe('mistral-large');
    expect(modelFamily('gpt-4o')).not.toBe(modelFamily('gpt-4o-mini'));
  });
});

describe('self-hosted OpenAI-compatible servers', () => {
  const openaiClient = (address: string, port: number): Attributes => ({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'support-lora',
    'gen_ai.usage.input_tokens': 10,
    'server.address': address,
    'server.port': port,
  });

  it.each([
    ['gpu-box', 8000, 'vllm'],
    ['10.0.0.7', 8080, 'tgi'],
    ['tgi.internal', 3000, 'tgi'],
    ['localhost', 11434, 'ollama'],
    ['127.0.0.1', 1234, 'lmstudio'],
  ])('an OpenAI client at %s:%i is %s (default port)', (address, port, provider) => {
    expect(normalizeSpan(span(openaiClient(address, port)), 'p')?.provider).toBe(provider);
  });

  it('keeps the named provider on other ports, on public provider hosts and for non-OpenAI clients', () => {
    expect(normalizeSpan(span(openaiClient('gateway.internal', 443)), 'p')?.provider).toBe('openai');
    expect(normalizeSpan(span(openaiClient('api.openai.com', 8000)), 'p')?.provider).toBe('openai');
    const anthropic = { ...openaiClient('proxy.internal', 8000), 'gen_ai.provider.name': 'anthropic' };
    expect(normalizeSpan(span(anthropic), 'p')?.provider).toBe('anthropic');
  });

  it('names the configured server whatever its port or client, host-wide or per port', () => {
    const servers = [
      { address: '127.0.0.1:43127', provider: 'vllm' },
      { address: 'http://gpu-box/v1', provider: 'tgi' },
    ];
    expect(normalizeSpan(span(openaiClient('127.0.0.1', 43127)), 'p', undefined, servers)?.provider).toBe(
      'vllm',
    );
    // Another port on the same host is not that server: the default-port guess still applies.
    expect(normalizeSpan(span(openaiClient('127.0.0.1', 11434)), 'p', undefined, servers)?.provider).toBe(
      'ollama',
    );
    expect(normalizeSpan(span(openaiClient('127.0.0.1', 5000)), 'p', undefined, servers)?.provider).toBe(
      'openai',
    );
    const anthropic = { ...openaiClient('gpu-box', 9000), 'gen_ai.provider.name': 'anthropic' };
    expect(normalizeSpan(span(anthropic), 'p', undefined, servers)?.provider).toBe('tgi');
  });

  it('reads the port from the address when server.port is missing, and bare IPv6 has none', () => {
    expect(selfHostedProvider('gpu-box:8000', undefined, undefined, true)).toBe('vllm');
    expect(selfHostedProvider('[::1]:11434', undefined, undefined, true)).toBe('ollama');
    expect(selfHostedProvider('::1', undefined, undefined, true)).toBeUndefined();
    expect(selfHostedProvider('gpu-box:8000', undefined, undefined, false)).toBeUndefined();
    expect(selfHostedProvider('API.OpenAI.com', 8000, undefined, true)).toBeUndefined();
  });
});
