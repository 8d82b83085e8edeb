import {
  DEFAULT_CONTENT,
  resolveUsage,
  splitFragments,
  splitWords,
  startServer,
  textLength,
} from './server.js';
import type { RouteAnswer, RouteContext, SseEvent } from './server.js';
import type { FakeServer, FakeServerOptions } from './types.js';

type Body = Record<string, unknown>;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

function messages({ request, reply, seq }: RouteContext): RouteAnswer {
  const body = (request.body ?? {}) as Body;
  const model = reply.model ?? (typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5');
  const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({ ...c, id: c.id ?? `toolu_fake_${seq}_${i}` }));
  const content = reply.content ?? (toolCalls.length ? '' : DEFAULT_CONTENT);
  const inputChars =
    (Array.isArray(body.messages)
      ? body.messages.reduce((n: number, m) => n + textLength((m as Body)?.content), 0)
      : 0) + textLength(body.system);
  const u = resolveUsage(
    reply,
    inputChars,
    content.length + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0),
  );
  // Anthropic's input_tokens excludes cached tokens; FakeUsage.inputTokens includes them.
  const uncached = Math.max(0, u.inputTokens - u.cacheReadTokens - u.cacheWriteTokens);
  const stop = reply.finishReason ?? (toolCalls.length ? 'tool_use' : 'end_turn');
  const blocks = [
    ...(content ? [{ type: 'text', text: content, citations: null }] : []),
    ...toolCalls.map((c) => ({
      type: 'tool_use',
      id: c.id,
      name: c.name,
      input: JSON.parse(c.arguments || '{}') as unknown,
    })),
  ];
  const usage = (outputTokens: number) => ({
    input_tokens: uncached,
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: u.reasoningTokens ? { thinking_tokens: u.reasoningTokens } : null,
    server_tool_use: null,
    service_tier: 'standard',
  });
  const message = (content: unknown[], stop_reason: string | null, outputTokens: number) => ({
    id: `msg_fake_${seq}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason,
    stop_sequence: null,
    usage: usage(outputTokens),
  });
  if (body.stream !== true) return { kind: 'json', body: message(blocks, stop, u.outputTokens) };

  const ev = (type: string, data: Body = {}): SseEvent => ({ event: type, data: { type, ...data } });
  const events: SseEvent[] = [ev('message_start', { message: message([], null, 1) }), ev('ping')];
  let index = 0;
  if (content) {
    events.push(
      ev('content_block_start', { index, content_block: { type: 'text', text: '', citations: null } }),
    );
    for (const word of splitWords(content))
      events.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: word } }));
    events.push(ev('content_block_stop', { index }));
    index++;
  }
  for (const c of toolCalls) {
    events.push(
      ev('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
      }),
    );
    for (const frag of splitFragments(c.arguments)) {
      events.push(
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: frag } }),
      );
    }
    events.push(ev('content_block_stop', { index }));
    index++;
  }
  const { service_tier: _tier, cache_creation: _cc, ...deltaUsage } = usage(u.outputTokens);
  events.push(ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: deltaUsage }));
  events.push(ev('message_stop'));
  return { kind: 'sse', events };
}

/**
 * A fake Anthropic Messages API on 127.0.0.1 (`POST /v1/messages`, JSON and SSE), with cache
 * read/creation tokens and tool use. Use with `new Anthropic({ baseURL: fake.url, apiKey: 'test' })`.
 */
export function startFakeAnthropic(options?: FakeServerOptions): Promise<FakeServer> {
  return startServer(
    {
      basePath: '',
      route: (ctx) =>
        ctx.request.method === 'POST' && ctx.request.path === '/v1/messages' ? messages(ctx) : undefined,
      errorType: (status) => ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
      errorBody: (_status, message, type) => ({ type: 'error', error: { type, message } }),
      requestIdHeader: 'request-id',
    },
    options,
  );
}
