import { GENAI, GENAI_OPERATION, GENAI_PROVIDER } from '@llmwatch/core';
import type { GenAiMessage, GenAiMessagePart } from '@llmwatch/core';
import type { Attributes } from '@opentelemetry/api';
import { partsOf, recordContent, stringify } from './content.js';
import { put, serverOf, wrapMethod } from './instrument.js';
import type { CallRecorder, CallSpec } from './instrument.js';
import type { Dict } from './internal-types.js';
import { runtime } from './runtime.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function chatRequest(p: Dict, a: Attributes): string {
  const model = typeof p.model === 'string' ? p.model : '';
  a[GENAI.requestModel] = model;
  put(a, GENAI.requestMaxTokens, p.max_completion_tokens ?? p.max_tokens);
  put(a, GENAI.requestTemperature, p.temperature);
  put(a, GENAI.requestTopP, p.top_p);
  put(a, GENAI.requestFrequencyPenalty, p.frequency_penalty);
  put(a, GENAI.requestPresencePenalty, p.presence_penalty);
  put(a, GENAI.requestSeed, p.seed);
  put(a, GENAI.requestStopSequences, typeof p.stop === 'string' ? [p.stop] : p.stop);
  if (typeof p.n === 'number' && p.n !== 1) a[GENAI.requestChoiceCount] = p.n;
  put(a, GENAI.openaiRequestServiceTier, p.service_tier);
  a[GENAI.requestStream] = p.stream === true;
  return model;
}

function chatInput(rec: CallRecorder, p: Dict): void {
  if (!Array.isArray(p.messages)) return;
  const system: GenAiMessagePart[] = [];
  const input: GenAiMessage[] = [];
  for (const m of p.messages as Dict[]) {
    if (!m || typeof m !== 'object') continue;
    const role = String(m.role);
    if (role === 'system' || role === 'developer') {
      system.push(...partsOf(m.content));
      continue;
    }
    const parts =
      role === 'tool'
        ? [{ type: 'tool_call_response', id: m.tool_call_id as string, response: stringify(m.content) }]
        : partsOf(m.content);
    if (Array.isArray(m.tool_calls)) for (const c of m.tool_calls as Dict[]) parts.push(toolPart(c));
    input.push({ role, parts });
  }
  rec.redacted += recordContent(rec.span, GENAI.systemInstructions, system);
  rec.redacted += recordContent(rec.span, GENAI.inputMessages, input);
}

function toolPart(c: Dict): GenAiMessagePart {
  const fn = (c.function ?? {}) as Dict;
  return {
    type: 'tool_call',
    id: c.id as string,
    name: fn.name as string,
    arguments: fn.arguments as string,
  };
}

function chatUsage(rec: CallRecorder, u: Dict | null | undefined): void {
  if (!u) return;
  const pd = u.prompt_tokens_details as Dict | undefined;
  const cd = u.completion_tokens_details as Dict | undefined;
  rec.usage(
    num(u.prompt_tokens),
    num(u.completion_tokens),
    num(pd?.cached_tokens),
    0,
    num(cd?.reasoning_tokens),
  );
}

function responseIds(rec: CallRecorder, b: Dict): void {
  if (typeof b.id === 'string') rec.span.setAttribute(GENAI.responseId, b.id);
  if (typeof b.model === 'string') {
    rec.span.setAttribute(GENAI.responseModel, b.model);
    rec.model = b.model;
  }
  if (typeof b.system_fingerprint === 'string')
    rec.span.setAttribute(GENAI.openaiResponseSystemFingerprint, b.system_fingerprint);
  if (typeof b.service_tier === 'string')
    rec.span.setAttribute(GENAI.openaiResponseServiceTier, b.service_tier);
}

interface ChoiceAcc {
  text: string;
  finish: string;
  tools: { id: string; name: string; arguments: string }[];
}

