import {
  DEFAULT_CONTENT,
  resolveUsage,
  splitFragments,
  splitWords,
  startServer,
  textLength,
  tokensOf,
} from './server.js';
import type { RouteAnswer, RouteContext, SseEvent } from './server.js';
import type { FakeServer, FakeServerOptions, FakeToolCall, FakeUsage } from './types.js';

type Body = Record<string, unknown>;

const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
const messageText = (messages: unknown): number =>
  Array.isArray(messages) ? messages.reduce((n: number, m) => n + textLength((m as Body)?.content), 0) : 0;
const toolChars = (calls: readonly FakeToolCall[]): number =>
  calls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);

function chatUsage(u: FakeUsage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chat({ request, reply, seq }: RouteContext): RouteAnswer {
  const body = (request.body ?? {}) as Body;
  const model = reply.model ?? str(body.model, 'gpt-4o-mini');
  const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({ ...c, id: c.id ?? `call_fake_${seq}_${i}` }));
  const content = reply.content ?? (toolCalls.length ? '' : DEFAULT_CONTENT);
  const usage = resolveUsage(reply, messageText(body.messages), content.length + toolChars(toolCalls));
  const finish = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
  const id = `chatcmpl-fake-${seq}`;
  const created = Math.floor(Date.now() / 1000);
  const common = { id, created, model, system_fingerprint: 'fp_fake', service_tier: 'default' };

  if (body.stream !== true) {
    const message = {
      role: 'assistant',
      content: content || (toolCalls.length ? null : ''),
      refusal: null,
      annotations: [],
      ...(toolCalls.length && {
        tool_calls: toolCalls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      }),
    };
    return {
      kind: 'json',
      body: {
        ...common,
        object: 'chat.completion',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: chatUsage(usage),
      },
    };
  }

  const includeUsage = (body.stream_options as Body | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra?: Body): SseEvent => ({
    data: {
      ...common,
      object: 'chat.completion.chunk',
      choices,
      ...(includeUsage && { usage: null }),
      ...extra,
    },
  });
  const delta = (d: Body, finish_reason: string | null = null) => ({
    index: 0,
    delta: d,
    logprobs: null,
    finish_reason,
  });
  const events: SseEvent[] = [chunk([delta({ role: 'assistant', content: '', refusal: null })])];
  for (const word of splitWords(content)) events.push(chunk([delta({ content: word })]));
  toolCalls.forEach((c, index) => {
    events.push(
      chunk([
        delta({
          tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }],
        }),
      ]),
    );
    for (const frag of splitFragments(c.arguments))
      events.push(chunk([delta({ tool_calls: [{ index, function: { arguments: frag } }] })]));
  });
  events.push(chunk([delta({}, finish)]));
  if (includeUsage) events.push(chunk([], { usage: chatUsage(usage) }));
  return { kind: 'sse', events, done: true };
}

