import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../test/decoded-span.js';
import type { Attributes, DecodedSpan, DecodedSpanEvent } from '../span.js';
import { normalizeSpan } from './normalize.js';
import {
  GENAI_LEGACY_TABLE,
  GENAI_TABLE,
  LLMWATCH_TABLE,
  OPENINFERENCE_TABLE,
  OPENLIT_TABLE,
  OPENLLMETRY_TABLE,
} from './tables.js';

const START = '1763900000000000000';
/** START + ms. */
function at(ms: number): string {
  return (BigInt(START) + BigInt(Math.round(ms * 1e6))).toString();
}

function span(attributes: Attributes, over: Partial<DecodedSpan> = {}): DecodedSpan {
  return decodedSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: 'chat gpt-4o',
    startTimeUnixNano: START,
    endTimeUnixNano: at(1234.5),
    attributes,
    resource: { 'service.name': 'support-bot' },
    ...over,
  });
}

function event(name: string, attributes: Attributes, ms = 0): DecodedSpanEvent {
  return { name, timeUnixNano: at(ms), attributes };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const USER_MSGS = [
  { role: 'system', parts: [{ type: 'text', content: 'You are terse.' }] },
  { role: 'user', parts: [{ type: 'text', content: 'Capital of France?' }] },
];
const ASSISTANT_MSGS = [
  { role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' },
];

describe('GenAI semconv current (1.37+)', () => {
  const attrs: Attributes = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.response.id': 'chatcmpl-123',
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.cache_read.input_tokens': 1000,
    'gen_ai.usage.cache_creation.input_tokens': 0,
    'gen_ai.usage.reasoning.output_tokens': 64,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.response.time_to_first_chunk': 0.245,
    'gen_ai.request.stream': true,
    'gen_ai.conversation.id': 'conv_1',
    'gen_ai.prompt.name': 'capital-lookup',
    'gen_ai.input.messages': JSON.stringify(USER_MSGS),
    'gen_ai.output.messages': JSON.stringify(ASSISTANT_MSGS),
    'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be nice.' }]),
    'server.address': 'api.openai.com',
    'user.id': 'u-42',
    'session.id': 's-7',
  };

  it('maps every field', () => {
    const s = deepFreeze(span(attrs));
    const call = normalizeSpan(s, 'proj');
    expect(call).toEqual({
      projectId: 'proj',
      startTimeUnixNano: START,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '',
      serviceName: 'support-bot',
      dialect: 'genai',
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      model: 'gpt-4o-2024-08-06',
      responseId: 'chatcmpl-123',
      inputTokens: 1200,
      outputTokens: 300,
      usageReported: true,
      cacheReadTokens: 1000,
      cacheWriteTokens: 0,
      reasoningTokens: 64,
      costUsd: null,
      priceVersion: '',
      latencyMs: 1234.5,
      ttftMs: 245,
      streaming: true,
      finishReasons: ['stop'],
      status: 'ok',
      errorType: '',
      promptName: 'capital-lookup',
      promptVersion: '',
      userId: 'u-42',
      sessionId: 's-7',
      conversationId: 'conv_1',
      tags: {},
      // System messages of the history join the system instructions: one place for the system prompt.
      inputContent: JSON.stringify(USER_MSGS.slice(1)),
      outputContent: JSON.stringify(ASSISTANT_MSGS),
      systemContent: JSON.stringify([
        { type: 'text', content: 'Be nice.' },
        { type: 'text', content: 'You are terse.' },
      ]),
      toolNames: [],
      inputEmbedding: [],
      outputEmbedding: [],
    });
  });

  it('passes message JSON through byte for byte and finds tool calls in it', () => {
    const out = [
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
        finish_reason: 'tool_call',
      },
    ];
    const call = normalizeSpan(span({ ...attrs, 'gen_ai.output.messages': JSON.stringify(out) }), 'p');
    expect(call?.outputContent).toBe(JSON.stringify(out));
    expect(call?.toolNames).toEqual(['get_weather']);
  });

  it('accepts structured (non-string) message attributes', () => {
    const call = normalizeSpan(
      span({ ...attrs, 'gen_ai.input.messages': USER_MSGS as unknown as Attributes[] }),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual(USER_MSGS.slice(1));
  });

  it('reads content from the 1.38+ operation-details event', () => {
    const { 'gen_ai.input.messages': _i, 'gen_ai.output.messages': _o, ...noContent } = attrs;
    const call = normalizeSpan(
      span(noContent, {
        events: [
          event('gen_ai.client.inference.operation.details', {
            'gen_ai.input.messages': JSON.stringify(USER_MSGS),
            'gen_ai.output.messages': JSON.stringify(ASSISTANT_MSGS),
          }),
        ],
      }),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual(USER_MSGS.slice(1));
    expect(JSON.parse(call!.systemContent)).toEqual([
      { type: 'text', content: 'Be nice.' },
      { type: 'text', content: 'You are terse.' },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual(ASSISTANT_MSGS);
  });

  it('maps error status, error.type and provider-native finish reasons', () => {
    const call = normalizeSpan(
      span(
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'error.type': 'RateLimitError',
          'gen_ai.response.finish_reasons': ['end_turn', 'max_tokens', 'tool_use'],
        },
        { statusCode: 'Error', statusMessage: '429 rate limited' },
      ),
      'p',
    );
    expect(call).toMatchObject({
      status: 'error',
      errorType: 'RateLimitError',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      responseModel: '',
      finishReasons: ['stop', 'length', 'tool_call'],
      streaming: false,
      ttftMs: null,
    });
  });

  it('falls back to the exception event type, then _OTHER', () => {
    const base = { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };
    const withEvent = normalizeSpan(
      span(base, {
        statusCode: 'Error',
        events: [event('exception', { 'exception.type': 'APIConnectionError', 'exception.message': 'boom' })],
      }),
      'p',
    );
    expect(withEvent?.errorType).toBe('APIConnectionError');
    expect(normalizeSpan(span(base, { statusCode: 'Error' }), 'p')?.errorType).toBe('_OTHER');
    expect(normalizeSpan(span(base), 'p')?.status).toBe('unset');
  });
});

describe('canonical content', () => {
  it('the same call reads the same whether tool arguments are a string or an object and finish reasons native or GenAI', () => {
    const base = { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };
    const sdkStyle = normalizeSpan(
      span({
        ...base,
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'sys' }]),
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]),
        'gen_ai.output.messages': JSON.stringify([
          {
            role: 'assistant',
            parts: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: '{"a":1}' }],
            finish_reason: 'tool_calls',
          },
        ]),
      }),
      'p',
    );
    const peerStyle = normalizeSpan(
      span({
        ...base,
        'gen_ai.input.messages': JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'sys' }] },
          { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([
          {
            role: 'assistant',
            finish_reason: 'tool_call',
            parts: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: { a: 1 } }],
          },
        ]),
      }),
      'p',
    );
    for (const k of ['inputContent', 'outputContent', 'systemContent', 'toolNames'] as const) {
      expect(peerStyle?.[k], k).toEqual(sdkStyle?.[k]);
    }
    expect(sdkStyle?.outputContent).toBe(
      '[{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"f","arguments":{"a":1}}],"finish_reason":"tool_call"}]',
    );
  });
});