/** Exported for tests (which make its steps throw), not from the package index. */
export const chat: CallSpec = {
  operation: GENAI_OPERATION.chat,
  provider: GENAI_PROVIDER.openai,
  request: chatRequest,
  requestContent: chatInput,
  response(rec, b) {
    responseIds(rec, b);
    const choices = Array.isArray(b.choices) ? (b.choices as Dict[]) : [];
    rec.span.setAttribute(
      GENAI.responseFinishReasons,
      choices.map((c) => String(c.finish_reason ?? '')),
    );
    chatUsage(rec, b.usage as Dict | undefined);
    if (runtime.capture !== 'none') {
      const out: GenAiMessage[] = choices.map((c) => {
        const m = (c.message ?? {}) as Dict;
        const parts = partsOf(m.content);
        if (Array.isArray(m.tool_calls)) for (const t of m.tool_calls as Dict[]) parts.push(toolPart(t));
        return { role: 'assistant', parts, finish_reason: String(c.finish_reason ?? '') };
      });
      rec.redacted += recordContent(rec.span, GENAI.outputMessages, out);
    }
  },
  chunk(rec, c) {
    let st = rec.state;
    if (!st) {
      st = rec.state = { choices: [] as ChoiceAcc[] };
      responseIds(rec, c);
    }
    if (c.usage) chatUsage(rec, c.usage as Dict);
    const choices = c.choices as Dict[] | undefined;
    if (!choices || choices.length === 0) return;
    const acc = st.choices as ChoiceAcc[];
    const capture = runtime.capture !== 'none';
    for (const ch of choices) {
      const i = typeof ch.index === 'number' ? ch.index : 0;
      const a = (acc[i] ??= { text: '', finish: '', tools: [] });
      if (ch.finish_reason) a.finish = String(ch.finish_reason);
      if (!capture) continue;
      const d = ch.delta as Dict | undefined;
      if (!d) continue;
      if (typeof d.content === 'string') a.text += d.content;
      if (Array.isArray(d.tool_calls)) {
        for (const t of d.tool_calls as Dict[]) {
          const ti = typeof t.index === 'number' ? t.index : 0;
          const tool = (a.tools[ti] ??= { id: '', name: '', arguments: '' });
          const fn = (t.function ?? {}) as Dict;
          if (typeof t.id === 'string') tool.id = t.id;
          if (typeof fn.name === 'string') tool.name += fn.name;
          if (typeof fn.arguments === 'string') tool.arguments += fn.arguments;
        }
      }
    }
  },
  streamEnd(rec) {
    const acc = (rec.state?.choices ?? []) as ChoiceAcc[];
    if (acc.length === 0) return;
    rec.span.setAttribute(
      GENAI.responseFinishReasons,
      acc.map((a) => a?.finish ?? ''),
    );
    if (runtime.capture !== 'none') {
      const out: GenAiMessage[] = acc.map((a) => ({
        role: 'assistant',
        parts: [
          ...(a.text ? [{ type: 'text', content: a.text }] : []),
          ...a.tools
            .filter(Boolean)
            .map((t) => ({ type: 'tool_call', id: t.id, name: t.name, arguments: t.arguments })),
        ],
        finish_reason: a.finish,
      }));
      rec.redacted += recordContent(rec.span, GENAI.outputMessages, out);
    }
  },
};

function responsesResult(rec: CallRecorder, r: Dict): void {
  responseIds(rec, r);
  const output = Array.isArray(r.output) ? (r.output as Dict[]) : [];
  const hasTool = output.some((o) => o?.type === 'function_call');
  const incomplete = (r.incomplete_details as Dict | null | undefined)?.reason;
  const finish =
    r.status === 'completed' ? (hasTool ? 'tool_calls' : 'stop') : String(incomplete ?? r.status ?? '');
  rec.span.setAttribute(GENAI.responseFinishReasons, [finish]);
  const u = r.usage as Dict | null | undefined;
  if (u) {
    const idt = u.input_tokens_details as Dict | undefined;
    const odt = u.output_tokens_details as Dict | undefined;
    rec.usage(
      num(u.input_tokens),
      num(u.output_tokens),
      num(idt?.cached_tokens),
      0,
      num(odt?.reasoning_tokens),
    );
  }
  if (runtime.capture !== 'none') {
    const parts: GenAiMessagePart[] = [];
    for (const o of output) {
      if (o?.type === 'message') parts.push(...partsOf(o.content));
      else if (o?.type === 'function_call')
        parts.push({
          type: 'tool_call',
          id: o.call_id as string,
          name: o.name as string,
          arguments: o.arguments as string,
        });
    }
    rec.redacted += recordContent(rec.span, GENAI.outputMessages, [
      { role: 'assistant', parts, finish_reason: finish },
    ]);
  }
}

