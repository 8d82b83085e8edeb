import { GENAI, GENAI_OPERATION, GENAI_PROVIDER } from '@llmwatch/core';
import type { GenAiMessage, GenAiMessagePart } from '@llmwatch/core';
import { partsOf, recordContent } from './content.js';
import { put, serverOf, wrapMethod } from './instrument.js';
import type { CallRecorder, CallSpec } from './instrument.js';
import type { Dict } from './internal-types.js';
import { runtime } from './runtime.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/**
 * Anthropic's `input_tokens` excludes cached tokens; GenAI `gen_ai.usage.input_tokens` includes
 * them, so the three are summed (cache read/creation stay available as subsets).
 */
function usage(rec: CallRecorder, u: Dict, outputTokens: number): void {
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  const reasoning = num((u.output_tokens_details as Dict | null | undefined)?.thinking_tokens);
  rec.usage(num(u.input_tokens) + read + write, outputTokens, read, write, reasoning);
}

interface Block {
  type: string;
  text: string;
  id?: string;
  name?: string;
}

const messages: CallSpec = {
  operation: GENAI_OPERATION.chat,
  provider: GENAI_PROVIDER.anthropic,
  request(p, a) {
    const model = typeof p.model === 'string' ? p.model : '';
    a[GENAI.requestModel] = model;
    put(a, GENAI.requestMaxTokens, p.max_tokens);
    put(a, GENAI.requestTemperature, p.temperature);
    put(a, GENAI.requestTopP, p.top_p);
    put(a, GENAI.requestTopK, p.top_k);
    put(a, GENAI.requestStopSequences, p.stop_sequences);
    a[GENAI.requestStream] = p.stream === true;
    return model;
  },
  requestContent(rec, p) {
    if (p.system !== undefined)
      rec.redacted += recordContent(rec.span, GENAI.systemInstructions, partsOf(p.system));
    if (!Array.isArray(p.messages)) return;
    const input: GenAiMessage[] = [];
    for (const m of p.messages as Dict[]) {
      if (!m || typeof m !== 'object') continue;
      const parts = partsOf(m.content);
      // A user turn made only of tool results is the tool's answer.
      const role =
        m.role === 'user' && parts.length > 0 && parts.every((x) => x.type === 'tool_call_response')
          ? 'tool'
          : String(m.role);
      input.push({ role, parts });
    }
    rec.redacted += recordContent(rec.span, GENAI.inputMessages, input);
  },
  response(rec, b) {
    if (typeof b.id === 'string') rec.span.setAttribute(GENAI.responseId, b.id);
    if (typeof b.model === 'string') {
      rec.span.setAttribute(GENAI.responseModel, b.model);
      rec.model = b.model;
    }
    const stop = typeof b.stop_reason === 'string' ? b.stop_reason : '';
    if (stop) rec.span.setAttribute(GENAI.responseFinishReasons, [stop]);
    if (b.usage && typeof b.usage === 'object')
      usage(rec, b.usage as Dict, num((b.usage as Dict).output_tokens));
    if (runtime.capture !== 'none') {
      rec.redacted += recordContent(rec.span, GENAI.outputMessages, [
        { role: 'assistant', parts: partsOf(b.content), finish_reason: stop },
      ]);
    }
  },
  chunk(rec, ev) {
    switch (ev.type) {
      case 'message_start': {
        const m = (ev.message ?? {}) as Dict;
        rec.state = { usage: { ...(m.usage as Dict) }, stop: '', blocks: [] as Block[] };
        if (typeof m.id === 'string') rec.span.setAttribute(GENAI.responseId, m.id);
        if (typeof m.model === 'string') {
          rec.span.setAttribute(GENAI.responseModel, m.model);
          rec.model = m.model;
        }
        return;
      }
      case 'message_delta': {
        const st = rec.state;
        if (!st) return;
        const d = ev.delta as Dict | undefined;
        if (typeof d?.stop_reason === 'string') st.stop = d.stop_reason;
        // Counters in message_delta are cumulative totals: overwrite the ones present.
        const u = ev.usage as Dict | undefined;
        if (u) for (const k in u) if (u[k] !== null && u[k] !== undefined) (st.usage as Dict)[k] = u[k];
        return;
      }
      case 'content_block_start': {
        if (!rec.state || runtime.capture === 'none') return;
        const b = (ev.content_block ?? {}) as Dict;
        (rec.state.blocks as Block[])[num(ev.index)] = {
          type: String(b.type),
          text: typeof b.text === 'string' ? b.text : '',
          id: b.id as string | undefined,
          name: b.name as string | undefined,
        };
        return;
      }
      case 'content_block_delta': {
        if (!rec.state || runtime.capture === 'none') return;
        const block = (rec.state.blocks as Block[])[num(ev.index)];
        const d = ev.delta as Dict | undefined;
        if (!block || !d) return;
        if (d.type === 'text_delta') block.text += d.text as string;
        else if (d.type === 'input_json_delta') block.text += d.partial_json as string;
        else if (d.type === 'thinking_delta') block.text += d.thinking as string;
        return;
      }
    }
  },
  streamEnd(rec) {
    const st = rec.state;
    if (!st) return;
    const stop = st.stop as string;
    if (stop) rec.span.setAttribute(GENAI.responseFinishReasons, [stop]);
    const u = st.usage as Dict;
    usage(rec, u, num(u.output_tokens));
    if (runtime.capture !== 'none') {
      const parts: GenAiMessagePart[] = [];
      for (const b of st.blocks as Block[]) {
        if (!b) continue;
        if (b.type === 'text') parts.push({ type: 'text', content: b.text });
        else if (b.type === 'tool_use')
          parts.push({ type: 'tool_call', id: b.id, name: b.name, arguments: b.text || '{}' });
        else if (b.type === 'thinking') parts.push({ type: 'reasoning', content: b.text });
      }
      rec.redacted += recordContent(rec.span, GENAI.outputMessages, [
        { role: 'assistant', parts, finish_reason: stop },
      ]);
    }
  },
};

/**
 * Instruments an `@anthropic-ai/sdk` client in place and returns it: `messages.create` (both
 * modes) and `messages.stream()` (its `MessageStream` calls `messages.create`, so events,
 * `finalMessage()` and abort work as usual). Usage includes cache read and creation tokens.
 */
export function wrapAnthropic<T extends object>(client: T): T {
  wrapMethod((client as Dict).messages, 'create', messages, serverOf(client));
  return client;
}