describe('canonical content: OpenLIT layout', () => {
  it('a system prompt recorded both as instructions and as a history message is kept once', () => {
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be terse.' }]),
        'gen_ai.input.messages': JSON.stringify([
          { role: 'system', parts: [{ type: 'text', content: 'Be terse.' }] },
          { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
        ]),
      }),
      'p',
    );
    expect(call?.systemContent).toBe('[{"type":"text","content":"Be terse."}]');
  });

  it('text parts of a tool message are tool results', () => {
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.input.messages': JSON.stringify([
          { role: 'tool', parts: [{ type: 'text', content: '{"t":1}' }] },
        ]),
      }),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'tool', parts: [{ type: 'tool_call_response', response: '{"t":1}' }] },
    ]);
  });
});

describe('GenAI semconv ≤1.36', () => {
  it('reads gen_ai.system, prompt/completion token names and content events', () => {
    const call = normalizeSpan(
      span(
        {
          'gen_ai.system': 'az.ai.openai',
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
          'gen_ai.usage.prompt_tokens': 52,
          'gen_ai.usage.completion_tokens': 9,
          'gen_ai.response.finish_reasons': ['tool_calls'],
        },
        {
          events: [
            event('gen_ai.system.message', { 'gen_ai.system': 'openai', content: 'You are terse.' }),
            event('gen_ai.user.message', { 'gen_ai.system': 'openai', content: 'Weather in Paris?' }),
            event('gen_ai.choice', {
              'gen_ai.system': 'openai',
              index: 0,
              finish_reason: 'tool_calls',
              message: {
                role: 'assistant',
                tool_calls: [
                  {
                    id: 'call_9',
                    type: 'function',
                    function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                  },
                ],
              },
            }),
          ],
        },
      ),
      'p',
    );
    expect(call).toMatchObject({
      dialect: 'genai_legacy',
      provider: 'azure.ai.openai',
      inputTokens: 52,
      outputTokens: 9,
      finishReasons: ['tool_call'],
      toolNames: ['get_weather'],
      status: 'ok',
    });
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
    ]);
    expect(JSON.parse(call!.systemContent)).toEqual([{ type: 'text', content: 'You are terse.' }]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_9', name: 'get_weather', arguments: { city: 'Paris' } }],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('reads gen_ai.content.prompt / gen_ai.content.completion events with JSON message arrays', () => {
    const call = normalizeSpan(
      span(
        { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4' },
        {
          events: [
            event('gen_ai.content.prompt', {
              'gen_ai.prompt': JSON.stringify([{ role: 'user', content: 'Hi' }]),
            }),
            event('gen_ai.content.completion', {
              'gen_ai.completion': JSON.stringify([{ role: 'assistant', content: 'Hello!' }]),
            }),
          ],
        },
      ),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Hi' }] },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Hello!' }] },
    ]);
  });
});

