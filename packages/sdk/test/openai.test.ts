import { startFakeOpenAI } from '@llmwatch/fake-llm';
import type { FakeReply, FakeServer } from '@llmwatch/fake-llm';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { wrapOpenAI } from '../src/index.js';
import { chat as chatSpec } from '../src/openai.js';
import { comparable, onlySpan, outcome, setupSdk, spansSettled } from './harness.js';

const exporter = setupSdk('full');
let fake: FakeServer;
let plain: OpenAI;
let wrapped: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  plain = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  wrapped = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
});
afterAll(() => fake.close());
beforeEach(() => {
  exporter.reset();
  fake.reset();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const usage = { inputTokens: 120, outputTokens: 30, cacheReadTokens: 100, reasoningTokens: 8 };
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Weather in Paris?' },
];

/** Runs the same scripted call through the plain and the wrapped client; returns both outcomes. */
async function both(reply: FakeReply, call: (c: OpenAI) => Promise<unknown>): Promise<[string, string]> {
  fake.script(reply, reply);
  const a = await outcome(() => call(plain));
  const b = await outcome(() => call(wrapped));
  return [a, b];
}

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe('wrapOpenAI chat.completions.create', () => {
  it('non-streaming: same result, one CLIENT span with exact GenAI attributes', async () => {
    const [a, b] = await both({ content: 'Sunny.', usage, model: 'gpt-4o-mini-2024-07-18' }, (c) =>
      c.chat.completions.create({
        model: 'gpt-4o-mini',
        messages,
        temperature: 0.2,
        max_tokens: 50,
        stop: ['END'],
        seed: 7,
      }),
    );
    expect(b).toBe(a);
    expect(a.startsWith('ok ')).toBe(true);
    const span = onlySpan(exporter);
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.stop_sequences': ['END'],
      'gen_ai.request.seed': 7,
      'gen_ai.request.stream': false,
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.id': 'chatcmpl-fake-2',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.reasoning.output_tokens': 8,
      'server.address': '127.0.0.1',
      'server.port': fake.port,
      'llmwatch.content.policy': 'full',
    });
    expect(JSON.parse(span.attributes['gen_ai.system_instructions'] as string)).toEqual([
      { type: 'text', content: 'You are terse.' },
    ]);
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    ]);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Sunny.' }], finish_reason: 'stop' },
    ]);
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();
  });

  it('streaming with include_usage and tool calls: same chunks, exact usage, TTFT in seconds', async () => {
    const reply: FakeReply = {
      content: 'Checking',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      usage,
      ttftMs: 60,
    };
    const call = async (c: OpenAI) =>
      drain(
        await c.chat.completions.create({
          model: 'gpt-4o',
          messages,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
    const [a, b] = await both(reply, call);
    expect(b).toBe(a);
    const span = onlySpan(exporter);
    expect(span.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'chatcmpl-fake-2',
      'gen_ai.response.model': 'gpt-4o',
      'gen_ai.response.finish_reasons': ['tool_calls'],
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.reasoning.output_tokens': 8,
    });
    const ttft = span.attributes['gen_ai.response.time_to_first_chunk'] as number;
    expect(ttft).toBeGreaterThanOrEqual(0.05);
    expect(ttft).toBeLessThan(1);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Checking' },
          { type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        ],
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('streaming does not prevent tee(): both branches get every chunk, one span with usage', async () => {
    fake.script({ content: 'one two three', usage });
    const stream = await wrapped.chat.completions.create({
      model: 'gpt-4o',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const [left, right] = stream.tee();
    const [l, r] = await Promise.all([drain(left), drain(right)]);
    expect(l).toHaveLength(6);
    expect(comparable(r)).toBe(comparable(l));
    const span = onlySpan(exporter);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBe(30);
  });

  it('aborting mid-stream ends iteration exactly as without the SDK, and ends the span', async () => {
    const run = async (c: OpenAI) => {
      const stream = await c.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
      const seen: string[] = [];
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta.content ?? '');
        if (seen.length === 2) stream.controller.abort();
      }
      return seen;
    };
    const [a, b] = await both({ content: 'a b c d e f', delayMs: 5 }, run);
    expect(b).toBe(a);
    expect(a).toBe('ok ["","a "]');
    const spans = await spansSettled(exporter, 1);
    expect(spans).toHaveLength(1);
  });

  it('breaking out of for-await ends the span with what was seen', async () => {
    fake.script({ content: 'a b c d e f' });
    const stream = await wrapped.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    for await (const _ of stream) break;
    const span = onlySpan(exporter);
    expect(span.attributes['gen_ai.response.id']).toBe('chatcmpl-fake-1');
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
  });

  it('withResponse() keeps data, response and request id', async () => {
    const run = async (c: OpenAI) => {
      const { data, response, request_id } = await c.chat.completions
        .create({ model: 'gpt-4o', messages })
        .withResponse();
      return { data, status: response.status, ct: response.headers.get('content-type'), request_id };
    };
    const [a, b] = await both({ content: 'x' }, run);
    expect(b).toBe(a);
    expect(a).toContain('"request_id":"req_fake_N"');
    expect(onlySpan(exporter).attributes['gen_ai.usage.output_tokens']).toBe(1);
  });

  it('asResponse() alone: the same raw Response, and the span still ends (without usage: the body is never read)', async () => {
    const run = async (c: OpenAI) => {
      const response = await c.chat.completions.create({ model: 'gpt-4o', messages }).asResponse();
      return { status: response.status, body: await response.text() };
    };
    const [a, b] = await both({ content: 'raw' }, run);
    expect(b).toBe(a);
    const span = (await spansSettled(exporter, 1))[0]!;
    expect(span.name).toBe('chat gpt-4o');
    expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o');
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  });

  it('the stream helper (chat.completions.stream) works and is traced', async () => {
    fake.script({ content: 'helper text', usage });
    // openai v4 has the helper under `beta` only; it calls the wrapped `create` all the same.
    const v4Beta = (wrapped as unknown as { beta: { chat: OpenAI.Chat } }).beta;
    const completions = ('stream' in wrapped.chat.completions ? wrapped.chat : v4Beta.chat).completions;
    const final = await completions
      .stream({ model: 'gpt-4o', messages, stream_options: { include_usage: true } })
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('helper text');
    const span = (await spansSettled(exporter, 1))[0]!;
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(120);
  });

  it.each([
    [429, 'RateLimitError'],
    [500, 'InternalServerError'],
  ])('provider %i reaches the caller unchanged; span has error.type %s', async (status, type) => {
    const [a, b] = await both({ error: { status, message: `fake ${status}`, retryAfterSeconds: 1 } }, (c) =>
      c.chat.completions.create({ model: 'gpt-4o', messages }),
    );
    expect(b).toBe(a);
    expect(a).toBe(`error ${type} ${status} ${status} fake ${status}`);
    const span = await spansSettled(exporter, 1).then((s) => s[0]!);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe(type);
  });

  it('network error (server closes the connection) reaches the caller unchanged', async () => {
    const [a, b] = await both({ dropAfterChunks: 0 }, (c) =>
      c.chat.completions.create({ model: 'gpt-4o', messages }),
    );
    expect(b).toBe(a);
    expect(a).toMatch(/^error APIConnectionError/);
    const span = (await spansSettled(exporter, 1))[0]!;
    expect(span.attributes['error.type']).toBe('APIConnectionError');
  });

  it('connection dropped mid-stream: the caller sees the same error after the same chunks', async () => {
    const run = async (c: OpenAI) => {
      const seen: string[] = [];
      try {
        for await (const chunk of await c.chat.completions.create({
          model: 'gpt-4o',
          messages,
          stream: true,
        }))
          seen.push(chunk.choices[0]?.delta.content ?? '');
      } catch (e) {
        return { seen, error: (e as Error).constructor.name };
      }
      return { seen };
    };
    const [a, b] = await both({ content: 'a b c d', dropAfterChunks: 3 }, run);
    expect(b).toBe(a);
    expect(a).toContain('"error"');
    const span = (await spansSettled(exporter, 1))[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it.each(['start', 'response', 'chunk'] as const)(
    'a bug in our attribute code (%s) leaves the call untouched',
    async (where) => {
      vi.spyOn(chatSpec, where === 'start' ? 'request' : where).mockImplementation(() => {
        throw new Error('simulated attribute bug');
      });
      const [a, b] = await both({ content: 'robust', usage }, (c) =>
        c.chat.completions.create({ model: 'gpt-4o', messages }),
      );
      expect(b).toBe(a);
      const [s1, s2] = await both({ content: 'robust stream', usage }, async (c) =>
        drain(
          await c.chat.completions.create({
            model: 'gpt-4o',
            messages,
            stream: true,
            stream_options: { include_usage: true },
          }),
        ),
      );
      expect(s2).toBe(s1);
      expect(s1).toContain('robust');
    },
  );
});

describe('wrapOpenAI responses.create and embeddings.create', () => {
  it('responses non-streaming: same result (incl. output_text), usage and content', async () => {
    const [a, b] = await both({ content: 'Bonjour', usage }, (c) =>
      c.responses.create({ model: 'gpt-4.1', input: 'Say hi', instructions: 'French' }),
    );
    expect(b).toBe(a);
    expect(a).toContain('"output_text":"Bonjour"');
    const span = onlySpan(exporter);
    expect(span.name).toBe('chat gpt-4.1');
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': 'resp_fake_2',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.reasoning.output_tokens': 8,
    });
    expect(JSON.parse(span.attributes['gen_ai.system_instructions'] as string)).toEqual([
      { type: 'text', content: 'French' },
    ]);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)[0].parts).toEqual([
      { type: 'text', content: 'Bonjour' },
    ]);
  });

  it('responses streaming: same events, usage from response.completed, TTFT', async () => {
    const [a, b] = await both({ content: 'Streamed hello', usage }, async (c) =>
      drain(await c.responses.create({ model: 'gpt-4.1', input: 'hi', stream: true })),
    );
    expect(b).toBe(a);
    const span = onlySpan(exporter);
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.response.id': 'resp_fake_2',
    });
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeTypeOf('number');
  });

  it('embeddings (default base64 decoding by the client): same vectors, input tokens, dimensions', async () => {
    const [a, b] = await both({ embeddingDimensions: 16 }, (c) =>
      c.embeddings.create({ model: 'text-embedding-3-small', input: ['hello world'] }),
    );
    expect(b).toBe(a);
    const span = onlySpan(exporter);
    expect(span.name).toBe('embeddings text-embedding-3-small');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.embeddings.dimension.count': 16,
    });
  });

  it('wrapping twice instruments once', async () => {
    wrapOpenAI(wrapped);
    fake.script({ content: 'x' });
    await wrapped.chat.completions.create({ model: 'gpt-4o', messages });
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});