const responses: CallSpec = {
  operation: GENAI_OPERATION.chat,
  provider: GENAI_PROVIDER.openai,
  request(p, a) {
    const model = typeof p.model === 'string' ? p.model : '';
    a[GENAI.requestModel] = model;
    put(a, GENAI.requestMaxTokens, p.max_output_tokens);
    put(a, GENAI.requestTemperature, p.temperature);
    put(a, GENAI.requestTopP, p.top_p);
    put(a, GENAI.openaiRequestServiceTier, p.service_tier);
    a[GENAI.requestStream] = p.stream === true;
    const conv =
      typeof p.conversation === 'string' ? p.conversation : (p.conversation as Dict | undefined)?.id;
    if (typeof conv === 'string') a[GENAI.conversationId] = conv;
    return model;
  },
  requestContent(rec, p) {
    if (typeof p.instructions === 'string')
      rec.redacted += recordContent(rec.span, GENAI.systemInstructions, [
        { type: 'text', content: p.instructions },
      ]);
    const input: GenAiMessage[] = [];
    if (typeof p.input === 'string')
      input.push({ role: 'user', parts: [{ type: 'text', content: p.input }] });
    else if (Array.isArray(p.input)) {
      for (const item of p.input as Dict[]) {
        if (!item || typeof item !== 'object') continue;
        if (item.type === 'function_call_output') {
          input.push({
            role: 'tool',
            parts: [
              { type: 'tool_call_response', id: item.call_id as string, response: stringify(item.output) },
            ],
          });
        } else if (item.type === 'function_call') {
          input.push({
            role: 'assistant',
            parts: [
              {
                type: 'tool_call',
                id: item.call_id as string,
                name: item.name as string,
                arguments: item.arguments as string,
              },
            ],
          });
        } else if (typeof item.role === 'string') {
          input.push({ role: item.role, parts: partsOf(item.content) });
        }
      }
    }
    rec.redacted += recordContent(rec.span, GENAI.inputMessages, input);
  },
  response: responsesResult,
  chunk(rec, ev) {
    const type = ev.type;
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      if (ev.response && typeof ev.response === 'object') {
        responsesResult(rec, ev.response as Dict);
        rec.state = { done: true };
      }
    } else if (type === 'response.created' && !rec.state && ev.response) {
      responseIds(rec, ev.response as Dict);
    }
  },
  streamEnd() {},
};

const embeddings: CallSpec = {
  operation: GENAI_OPERATION.embeddings,
  provider: GENAI_PROVIDER.openai,
  request(p, a) {
    const model = typeof p.model === 'string' ? p.model : '';
    a[GENAI.requestModel] = model;
    if (typeof p.encoding_format === 'string') a[GENAI.requestEncodingFormats] = [p.encoding_format];
    put(a, GENAI.embeddingsDimensionCount, p.dimensions);
    return model;
  },
  response(rec, b) {
    if (typeof b.model === 'string') {
      rec.span.setAttribute(GENAI.responseModel, b.model);
      rec.model = b.model;
    }
    const first = Array.isArray(b.data) ? (b.data[0] as Dict | undefined) : undefined;
    if (first && Array.isArray(first.embedding))
      rec.span.setAttribute(GENAI.embeddingsDimensionCount, first.embedding.length);
    const u = b.usage as Dict | undefined;
    if (u) rec.usage(num(u.prompt_tokens), 0, 0, 0, 0);
  },
  chunk() {},
  streamEnd() {},
};

/**
 * Instruments an `openai` client in place and returns it: `chat.completions.create` (and the
 * helpers built on it: `stream()`, `parse()`), `responses.create` (and `responses.stream()`),
 * `embeddings.create`. Each call returns the provider's own `APIPromise`/`Stream`, unchanged.
 * Copies made later with `client.withOptions()` are not instrumented: wrap them too.
 */
export function wrapOpenAI<T extends object>(client: T): T {
  const c = client as Dict;
  const server = serverOf(client);
  wrapMethod((c.chat as Dict | undefined)?.completions, 'create', chat, server);
  wrapMethod(c.responses, 'create', responses, server);
  wrapMethod(c.embeddings, 'create', embeddings, server);
  return client;
}
