import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_REPLY_HEADER, startFakeAnthropic, startFakeOpenAI } from './index.js';
import type { FakeServer } from './index.js';

const usage = {
  inputTokens: 100,
  outputTokens: 40,
  cacheReadTokens: 60,
  cacheWriteTokens: 10,
  reasoningTokens: 5,
};

describe('fake OpenAI with the official openai client', () => {
  let fake: FakeServer;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    client = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('chat.completions non-streaming: content, usage details, recorded request', async () => {
    fake.script({ content: 'Hi there', usage, model: 'gpt-4o-mini-2024-07-18' });
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(res.choices[0]?.message.content).toBe('Hi there');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.model).toBe('gpt-4o-mini-2024-07-18');
    expect(res.usage).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 5 },
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.path).toBe('/v1/chat/completions');
    expect((fake.requests[0]?.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('derives deterministic usage from text length when not scripted', async () => {
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(41) }],
    });
    expect(res.usage?.prompt_tokens).toBe(11);
    expect(res.choices[0]?.message.content).toBe('This is a deterministic reply from the fake server.');
    expect(res.usage?.completion_tokens).toBe(13);
  });

  it('chat.completions streaming with include_usage and tool calls', async () => {
    fake.script({
      content: 'Let me check',
      toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris, France"}' }],
      usage,
    });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let args = '';
    let name = '';
    let finish: string | null = null;
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      last = chunk;
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      name += choice?.delta.tool_calls?.[0]?.function?.name ?? '';
      args += choice?.delta.tool_calls?.[0]?.function?.arguments ?? '';
      finish = choice?.finish_reason ?? finish;
    }
    expect(text).toBe('Let me check');
    expect(name).toBe('get_weather');
    expect(args).toBe('{"city":"Paris, France"}');
    expect(finish).toBe('tool_calls');
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.prompt_tokens_details?.cached_tokens).toBe(60);
  });

  it('chat.completions stream helper accumulates the final completion', async () => {
    fake.script({ content: 'a b c' });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('a b c');
  });

  it('responses.create non-streaming and streaming', async () => {
    fake.script({ content: 'Responses hi', usage }, { content: 'Streamed responses hi', usage });
    const res = await client.responses.create({ model: 'gpt-4.1', input: 'hello', instructions: 'be brief' });
    expect(res.output_text).toBe('Responses hi');
    expect(res.usage).toMatchObject({
      input_tokens: 100,
      output_tokens: 40,
      input_tokens_details: { cached_tokens: 60 },
    });

    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'hello', stream: true });
    const types: string[] = [];
    let text = '';
    let completedUsage: number | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completedUsage = ev.response.usage?.output_tokens;
    }
    expect(text).toBe('Streamed responses hi');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(completedUsage).toBe(40);
  });

  it('responses.stream helper yields the final response with a function call', async () => {
    fake.script({ toolCalls: [{ name: 'lookup', arguments: '{"q":1}' }] });
    const final = await client.responses.stream({ model: 'gpt-4.1', input: 'x' }).finalResponse();
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'lookup', arguments: '{"q":1}' });
  });

  it('embeddings in float and in the client default base64 encoding', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
    const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0]?.embedding).toHaveLength(8);
    expect(b64.data[0]?.embedding.map((x) => Math.round(x * 1e5))).toEqual(
      floats.data[0]?.embedding.map((x) => Math.round(x * 1e5)),
    );
    expect(floats.usage.prompt_tokens).toBe(1);
  });

  it('scripted 429 with retry-after is retried by the client, then succeeds', async () => {
    fake.script({ error: { status: 429, retryAfterSeconds: 0 } }, { content: 'after retry' });
    const retrying = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 1 });
    const res = await retrying.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.choices[0]?.message.content).toBe('after retry');
    expect(fake.requests).toHaveLength(2);
  });

  it('scripted 500 surfaces as InternalServerError; 429 as RateLimitError', async () => {
    fake.script(
      { error: { status: 500, message: 'boom' } },
      { error: { status: 429, retryAfterSeconds: 3 } },
    );
    const e500 = await client.chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(OpenAI.InternalServerError);
    expect((e500 as Error).message).toContain('boom');
    const e429 = await client.chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(OpenAI.RateLimitError);
    expect((e429 as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('3');
  });

  it('dropped connection: before answering is a connection error, mid-stream breaks iteration', async () => {
    fake.script({ dropAfterChunks: 0 });
    const err = await client.chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);

    fake.script({ content: 'one two three four five', dropAfterChunks: 3 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    const seen: string[] = [];
    const iterate = async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    };
    await expect(iterate()).rejects.toThrow();
    expect(seen).toEqual(['', 'one ', 'two ']);
  });

  it('ttftMs delays the first chunk; per-request header overrides the queue', async () => {
    const res = await client.chat.completions.create(
      { model: 'm', messages: [] },
      { headers: { [FAKE_REPLY_HEADER]: JSON.stringify({ content: 'from header' }) } },
    );
    expect(res.choices[0]?.message.content).toBe('from header');
    expect(fake.requests).toHaveLength(1);

    fake.script({ content: 'slow start', ttftMs: 120 });
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    let first = 0;
    for await (const _ of stream) first ||= performance.now() - t0;
    expect(first).toBeGreaterThanOrEqual(110);
  });
});

describe('fake Anthropic with the official @anthropic-ai/sdk client', () => {
  let fake: FakeServer;
  let client: Anthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('messages.create non-streaming with cache tokens and tool use', async () => {
    fake.script({
      content: 'Sure',
      toolCalls: [{ id: 'toolu_1', name: 'search', arguments: '{"q":"x"}' }],
      usage,
    });
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg.content).toEqual([
      { type: 'text', text: 'Sure', citations: null },
      { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'x' } },
    ]);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.usage).toMatchObject({
      input_tokens: 30,
      cache_read_input_tokens: 60,
      cache_creation_input_tokens: 10,
      output_tokens: 40,
    });
    expect(fake.requests[0]?.headers['anthropic-version']).toBeTypeOf('string');
  });

  it('messages.create streaming emits the real event sequence (the client hides ping)', async () => {
    fake.script({ content: 'Hello there', usage });
    const stream = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const types: string[] = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    }
    expect(text).toBe('Hello there');
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('messages.stream helper: finalMessage has exact usage', async () => {
    fake.script({ content: 'streamed', usage, toolCalls: [{ name: 't', arguments: '{"a":[1,2,3]}' }] });
    const final = await client.messages
      .stream({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.usage).toMatchObject({
      input_tokens: 30,
      cache_read_input_tokens: 60,
      cache_creation_input_tokens: 10,
      output_tokens: 40,
    });
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 't', input: { a: [1, 2, 3] } });
  });

  it('errors: 429 RateLimitError with retry-after, 529 overloaded, dropped connection', async () => {
    fake.script(
      { error: { status: 429, retryAfterSeconds: 7 } },
      { error: { status: 529 } },
      { dropAfterChunks: 0 },
    );
    const params = {
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const e429 = await client.messages.create(params).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(Anthropic.RateLimitError);
    expect((e429 as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('7');
    const e529 = await client.messages.create(params).catch((e: unknown) => e);
    expect((e529 as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    const eNet = await client.messages.create(params).catch((e: unknown) => e);
    expect(eNet).toBeInstanceOf(Anthropic.APIConnectionError);
  });

  it('close() is idempotent', async () => {
    const f = await startFakeAnthropic();
    await Promise.all([f.close(), f.close()]);
    await f.close();
  });
});