describe('llmwatch SDK', () => {
  it('reads GenAI plus llmwatch attributes and tags', () => {
    const call = normalizeSpan(
      span(
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.response.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 10,
          'gen_ai.usage.output_tokens': 5,
          'gen_ai.prompt.name': 'greeter',
          'llmwatch.prompt.version': 'v3',
          'llmwatch.tag.team': 'growth',
          'llmwatch.tag.tier': 'pro',
          'llmwatch.input.embedding': '[0.25,0.5,-1]',
          'user.id': 'alice',
          'session.id': 'sess-1',
        },
        { scopeName: '@llmwatch/sdk' },
      ),
      'p',
    );
    expect(call).toMatchObject({
      dialect: 'llmwatch',
      promptName: 'greeter',
      promptVersion: 'v3',
      userId: 'alice',
      sessionId: 'sess-1',
      tags: { team: 'growth', tier: 'pro' },
      inputEmbedding: [0.25, 0.5, -1],
      outputEmbedding: [],
    });
  });

  it('observe() steps that are not LLM calls are not LLM calls', () => {
    const attrs = {
      'llmwatch.span.kind': 'tool',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.provider.name': 'openai',
    };
    expect(normalizeSpan(span(attrs), 'p')).toBeNull();
  });
});

describe('OpenLLMetry / Traceloop', () => {
  // Layout of openllmetry's Anthropic instrumentation (indexed prompt/completion attributes).
  const attrs: Attributes = {
    'gen_ai.system': 'Anthropic',
    'llm.request.type': 'chat',
    'gen_ai.request.model': 'claude-3-5-sonnet-20241022',
    'gen_ai.response.model': 'claude-3-5-sonnet-20241022',
    'gen_ai.response.id': 'msg_01',
    'gen_ai.usage.prompt_tokens': 2100,
    'gen_ai.usage.completion_tokens': 40,
    'llm.usage.total_tokens': 2140,
    'gen_ai.usage.cache_read_input_tokens': 2000,
    'gen_ai.usage.cache_creation_input_tokens': 0,
    'llm.is_streaming': true,
    'gen_ai.prompt.0.role': 'system',
    'gen_ai.prompt.0.content': 'You are a weather bot.',
    'gen_ai.prompt.1.role': 'user',
    'gen_ai.prompt.1.content': JSON.stringify([{ type: 'text', text: 'Weather in Oslo?' }]),
    'gen_ai.completion.0.role': 'assistant',
    'gen_ai.completion.0.content': 'Checking.',
    'gen_ai.completion.0.finish_reason': 'tool_use',
    'gen_ai.completion.0.tool_calls.0.id': 'toolu_1',
    'gen_ai.completion.0.tool_calls.0.name': 'get_weather',
    'gen_ai.completion.0.tool_calls.0.arguments': '{"city":"Oslo"}',
    'traceloop.association.properties.user_id': 'bob',
    'traceloop.association.properties.session_id': 'chat-9',
    'traceloop.association.properties.tenant': 'acme',
    'traceloop.workflow.name': 'weather_flow',
    'traceloop.prompt.key': 'weather-system',
    'traceloop.prompt.version': 4,
  };

  it('maps the indexed layout, association properties and managed prompt', () => {
    const call = normalizeSpan(
      deepFreeze(span(attrs, { scopeName: 'opentelemetry.instrumentation.anthropic' })),
      'p',
    );
    expect(call).toMatchObject({
      dialect: 'openllmetry',
      provider: 'anthropic',
      operation: 'chat',
      model: 'claude-3-5-sonnet-20241022',
      inputTokens: 2100,
      outputTokens: 40,
      cacheReadTokens: 2000,
      streaming: true,
      finishReasons: ['tool_call'],
      toolNames: ['get_weather'],
      userId: 'bob',
      sessionId: 'chat-9',
      promptName: 'weather-system',
      promptVersion: '4',
      tags: { tenant: 'acme', workflow: 'weather_flow' },
      status: 'ok',
    });
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Oslo?' }] },
    ]);
    expect(JSON.parse(call!.systemContent)).toEqual([{ type: 'text', content: 'You are a weather bot.' }]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Checking.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Oslo' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('adds cache tokens back when an instrumentation reported uncached input only', () => {
    const call = normalizeSpan(span({ ...attrs, 'gen_ai.usage.prompt_tokens': 100 }), 'p');
    expect(call?.inputTokens).toBe(2100);
  });

  it('reads the pre-gen_ai layout (llm.vendor, llm.prompts.{i}, llm.completions.{i}, llm.usage.*)', () => {
    const call = normalizeSpan(
      span({
        'llm.vendor': 'OpenAI',
        'llm.request.type': 'completion',
        'llm.request.model': 'gpt-3.5-turbo-instruct',
        'llm.response.model': 'gpt-3.5-turbo-instruct',
        'llm.usage.prompt_tokens': 5,
        'llm.usage.completion_tokens': 2,
        'llm.usage.total_tokens': 7,
        'llm.prompts.0.role': 'user',
        'llm.prompts.0.content': 'Say hi',
        'llm.completions.0.role': 'assistant',
        'llm.completions.0.content': 'hi',
        'llm.completions.0.finish_reason': 'stop',
      }),
      'p',
    );
    expect(call).toMatchObject({
      dialect: 'openllmetry',
      provider: 'openai',
      operation: 'text_completion',
      model: 'gpt-3.5-turbo-instruct',
      inputTokens: 5,
      outputTokens: 2,
      finishReasons: ['stop'],
      inputContent: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Say hi' }] }]),
      outputContent: JSON.stringify([
        { role: 'assistant', parts: [{ type: 'text', content: 'hi' }], finish_reason: 'stop' },
      ]),
    });
  });

  it('workflow / task spans are not LLM calls', () => {
    expect(
      normalizeSpan(
        span({
          'traceloop.span.kind': 'workflow',
          'traceloop.entity.name': 'weather_flow',
          'gen_ai.request.model': 'x',
        }),
        'p',
      ),
    ).toBeNull();
  });

  it('recognises the 0.27 JS layout (current GenAI names + gen_ai.usage.total_tokens) by scope', () => {
    const call = normalizeSpan(
      span(
        {
          'gen_ai.provider.name': 'openai',
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 3,
          'gen_ai.usage.output_tokens': 4,
          'gen_ai.usage.total_tokens': 7,
        },
        { scopeName: '@traceloop/instrumentation-openai' },
      ),
      'p',
    );
    expect(call?.dialect).toBe('openllmetry');
  });
});

