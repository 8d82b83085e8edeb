import { setAttributes, setPromptTemplate, setSession, setUser } from '@arizeai/openinference-core';
import type { FakeReply } from '@llmwatch/fake-llm';
import type { Context } from '@opentelemetry/api';
import type OpenAI from 'openai';

/** The calls every dialect test drives, with what the fake answers and the identity each peer carries. */

export interface Identity {
  userId: string;
  sessionId: string;
  promptName: string;
  promptVersion: string;
}

export const IDENTITY: Identity = {
  userId: 'user-42',
  sessionId: 'sess-7',
  promptName: 'capital-qa',
  promptVersion: '3',
};

/** OpenInference carries user, session and prompt template version in context; prompt name as `prompt.id`. */
export function withOpenInferenceIdentity(ctx: Context): Context {
  let out = setUser(ctx, { userId: IDENTITY.userId });
  out = setSession(out, { sessionId: IDENTITY.sessionId });
  out = setPromptTemplate(out, {
    template: 'Answer: {q}',
    variables: { q: 'capital' },
    version: IDENTITY.promptVersion,
  });
  return setAttributes(out, { 'prompt.id': IDENTITY.promptName });
}

/**
 * OpenLLMetry's association properties (user, session) and managed-prompt attributes, set the way
 * the instrumentation lets a caller add span attributes: `extraAttributes` on the request (removed
 * before the request is sent). The Traceloop SDK's `withAssociationProperties` yields the same
 * `traceloop.association.properties.*` attributes.
 */
export const TRACELOOP_ATTRIBUTES = {
  'traceloop.association.properties.user_id': IDENTITY.userId,
  'traceloop.association.properties.session_id': IDENTITY.sessionId,
  'traceloop.prompt.key': IDENTITY.promptName,
  'traceloop.prompt.version': Number(IDENTITY.promptVersion),
};

export const MODEL = 'gpt-4o-mini';

export const CHAT_MESSAGES: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Capital of France?' },
];

export const CHAT_REPLY: FakeReply = {
  content: 'Paris.',
  usage: { inputTokens: 1200, outputTokens: 40, cacheReadTokens: 1000, reasoningTokens: 16 },
  // Enough that latency is measured, small enough to keep the suite fast.
  ttftMs: 40,
};

export const TOOL_MESSAGES: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Use tools.' },
  { role: 'user', content: 'Weather in Paris and Oslo?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_prev', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_prev', content: '{"temp":21}' },
];

export const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

export const TOOL_REPLY: FakeReply = {
  toolCalls: [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
  usage: { inputTokens: 300, outputTokens: 22 },
  ttftMs: 20,
};

/** The normalized input content of TOOL_MESSAGES, parsed (the system message is systemContent). */
export const TOOL_INPUT_CONTENT = [
  { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris and Oslo?' }] },
  {
    role: 'assistant',
    parts: [{ type: 'tool_call', id: 'call_prev', name: 'get_weather', arguments: { city: 'Paris' } }],
  },
  { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_prev', response: '{"temp":21}' }] },
];

/** The normalized output content of TOOL_REPLY, parsed. */
export const TOOL_OUTPUT_CONTENT = [
  {
    role: 'assistant',
    parts: [{ type: 'tool_call', id: 'call_oslo', name: 'get_weather', arguments: { city: 'Oslo' } }],
    finish_reason: 'tool_call',
  },
];

export const STREAM_REPLY: FakeReply = {
  content: 'Paris is the capital of France.',
  usage: { inputTokens: 25, outputTokens: 9 },
  ttftMs: 30,
  delayMs: 2,
};

/** What the normalized llmwatch SDK call for CHAT_REPLY must hold (exact values, not just equality). */
export const CHAT_EXPECTED = {
  provider: 'openai',
  operation: 'chat',
  requestModel: MODEL,
  responseModel: MODEL,
  model: MODEL,
  inputTokens: 1200,
  outputTokens: 40,
  cacheReadTokens: 1000,
  reasoningTokens: 16,
  finishReasons: ['stop'],
  status: 'ok',
  ...IDENTITY,
  inputContent: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Capital of France?' }] }]),
  outputContent: JSON.stringify([
    { role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' },
  ]),
  systemContent: JSON.stringify([{ type: 'text', content: 'You are terse.' }]),
  toolNames: [],
};
