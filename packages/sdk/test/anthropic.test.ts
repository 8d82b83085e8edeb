import Anthropic from '@anthropic-ai/sdk';
import { startFakeAnthropic } from '@llmwatch/fake-llm';
import type { FakeReply, FakeServer } from '@llmwatch/fake-llm';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wrapAnthropic } from '../src/index.js';
import { comparable, onlySpan, outcome, setupSdk, spansSettled } from './harness.js';

const exporter = setupSdk('full');
let fake: FakeServer;
let plain: Anthropic;
let wrapped: Anthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  plain = new Anthropic({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  wrapped = wrapAnthropic(new Anthropic({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
});
afterAll(() => fake.close());
beforeEach(() => {
  exporter.reset();
  fake.reset();
});

// inputTokens includes the cached ones: Anthropic reports input_tokens = 200 - 150 - 20 = 30.
const usage = { inputTokens: 200, outputTokens: 40, cacheReadTokens: 150, cacheWriteTokens: 20 };
const params = {
  model: 'claude-sonnet-4-5',
  max_tokens: 256,
  system: 'Be brief.',
  messages: [{ role: 'user' as const, content: 'What is 2+2?' }],
};

async function both(reply: FakeReply, call: (c: Anthropic) => Promise<unknown>): Promise<[string, string]> {
  fake.script(reply, reply);
  return [await outcome(() => call(plain)), await outcome(() => call(wrapped))];
}

describe('wrapAnthropic', () => {
  it('messages.create non-streaming: same result; input tokens include cache read + creation', async () => {
    const [a, b] = await both({ content: '4', usage, model: 'claude-sonnet-4-5-20250929' }, (c) =>
      c.messages.create(params),
    );
    expect(b).toBe(a);
    const span = onlySpan(exporter);
    expect(span.name).toBe('chat claude-sonnet-4-5');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.request.max_tokens': 256,
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.response.id': 'msg_fake_2',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': 200,
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': 150,
      'gen_ai.usage.cache_creation.input_tokens': 20,
    });
    expect(JSON.parse(span.attributes['gen_ai.system_instructions'] as string)).toEqual([
      { type: 'text', content: 'Be brief.' },
    ]);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: '4' }], finish_reason: 'end_turn' },
    ]);
  });

  it('messages.create streaming: same events, usage from message_start + message_delta, TTFT', async () => {
    const reply: FakeReply = {
      content: 'Two plus two',
      toolCalls: [{ id: 'toolu_1', name: 'calc', arguments: '{"x":2}' }],
      usage,
      ttftMs: 30,
    };
    const [a, b] = await both(reply, async (c) => {
      const out: unknown[] = [];
      for await (const ev of await c.messages.create({ ...params, stream: true })) out.push(ev);
      return out;
    });
    expect(b).toBe(a);
    const span = onlySpan(exporter);
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.input_tokens': 200,
      'gen_ai.usage.output_tokens': 40,
      'gen_ai.usage.cache_read.input_tokens': 150,
      'gen_ai.usage.cache_creation.input_tokens': 20,
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk'] as number).toBeGreaterThanOrEqual(0.025);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].parts).toEqual([
      { type: 'text', content: 'Two plus two' },
      { type: 'tool_call', id: 'toolu_1', name: 'calc', arguments: '{"x":2}' },
    ]);
  });

  it('messages.stream helper: events and finalMessage() unchanged, one span with exact usage', async () => {
    const [a, b] = await both({ content: 'Four.', usage }, async (c) => {
      const texts: string[] = [];
      const stream = c.messages.stream(params).on('text', (t) => texts.push(t));
      const final = await stream.finalMessage();
      return { texts, final };
    });
    expect(b).toBe(a);
    expect(a).toContain('"texts":["Four."]');
    const span = (await spansSettled(exporter, 1))[0]!;
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(200);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(40);
  });

  it('messages.stream abort(): same outcome as without the SDK, span ended', async () => {
    const [a, b] = await both({ content: 'a b c d e f g', delayMs: 5 }, async (c) => {
      const stream = c.messages.stream(params);
      const texts: string[] = [];
      stream.on('text', (t) => {
        texts.push(t);
        if (texts.length === 2) stream.abort();
      });
      try {
        await stream.done();
      } catch (e) {
        return { texts, error: (e as Error).constructor.name };
      }
      return { texts };
    });
    expect(b).toBe(a);
    expect(a).toContain('APIUserAbortError');
    expect(await spansSettled(exporter, 1)).toHaveLength(1);
  });

  it('429 and a dropped connection reach the caller unchanged; span records error.type', async () => {
    const [a, b] = await both({ error: { status: 429, retryAfterSeconds: 2 } }, (c) =>
      c.messages.create(params),
    );
    expect(b).toBe(a);
    expect(a).toMatch(/^error RateLimitError 429/);
    const [n1, n2] = await both({ dropAfterChunks: 0 }, (c) => c.messages.create(params));
    expect(n2).toBe(n1);
    const spans = await spansSettled(exporter, 2);
    expect(spans.map((s) => [s.status.code, s.attributes['error.type']])).toEqual([
      [SpanStatusCode.ERROR, 'RateLimitError'],
      [SpanStatusCode.ERROR, 'APIConnectionError'],
    ]);
  });

  it('withResponse() still exposes the raw response', async () => {
    fake.script({ content: 'ok' });
    const { data, response } = await wrapped.messages.create(params).withResponse();
    expect(response.headers.get('request-id')).toBe('req_fake_1');
    expect(comparable(data)).toContain('"text":"ok"');
  });
});