describe('OpenInference', () => {
  // As produced by @arizeai/openinference-instrumentation-openai for a chat completion.
  const attrs: Attributes = {
    'openinference.span.kind': 'LLM',
    'llm.model_name': 'gpt-4o-mini-2024-07-18',
    'input.value': '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}',
    'input.mime_type': 'application/json',
    'llm.invocation_parameters': '{"model":"gpt-4o-mini","stream":true}',
    'llm.system': 'openai',
    'llm.provider': 'openai',
    'llm.input_messages.0.message.role': 'system',
    'llm.input_messages.0.message.content': 'Be brief.',
    'llm.input_messages.1.message.role': 'user',
    'llm.input_messages.1.message.contents.0.message_content.type': 'text',
    'llm.input_messages.1.message.contents.0.message_content.text': 'What is this?',
    'llm.input_messages.1.message.contents.1.message_content.type': 'image',
    'llm.input_messages.1.message.contents.1.message_content.image.image.url': 'https://x/cat.png',
    'llm.output_messages.0.message.role': 'assistant',
    'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_7',
    'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'lookup',
    'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"q":"cat"}',
    'llm.finish_reason': 'tool_calls',
    'output.value': '{"id":"chatcmpl-1"}',
    'output.mime_type': 'application/json',
    'llm.token_count.prompt': 900,
    'llm.token_count.completion': 20,
    'llm.token_count.total': 920,
    'llm.token_count.prompt_details.cache_read': 512,
    'llm.token_count.completion_details.reasoning': 0,
    'user.id': 'carol',
    'session.id': 'sess-oi',
    'llm.prompt_template.template': 'Describe {thing}',
    'llm.prompt_template.variables': '{"thing":"cat"}',
    'llm.prompt_template.version': 'v2',
    'prompt.id': 'describe-image',
    metadata: '{"plan":"free","shard":3}',
    'tag.tags': ['beta'],
  };

  it('maps the flattened message layout and context attributes', () => {
    const call = normalizeSpan(deepFreeze(span(attrs, { kind: 'Internal', statusCode: 'Ok' })), 'p');
    expect(call).toMatchObject({
      dialect: 'openinference',
      provider: 'openai',
      operation: 'chat',
      responseId: 'chatcmpl-1',
      requestModel: 'gpt-4o-mini-2024-07-18',
      responseModel: 'gpt-4o-mini-2024-07-18',
      inputTokens: 900,
      outputTokens: 20,
      cacheReadTokens: 512,
      streaming: true,
      finishReasons: ['tool_call'],
      toolNames: ['lookup'],
      userId: 'carol',
      sessionId: 'sess-oi',
      promptName: 'describe-image',
      promptVersion: 'v2',
      tags: { beta: '', plan: 'free', shard: '3' },
      status: 'ok',
    });
    expect(JSON.parse(call!.systemContent)).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(JSON.parse(call!.inputContent)).toEqual([
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'What is this?' },
          { type: 'uri', modality: 'image', uri: 'https://x/cat.png' },
        ],
      },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_7', name: 'lookup', arguments: { q: 'cat' } }],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('maps hosting providers: Bedrock, Vertex', () => {
    const base = { 'openinference.span.kind': 'LLM', 'llm.model_name': 'claude-3-haiku' };
    expect(
      normalizeSpan(span({ ...base, 'llm.provider': 'aws', 'llm.system': 'anthropic' }), 'p')?.provider,
    ).toBe('aws.bedrock');
    expect(
      normalizeSpan(span({ ...base, 'llm.provider': 'google', 'llm.system': 'vertexai' }), 'p')?.provider,
    ).toBe('gcp.vertex_ai');
    expect(normalizeSpan(span({ ...base, 'llm.system': 'mistralai' }), 'p')?.provider).toBe('mistral_ai');
  });

  it('falls back to input.value / output.value text', () => {
    const call = normalizeSpan(
      span({
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-3.5-turbo-instruct',
        'input.value': 'Say hi',
        'input.mime_type': 'text/plain',
        'output.value': 'hi',
        'output.mime_type': 'text/plain',
      }),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Say hi' }] },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'hi' }] },
    ]);
  });

  it('embedding spans are calls (operation embeddings); CHAIN, TOOL, RETRIEVER spans are not', () => {
    const emb = normalizeSpan(
      span({
        'openinference.span.kind': 'EMBEDDING',
        'embedding.model_name': 'text-embedding-3-small',
        'llm.system': 'openai',
        'embedding.embeddings.0.embedding.text': 'hello',
        'embedding.embeddings.0.embedding.vector': [0.1, 0.2],
      }),
      'p',
    );
    expect(emb).toMatchObject({
      operation: 'embeddings',
      model: 'text-embedding-3-small',
      provider: 'openai',
    });
    expect(JSON.parse(emb!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'hello' }] },
    ]);
    for (const kind of ['CHAIN', 'TOOL', 'RETRIEVER', 'AGENT', 'RERANKER']) {
      expect(
        normalizeSpan(
          span({
            'openinference.span.kind': kind,
            'llm.model_name': 'gpt-4o',
            'retrieval.documents.0.document.content': 'doc',
          }),
          'p',
        ),
      ).toBeNull();
    }
  });
});