function responses({ request, reply, seq }: RouteContext): RouteAnswer {
  const body = (request.body ?? {}) as Body;
  const model = reply.model ?? str(body.model, 'gpt-4o-mini');
  const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({ ...c, id: c.id ?? `call_fake_${seq}_${i}` }));
  const content = reply.content ?? (toolCalls.length ? '' : DEFAULT_CONTENT);
  const inputChars =
    (typeof body.input === 'string' ? body.input.length : messageText(body.input)) +
    textLength(body.instructions);
  const u = resolveUsage(reply, inputChars, content.length + toolChars(toolCalls));
  const id = `resp_fake_${seq}`;
  const msgId = `msg_fake_${seq}`;
  const textPart = { type: 'output_text', text: content, annotations: [], logprobs: [] };
  const messageItem = {
    id: msgId,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [textPart],
  };
  const toolItems = toolCalls.map((c, i) => ({
    id: `fc_fake_${seq}_${i}`,
    type: 'function_call',
    status: 'completed',
    call_id: c.id,
    name: c.name,
    arguments: c.arguments,
  }));
  const output = [...(content ? [messageItem] : []), ...toolItems];
  const response = (status: string, out: unknown[], usage: unknown) => ({
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output: out,
    usage,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    metadata: {},
    parallel_tool_calls: true,
    temperature: body.temperature ?? 1,
    top_p: body.top_p ?? 1,
    max_output_tokens: body.max_output_tokens ?? null,
    tool_choice: 'auto',
    tools: body.tools ?? [],
    text: { format: { type: 'text' } },
    truncation: 'disabled',
    service_tier: 'default',
  });
  const usage = {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
  if (body.stream !== true) return { kind: 'json', body: response('completed', output, usage) };

  let sequence_number = 0;
  const ev = (type: string, data: Body): SseEvent => ({
    event: type,
    data: { type, sequence_number: sequence_number++, ...data },
  });
  const events: SseEvent[] = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
  ];
  let outputIndex = 0;
  if (content) {
    const output_index = outputIndex++;
    const at = { item_id: msgId, output_index, content_index: 0 };
    events.push(
      ev('response.output_item.added', {
        output_index,
        item: { ...messageItem, status: 'in_progress', content: [] },
      }),
    );
    events.push(ev('response.content_part.added', { ...at, part: { ...textPart, text: '' } }));
    for (const word of splitWords(content))
      events.push(ev('response.output_text.delta', { ...at, delta: word, logprobs: [] }));
    events.push(ev('response.output_text.done', { ...at, text: content, logprobs: [] }));
    events.push(ev('response.content_part.done', { ...at, part: textPart }));
    events.push(ev('response.output_item.done', { output_index, item: messageItem }));
  }
  for (const item of toolItems) {
    const output_index = outputIndex++;
    events.push(
      ev('response.output_item.added', {
        output_index,
        item: { ...item, status: 'in_progress', arguments: '' },
      }),
    );
    for (const frag of splitFragments(item.arguments)) {
      events.push(
        ev('response.function_call_arguments.delta', { item_id: item.id, output_index, delta: frag }),
      );
    }
    events.push(
      ev('response.function_call_arguments.done', {
        item_id: item.id,
        output_index,
        name: item.name,
        arguments: item.arguments,
      }),
    );
    events.push(ev('response.output_item.done', { output_index, item }));
  }
  events.push(ev('response.completed', { response: response('completed', output, usage) }));
  return { kind: 'sse', events };
}

function embeddings({ request, reply }: RouteContext): RouteAnswer {
  const body = (request.body ?? {}) as Body;
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims = reply.embeddingDimensions ?? (typeof body.dimensions === 'number' ? body.dimensions : 8);
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((input, index) => {
    // Deterministic vector from the input text, so equal inputs embed equally.
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    const vec = Array.from(
      { length: dims },
      (_, d) => (((text.charCodeAt(d % Math.max(1, text.length)) || 0) * (d + 1)) % 97) / 97,
    );
    const embedding = base64 ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
    return { object: 'embedding', index, embedding };
  });
  const inputTokens = reply.usage?.inputTokens ?? tokensOf(textLength(inputs));
  return {
    kind: 'json',
    body: {
      object: 'list',
      data,
      model: reply.model ?? str(body.model, 'text-embedding-3-small'),
      usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
    },
  };
}

const ROUTES: Record<string, (ctx: RouteContext) => RouteAnswer> = {
  '/chat/completions': chat,
  '/responses': responses,
  '/embeddings': embeddings,
};

/**
 * A fake OpenAI API on 127.0.0.1: chat.completions (incl. streaming with `include_usage` and tool
 * calls), responses (incl. streaming events) and embeddings (float and base64).
 * Use with `new OpenAI({ baseURL: fake.url, apiKey: 'test' })`.
 */
export function startFakeOpenAI(options?: FakeServerOptions): Promise<FakeServer> {
  return startServer(
    {
      basePath: '/v1',
      route: (ctx) =>
        ctx.request.method === 'POST' ? ROUTES[ctx.request.path.replace(/^\/v1/, '')]?.(ctx) : undefined,
      errorType: (status) =>
        status === 429
          ? 'rate_limit_exceeded'
          : status === 401
            ? 'invalid_request_error'
            : status >= 500
              ? 'server_error'
              : 'invalid_request_error',
      errorBody: (_status, message, type) => ({ error: { message, type, param: null, code: type } }),
      requestIdHeader: 'x-request-id',
    },
    options,
  );
}
