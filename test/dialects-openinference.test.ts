import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { withContext } from '@llmwatch/sdk';
import { context } from '@opentelemetry/api';
import * as openaiModule from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { streamedText } from './helpers/fake-openai.js';
import { COMMON_FIELDS, SERVICE, SdkAndPeer, expectSameCall, expectToolCall } from './helpers/peers.js';
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
  withOpenInferenceIdentity,
} from './helpers/peers-scenarios.js';

/**
 * The real OpenInference instrumentation (@arizeai/openinference-instrumentation-openai) and the
 * llmwatch SDK observe the same official-client call against the fake OpenAI server; both spans
 * are normalized and must agree field by field. The SDK wraps the client instance and
 * OpenInference patches the prototype, so one call yields both spans (OpenInference's nested).
 */

const suite = new SdkAndPeer('openinference');

beforeAll(() =>
  suite.start((tracerProvider) =>
    new OpenAIInstrumentation({ tracerProvider }).manuallyInstrument(
      openaiModule as unknown as Parameters<OpenAIInstrumentation['manuallyInstrument']>[0],
    ),
  ),
);
afterAll(() => suite.stop());
beforeEach(() => suite.reset());

function inScopes<T>(fn: () => Promise<T>): Promise<T> {
  return context.with(withOpenInferenceIdentity(context.active()), () => withContext(IDENTITY, fn));
}

describe('OpenInference spans normalize to the same call as the llmwatch SDK', () => {
  it('chat with system prompt, cached and reasoning tokens, user, session, prompt version', async () => {
    suite.fake.script(CHAT_REPLY);
    const res = await inScopes(() =>
      suite.client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES }),
    );
    expect(res.choices[0]?.message.content).toBe('Paris.');
    const { sdk, peer: oi } = await suite.bothCalls(2);

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
    suite.fake.script(TOOL_REPLY);
    await inScopes(() =>
      suite.client.chat.completions.create({ model: MODEL, messages: TOOL_MESSAGES, tools: TOOLS }),
    );
    const { sdk, peer: oi } = await suite.bothCalls(2);

    expectToolCall(sdk);
    expectSameCall(oi, sdk, [...COMMON_FIELDS, 'responseId']);
  });

  it('streaming: same content, model, identity and streaming flag (OpenInference JS records no stream usage)', async () => {
    suite.fake.script(STREAM_REPLY);
    const stream = await inScopes(() =>
      suite.client.chat.completions.create({
        model: MODEL,
        messages: CHAT_MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(await streamedText(stream)).toBe(STREAM_REPLY.content);
    const { sdk, peer: oi } = await suite.bothCalls(2);

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
    suite.fake.script({ error: { status: 429, message: 'slow down' } });
    await expect(
      inScopes(() => suite.client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES })),
    ).rejects.toThrow();
    // Peer limitation (4.2.7): only the success path of the APIPromise ends the span.
    await suite.expectSdkErrorOnly();
  });
});