describe('OpenLIT', () => {
  it('maps OpenLIT attributes and content events', () => {
    const call = normalizeSpan(
      span(
        {
          'gen_ai.system': 'openai',
          'gen_ai.operation.name': 'chat',
          'gen_ai.endpoint': 'openai.chat.completions',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.response.id': 'chatcmpl-9',
          'gen_ai.usage.input_tokens': 14,
          'gen_ai.usage.output_tokens': 7,
          'gen_ai.usage.total_tokens': 21,
          'gen_ai.usage.cost': 0.000105,
          'gen_ai.server.ttft': 0.31,
          'gen_ai.request.is_stream': true,
          'gen_ai.request.user': 'dave',
          'gen_ai.response.finish_reasons': ['stop'],
          'gen_ai.application_name': 'faq-app',
          'gen_ai.environment': 'production',
        },
        {
          resource: { 'service.name': 'unknown_service:python' },
          events: [
            event('gen_ai.content.prompt', { 'gen_ai.prompt': 'user: What is OpenLIT?' }),
            event('gen_ai.content.completion', { 'gen_ai.completion': 'An observability tool.' }),
          ],
        },
      ),
      'p',
    );
    expect(call).toMatchObject({
      dialect: 'openlit',
      serviceName: 'faq-app',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 14,
      outputTokens: 7,
      streaming: true,
      userId: 'dave',
      tags: { environment: 'production' },
      finishReasons: ['stop'],
    });
    expect(call?.ttftMs).toBeCloseTo(310, 9);
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'user: What is OpenLIT?' }] },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'An observability tool.' }] },
    ]);
  });

  it('reads the environment of OpenLIT 1.x (deployment.environment) without taking it as OpenLIT evidence', () => {
    const attrs = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'deployment.environment': 'prod',
    };
    expect(normalizeSpan(span(attrs), 'p')).toMatchObject({
      dialect: 'genai',
      tags: { environment: 'prod' },
    });
    expect(normalizeSpan(span(attrs, { scopeName: '@openlit/instrumentation-openai' }), 'p')?.dialect).toBe(
      'openlit',
    );
  });

  it('maps OpenLIT system names to current provider names', () => {
    const names: [string, string][] = [
      ['gemini', 'gcp.gemini'],
      ['vertex_ai', 'gcp.vertex_ai'],
      ['aws.bedrock', 'aws.bedrock'],
      ['mistral_ai', 'mistral_ai'],
      ['xai', 'x_ai'],
      ['ollama', 'ollama'],
    ];
    for (const [system, provider] of names) {
      expect(
        normalizeSpan(span({ 'gen_ai.system': system, 'gen_ai.request.model': 'm' }), 'p')?.provider,
      ).toBe(provider);
    }
  });
});

