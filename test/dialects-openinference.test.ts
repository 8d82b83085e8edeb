import { setAttributes, setPromptTemplate, setSession, setUser } from '@arizeai/openinference-core';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import type { LlmCall } from '@llmwatch/core';
import { startFakeOpenAI } from '@llmwatch/fake-llm';
import type { FakeServer } from '@llmwatch/fake-llm';
import { init, shutdown, withContext, wrapOpenAI } from '@llmwatch/sdk';
import { context } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  COMMON_FIELDS,
  SERVICE,
  expectSameCall,
  normalizeAll,
  peerPipeline,
  settled,
} from './helpers/peers.js';
import {
  CHAT_EXPECTED,
  CHAT_MESSAGES,
  CHAT_REPLY,
  IDENTITY,
  MODEL,
  STREAM_REPLY,
  TOOLS,
  TOOL_MESSAGES,
  TOOL_REPLY,
} from './helpers/peers-scenarios.js';

/**
 * The real OpenInference instrumentation (@arizeai/openinference-instrumentation-openai) and the
 * llmwatch SDK observe the same official-client call against the fake OpenAI server; both spans
 * are normalized and must agree field by field. The SDK wraps the client instance and
 * OpenInference patches the prototype, so one call yields both spans (OpenInference's nested).
 */

const sdkExporter = new InMemorySpanExporter();
const peer = peerPipeline();
let fake: FakeServer;
let client: OpenAI;

beforeAll(async () => {
  init({
    spanProcessor: new SimpleSpanProcessor(sdkExporter),
    capture: 'full',
    serviceName: SERVICE,
  });
  new OpenAIInstrumentation({ tracerProvider: peer.provider }).manuallyInstrument(
    openaiModule as unknown as Parameters<OpenAIInstrumentation['manuallyInstrument']>[0],
  );
  fake = await startFakeOpenAI();
  client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  // First-call costs (lazy loads, JIT) land in whichever wrapper runs first; keep them out.
  await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
});
afterAll(async () => {
  await shutdown();
  await fake.close();
});
beforeEach(() => {
  sdkExporter.reset();
  peer.exporter.reset();
  fake.reset();
});

/** OpenInference carries user, session and prompt template version in context; prompt name as `prompt.id`. */
function inScopes<T>(fn: () => Promise<T>): Promise<T> {
  let ctx = setUser(context.active(), { userId: IDENTITY.userId });
  ctx = setSession(ctx, { sessionId: IDENTITY.sessionId });
  ctx = setPromptTemplate(ctx, {
    template: 'Answer: {q}',
    variables: { q: 'capital' },
    version: IDENTITY.promptVersion,
  });
  ctx = setAttributes(ctx, { 'prompt.id': IDENTITY.promptName });
  return context.with(ctx, () => withContext(IDENTITY, fn));
}

async function bothCalls(spans: number): Promise<{ sdk: LlmCall; oi: LlmCall }> {
  await settled([sdkExporter, peer.exporter], spans);
  const [sdk, ...restSdk] = normalizeAll(sdkExporter.getFinishedSpans());
  const [oi, ...restOi] = normalizeAll(peer.exporter.getFinishedSpans());
  expect(restSdk).toEqual([]);
  expect(restOi).toEqual([]);
  expect(sdk?.dialect).toBe('llmwatch');
  expect(oi?.dialect).toBe('openinference');
  return { sdk: sdk!, oi: oi! };
}

describe('OpenInference spans normalize to the same call as the llmwatch SDK', () => {
  it('chat with system prompt, cached and reasoning tokens, user, session, prompt version', async () => {
    fake.script(CHAT_REPLY);
    const res = await inScopes(() =>
      client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES }),
    );
    expect(res.choices[0]?.message.content).toBe('Paris.');
    const { sdk, oi } = await bothCalls(2);

    expect(sdk).toMatchObject({ ...CHAT_EXPECTED, serviceName: SERVICE, streaming: false });
    expect(sdk.latencyMs).toBeGreaterThanOrEqual(CHAT_REPLY.ttftMs!);
    expectSameCall(oi, sdk, [
      ...COMMON_FIELDS,
      'cacheReadTokens',
      'reasoningTokens',
      'responseId',
      'streaming',
    ]);
  });

  it('tool calls: multi-turn history with a tool result, and a new tool call in the answer', async () => {
    fake.script(TOOL_REPLY);
    await inScopes(() =>
      client.chat.completions.create({ model: MODEL, messages: TOOL_MESSAGES, tools: TOOLS }),
    );
    const { sdk, oi } = await bothCalls(2);

    expect(sdk.toolNames).toEqual(['get_weather']);
    expect(sdk.finishReasons).toEqual(['tool_call']);
    expect(JSON.parse(sdk.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris and Oslo?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_prev', name: 'get_weather', arguments: { city: 'Paris' } }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_prev', response: '{"temp":21}' }] },
    ]);
    expect(JSON.parse(sdk.outputContent)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_oslo', name: 'get_weather', arguments: { city: 'Oslo' } }],
        finish_reason: 'tool_call',
      },
    ]);
    expectSameCall(oi, sdk, [...COMMON_FIELDS, 'responseId']);
  });

  it('streaming: same content, model, identity and streaming flag (OpenInference JS records no stream usage)', async () => {
    fake.script(STREAM_REPLY);
    const stream = await inScopes(() =>
      client.chat.completions.create({
        model: MODEL,
        messages: CHAT_MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(STREAM_REPLY.content);
    const { sdk, oi } = await bothCalls(2);

    expect(sdk).toMatchObject({ streaming: true, inputTokens: 25, outputTokens: 9 });
    expect(sdk.ttftMs).toBeGreaterThanOrEqual(STREAM_REPLY.ttftMs!);
    expect(oi).toMatchObject({ streaming: true, inputTokens: 0, outputTokens: 0 });
    const {
      inputTokens: _i,
      outputTokens: _o,
      ...rest
    } = Object.fromEntries(COMMON_FIELDS.map((f) => [f, f]));
    expectSameCall(oi, sdk, [...(Object.keys(rest) as (typeof COMMON_FIELDS)[number][]), 'streaming'], 50);
  });

  it('provider errors: the SDK records an error call; OpenInference JS never ends its span on a rejected call', async () => {
    fake.script({ error: { status: 429, message: 'slow down' } });
    await expect(
      inScopes(() => client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES })),
    ).rejects.toThrow();
    await settled([sdkExporter], 1);
    await new Promise((r) => setTimeout(r, 100));
    const [sdk] = normalizeAll(sdkExporter.getFinishedSpans());
    expect(sdk).toMatchObject({ status: 'error', model: MODEL, userId: IDENTITY.userId, outputContent: '' });
    expect(sdk?.errorType).not.toBe('');
    // Peer limitation (4.2.7): only the success path of the APIPromise ends the span.
    expect(peer.exporter.getFinishedSpans()).toEqual([]);
  });
});