describe('Vercel AI SDK', () => {
  // ai.streamText.doStream span of `streamText({ experimental_telemetry: { isEnabled: true, metadata } })`.
  const attrs: Attributes = {
    'operation.name': 'ai.streamText.doStream',
    'ai.operationId': 'ai.streamText.doStream',
    'ai.model.provider': 'openai.chat',
    'ai.model.id': 'gpt-4o-mini',
    'ai.telemetry.functionId': 'answer',
    'ai.telemetry.metadata.userId': 'erin',
    'ai.telemetry.metadata.sessionId': 'sess-ai',
    'ai.telemetry.metadata.feature': 'faq',
    'ai.prompt.messages': JSON.stringify([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Rome?' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Rome' } }],
      },
      {
        role: 'tool',
        content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'weather', result: { t: 25 } }],
      },
    ]),
    'ai.response.text': '',
    'ai.response.toolCalls': JSON.stringify([
      { toolCallType: 'function', toolCallId: 'c2', toolName: 'forecast', args: '{"city":"Rome"}' },
    ]),
    'ai.response.finishReason': 'tool-calls',
    'ai.response.msToFirstChunk': 212.5,
    'ai.usage.promptTokens': 80,
    'ai.usage.completionTokens': 12,
    'gen_ai.system': 'openai.chat',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.response.id': 'chatcmpl-ai',
    'gen_ai.response.finish_reasons': ['tool-calls'],
    'gen_ai.usage.input_tokens': 80,
    'gen_ai.usage.output_tokens': 12,
  };

  it('maps the provider-call span', () => {
    const call = normalizeSpan(span(attrs, { scopeName: 'ai' }), 'p');
    expect(call).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      inputTokens: 80,
      outputTokens: 12,
      ttftMs: 212.5,
      streaming: true,
      userId: 'erin',
      sessionId: 'sess-ai',
      tags: { feature: 'faq' },
      finishReasons: ['tool_call'],
      toolNames: ['forecast'],
    });
    expect(JSON.parse(call!.systemContent)).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Rome?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'c1', name: 'weather', arguments: { city: 'Rome' } }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '{"t":25}' }] },
    ]);
    expect(JSON.parse(call!.outputContent)).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'c2', name: 'forecast', arguments: { city: 'Rome' } }],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('the outer ai.streamText span (model only as ai.model.id) is not a second call', () => {
    expect(
      normalizeSpan(
        span({
          'ai.operationId': 'ai.streamText',
          'ai.model.provider': 'openai.chat',
          'ai.model.id': 'gpt-4o-mini',
          'ai.usage.promptTokens': 80,
          'ai.usage.completionTokens': 12,
        }),
        'p',
      ),
    ).toBeNull();
  });

  it('provider ids resolve through their first dot segments', () => {
    const p = (id: string): string | undefined =>
      normalizeSpan(span({ 'gen_ai.system': id, 'gen_ai.request.model': 'm' }), 'p')?.provider;
    expect(p('anthropic.messages')).toBe('anthropic');
    expect(p('google.vertex.chat')).toBe('gcp.vertex_ai');
    expect(p('google.generative-ai')).toBe('gcp.gemini');
    expect(p('mistral.chat')).toBe('mistral_ai');
    expect(p('amazon-bedrock')).toBe('aws.bedrock');
    expect(p('somehost.chat')).toBe('somehost.chat');
  });
});

describe('not an LLM call', () => {
  it.each([
    [
      'an HTTP span',
      { 'http.request.method': 'POST', 'url.full': 'https://api.openai.com/v1/chat/completions' },
    ],
    [
      'a tool execution',
      { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'x', 'gen_ai.request.model': 'gpt-4o' },
    ],
    [
      'an agent invocation with aggregated tokens',
      {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 10,
      },
    ],
    ['a model name without any other signal', { 'gen_ai.request.model': 'gpt-4o' }],
    ['a provider without a model', { 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 10 }],
  ])('%s', (_name, attrs) => {
    expect(normalizeSpan(span(attrs as Attributes), 'p')).toBeNull();
  });
});

describe('robustness', () => {
  it('never throws on any value under any known name (seeded fuzz)', () => {
    const keys = [
      ...Object.keys(GENAI_TABLE),
      ...Object.keys(GENAI_LEGACY_TABLE),
      ...Object.keys(LLMWATCH_TABLE),
      ...Object.keys(OPENLLMETRY_TABLE),
      ...Object.keys(OPENINFERENCE_TABLE),
      ...Object.keys(OPENLIT_TABLE),
      'gen_ai.prompt.0.content',
      'gen_ai.prompt.0.role',
      'gen_ai.completion.0.tool_calls.0.arguments',
      'llm.input_messages.0.message.contents.0.message_content.text',
      'llm.output_messages.1.message.tool_calls.0.tool_call.function.name',
      'traceloop.association.properties.user_id',
      'llmwatch.tag.x',
      'embedding.embeddings.0.embedding.text',
    ];
    const values: Attributes[string][] = [
      null,
      '',
      '[',
      '{',
      '[{"role":"system"}]',
      '[{"role":"tool","parts":[1,null,{"type":"tool_call","arguments":"{"}]}]',
      '{"messages":5,"choices":[{"message":null}]}',
      '[1,2]',
      'plain',
      0,
      -1,
      1e300,
      Number.NaN,
      true,
      [],
      ['a', 1, null],
      { nested: { deep: [1] } },
      [{ role: 'user', parts: 'x' }] as unknown as Attributes[string],
    ];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const attrs: Attributes = { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai' };
      for (let k = 0; k < 8; k++) attrs[keys[rand(keys.length)]!] = values[rand(values.length)]!;
      const events = rand(3) === 0 ? [event('gen_ai.choice', { message: values[rand(values.length)]! })] : [];
      const call = normalizeSpan(span(attrs, { events }), 'p');
      if (call) {
        for (const f of ['inputContent', 'outputContent', 'systemContent'] as const) {
          if (call[f] !== '') expect(() => JSON.parse(call[f]) as unknown, f).not.toThrow();
        }
        expect(Number.isInteger(call.inputTokens) && call.inputTokens >= 0).toBe(true);
      }
    }
  });

  it('survives wrong types and garbage without throwing', () => {
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 42,
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': '17',
        'gen_ai.usage.output_tokens': -3,
        'gen_ai.usage.cache_read.input_tokens': 'lots',
        'gen_ai.response.finish_reasons': 'stop',
        'gen_ai.input.messages': 'plain text prompt',
        'gen_ai.output.messages': null,
        'gen_ai.prompt.x.content': 'not indexed',
        'llm.input_messages.99999999.message.role': 'user',
        'gen_ai.response.time_to_first_chunk': 'NaN',
      }),
      'p',
    );
    expect(call).toMatchObject({
      provider: '42',
      inputTokens: 17,
      outputTokens: 0,
      cacheReadTokens: 0,
      finishReasons: ['stop'],
      ttftMs: null,
      inputContent: JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'plain text prompt' }] },
      ]),
      outputContent: '',
    });
  });

  it('a message attribute truncated by an SDK length limit is stored as valid JSON text, not passed through', () => {
    const truncated = JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'a long prompt' }] },
    ]).slice(0, 30);
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.input.messages': truncated,
        'gen_ai.system_instructions': '[{"type":"te',
      }),
      'p',
    );
    expect(JSON.parse(call!.inputContent)).toEqual([
      { role: 'user', parts: [{ type: 'text', content: truncated }] },
    ]);
    expect(JSON.parse(call!.systemContent)).toEqual([{ type: 'text', content: '[{"type":"te' }]);
  });

  it('tags: attribute keys like __proto__ stay plain keys, and the map is bounded', () => {
    const attrs: Attributes = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'llmwatch.tag.__proto__': 'x',
      'llmwatch.tag.constructor': 'y',
      metadata: '{"__proto__":{"polluted":"1"}}',
    };
    for (let i = 0; i < 100; i++) attrs[`traceloop.association.properties.k${i}`] = String(i);
    const call = normalizeSpan(span(attrs), 'p');
    expect(call?.tags['__proto__']).toBe('x');
    expect(call?.tags['constructor']).toBe('y');
    expect(Object.keys(call!.tags)).toHaveLength(64);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(call!.tags)) as unknown).toMatchObject({ constructor: 'y', k0: '0' });
  });

  it('clamps token counts to the UInt32 column range', () => {
    const call = normalizeSpan(
      span({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1e12,
      }),
      'p',
    );
    expect(call?.inputTokens).toBe(4294967295);
  });

  it('latency is exact for nanosecond timestamps and never negative', () => {
    const s = span({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    expect(normalizeSpan({ ...s, endTimeUnixNano: '1763900000000000001' }, 'p')?.latencyMs).toBe(0.000001);
    expect(normalizeSpan({ ...s, endTimeUnixNano: '1763899999000000000' }, 'p')?.latencyMs).toBe(0);
  });
});
