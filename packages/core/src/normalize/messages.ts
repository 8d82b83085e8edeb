import type { GenAiMessage, GenAiMessagePart } from '../llm-call.js';
import type { AttributeValue, Attributes, DecodedSpanEvent } from '../span.js';
import { FINISH_REASON_ALIASES } from './tables.js';

/**
 * Every dialect's message layout → the GenAI `gen_ai.input.messages` / `gen_ai.output.messages`
 * shape: `[{role, parts: [{type: 'text', content}, {type: 'tool_call', id, name, arguments}, …]}]`.
 */

export function normalizeFinishReason(reason: string): string {
  const lower = reason.toLowerCase();
  return FINISH_REASON_ALIASES[lower] ?? lower;
}

/** Parses JSON text when it looks like JSON; otherwise returns the text itself. */
export function parseMaybeJson(text: string): unknown {
  const c = text.charCodeAt(0);
  // '{' '[' '"' — anything else (plain prose) is not worth a try/catch.
  if (c !== 123 && c !== 91 && c !== 34) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

// ── Indexed attribute layouts (OpenLLMetry `gen_ai.prompt.{i}.*`, OpenInference `llm.*_messages.{i}.*`) ──

interface ToolCallAcc {
  id?: string;
  name?: string;
  arguments?: string;
}

interface ContentPartAcc {
  type?: string;
  text?: string;
  imageUrl?: string;
}

export interface MessageAcc {
  role?: string;
  content?: AttributeValue;
  name?: string;
  toolCallId?: string;
  finishReason?: string;
  functionCallName?: string;
  functionCallArguments?: string;
  toolCalls?: ToolCallAcc[];
  contents?: ContentPartAcc[];
}

/** Index at `key[start]` up to the next '.', or -1. */
function readIndex(key: string, start: number): { index: number; next: number } | null {
  let i = start;
  let n = 0;
  while (i < key.length) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    i++;
  }
  if (i === start || n > 10_000) return null;
  if (i < key.length && key.charCodeAt(i) !== 46) return null;
  return { index: n, next: i + 1 };
}

function slotAt<T>(list: T[], index: number, make: () => T): T {
  let v = list[index];
  if (v === undefined) {
    v = make();
    list[index] = v;
  }
  return v;
}

// Sub-layouts of an indexed message field: OpenInference nests its fields under `message.`
// (`<i>.message.role`), tool calls under `tool_call.` and content parts under `contents.<j>.`.
const OI_MESSAGE = 'message.';
const TOOL_CALLS = 'tool_calls.';
const OI_TOOL_CALL = 'tool_call.';
const OI_CONTENTS = 'contents.';

/**
 * Records one indexed attribute. `key.slice(start)` is `{i}.{field}` where field is OpenLLMetry's
 * (`role`, `content`, `tool_calls.{j}.name` …) or OpenInference's (`message.role`,
 * `message.contents.{j}.message_content.text`, `message.tool_calls.{j}.tool_call.function.name` …).
 * Returns false when the key is not a message attribute.
 */
export function addIndexedMessageAttribute(
  list: MessageAcc[],
  key: string,
  start: number,
  value: AttributeValue,
): boolean {
  const at = readIndex(key, start);
  if (!at || at.next >= key.length) return false;
  const msg = slotAt(list, at.index, () => ({}) as MessageAcc);
  let p = at.next;
  if (key.startsWith(OI_MESSAGE, p)) p += OI_MESSAGE.length;
  const field = key.slice(p);
  switch (field) {
    case 'role':
      msg.role = str(value);
      return true;
    case 'content':
      msg.content = value;
      return true;
    case 'name':
      msg.name = str(value);
      return true;
    case 'tool_call_id':
      msg.toolCallId = str(value);
      return true;
    case 'finish_reason':
      msg.finishReason = str(value);
      return true;
    case 'function_call_name':
    case 'function_call.name':
      msg.functionCallName = str(value);
      return true;
    case 'function_call_arguments_json':
    case 'function_call.arguments':
      msg.functionCallArguments = str(value);
      return true;
  }
  if (field.startsWith(TOOL_CALLS)) {
    const t = readIndex(field, TOOL_CALLS.length);
    if (!t) return false;
    const call = slotAt((msg.toolCalls ??= []), t.index, () => ({}) as ToolCallAcc);
    let sub = field.slice(t.next);
    if (sub.startsWith(OI_TOOL_CALL)) sub = sub.slice(OI_TOOL_CALL.length);
    if (sub === 'id') call.id = str(value);
    else if (sub === 'name' || sub === 'function.name') call.name = str(value);
    else if (sub === 'arguments' || sub === 'function.arguments') call.arguments = str(value);
    return true;
  }
  if (field.startsWith(OI_CONTENTS)) {
    const t = readIndex(field, OI_CONTENTS.length);
    if (!t) return false;
    const part = slotAt((msg.contents ??= []), t.index, () => ({}) as ContentPartAcc);
    const sub = field.slice(t.next);
    if (sub === 'message_content.type') part.type = str(value);
    else if (sub === 'message_content.text') part.text = str(value);
    else if (sub === 'message_content.image.image.url') part.imageUrl = str(value);
    return true;
  }
  return false;
}

function toolCallPart(id: string | undefined, name: string | undefined, args: unknown): GenAiMessagePart {
  const part: GenAiMessagePart = { type: 'tool_call' };
  if (id !== undefined) part.id = id;
  if (name !== undefined) part.name = name;
  if (args !== undefined) part.arguments = typeof args === 'string' ? parseMaybeJson(args) : args;
  return part;
}

/** Content that is a string, or a JSON array of provider content blocks, → parts. */
function contentParts(content: unknown, parts: GenAiMessagePart[]): void {
  if (content === undefined || content === null || content === '') return;
  if (typeof content === 'string') {
    if (content.charCodeAt(0) === 91) {
      const parsed = parseMaybeJson(content);
      if (
        Array.isArray(parsed) &&
        parsed.length > 0 &&
        parsed.every((b) => isRecord(b) && typeof b.type === 'string')
      ) {
        blockParts(parsed as Record<string, unknown>[], parts);
        return;
      }
    }
    parts.push({ type: 'text', content });
    return;
  }
  if (Array.isArray(content)) {
    blockParts(content.filter(isRecord), parts);
    return;
  }
  parts.push({ type: 'text', content: JSON.stringify(content) });
}

/** OpenAI / Anthropic content blocks → GenAI parts. */
function blockParts(blocks: readonly Record<string, unknown>[], parts: GenAiMessagePart[]): void {
  for (const b of blocks) {
    const type = b.type;
    if (type === 'text' || type === 'input_text' || type === 'output_text') {
      parts.push({ type: 'text', content: str(b.text) ?? str(b.content) ?? '' });
    } else if (type === 'tool_use') {
      parts.push(toolCallPart(str(b.id), str(b.name), b.input));
    } else if (type === 'tool_call') {
      parts.push(toolCallPart(str(b.id), str(b.name), b.arguments));
    } else if (type === 'tool-call') {
      // Vercel AI SDK message parts.
      parts.push(toolCallPart(str(b.toolCallId), str(b.toolName), b.args ?? b.input));
    } else if (type === 'tool-result') {
      const r = b.result ?? b.output;
      parts.push({
        type: 'tool_call_response',
        id: str(b.toolCallId),
        response: typeof r === 'string' ? r : JSON.stringify(r ?? ''),
      });
    } else if (type === 'tool_result') {
      parts.push({ type: 'tool_call_response', id: str(b.tool_use_id), response: b.content });
    } else if (type === 'thinking' || type === 'reasoning') {
      parts.push({ type: 'reasoning', content: str(b.thinking) ?? str(b.content) ?? '' });
    } else if (type === 'image_url' && isRecord(b.image_url)) {
      parts.push({ type: 'uri', modality: 'image', uri: str(b.image_url.url) ?? '' });
    } else {
      parts.push({ ...b, type: String(type) });
    }
  }
}

/** Accumulated indexed attributes → GenAI messages (holes in the index are skipped). */
export function messagesFromAccs(
  list: readonly (MessageAcc | undefined)[],
  output: boolean,
  fallbackFinishReason?: string,
): GenAiMessage[] {
  const out: GenAiMessage[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    if (!m) continue;
    let role = m.role ?? (output ? 'assistant' : 'user');
    if (role === 'function') role = 'tool';
    const parts: GenAiMessagePart[] = [];
    if (role === 'tool') {
      const response = typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
      parts.push({ type: 'tool_call_response', id: m.toolCallId ?? m.name, response });
    } else {
      if (m.contents) {
        for (const c of m.contents) {
          if (!c) continue;
          if (c.imageUrl !== undefined) parts.push({ type: 'uri', modality: 'image', uri: c.imageUrl });
          else parts.push({ type: 'text', content: c.text ?? '' });
        }
      } else {
        contentParts(m.content, parts);
      }
      if (m.toolCalls) {
        for (const t of m.toolCalls) if (t) parts.push(toolCallPart(t.id, t.name, t.arguments));
      }
      if (m.functionCallName !== undefined) {
        parts.push(toolCallPart(undefined, m.functionCallName, m.functionCallArguments));
      }
    }
    const msg: GenAiMessage = { role, parts };
    if (output) {
      const reason = m.finishReason ?? (out.length === 0 ? fallbackFinishReason : undefined);
      if (reason) msg.finish_reason = normalizeFinishReason(reason);
    }
    out.push(msg);
  }
  return out;
}

// ── OpenAI-style message objects ({role, content, tool_calls}) from JSON bodies and legacy events ──

export function messageFromObject(
  o: Record<string, unknown>,
  defaultRole: string,
  finishReason?: unknown,
): GenAiMessage {
  let role = str(o.role) ?? defaultRole;
  if (role === 'function') role = 'tool';
  const parts: GenAiMessagePart[] = [];
  if (Array.isArray(o.parts)) {
    // Already GenAI-shaped.
    for (const p of o.parts) if (isRecord(p)) parts.push(p as GenAiMessagePart);
  } else if (
    role === 'tool' &&
    Array.isArray(o.content) &&
    o.content.some((b) => isRecord(b) && b.type !== 'text')
  ) {
    // Tool results as content blocks (Anthropic `tool_result`, Vercel AI SDK `tool-result`).
    blockParts(o.content.filter(isRecord), parts);
  } else if (role === 'tool') {
    const c = o.content;
    parts.push({
      type: 'tool_call_response',
      id: str(o.tool_call_id) ?? str(o.id) ?? str(o.name),
      response: typeof c === 'string' ? c : JSON.stringify(c ?? ''),
    });
  } else {
    contentParts(o.content, parts);
    if (Array.isArray(o.tool_calls)) {
      for (const t of o.tool_calls) {
        if (!isRecord(t)) continue;
        const fn = isRecord(t.function) ? t.function : t;
        parts.push(toolCallPart(str(t.id), str(fn.name), fn.arguments));
      }
    }
  }
  const msg: GenAiMessage = { role, parts };
  const reason = str(o.finish_reason) ?? str(finishReason);
  if (reason) msg.finish_reason = normalizeFinishReason(reason);
  return msg;
}

/**
 * A free-form content value (legacy `gen_ai.prompt`, OpenInference `input.value`, OpenLIT content
 * events): a JSON array of messages, a request body with `messages`, or plain text.
 */
export function messagesFromValue(value: AttributeValue | undefined, defaultRole: string): GenAiMessage[] {
  if (value === undefined || value === null || value === '') return [];
  const parsed = typeof value === 'string' ? parseMaybeJson(value) : value;
  if (
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every((m) => isRecord(m) && ('role' in m || 'parts' in m))
  ) {
    return (parsed as Record<string, unknown>[]).map((m) => messageFromObject(m, defaultRole));
  }
  if (isRecord(parsed)) {
    if (Array.isArray(parsed.messages))
      return messagesFromValue(parsed.messages as AttributeValue, defaultRole);
    if (Array.isArray(parsed.choices)) {
      const msgs: GenAiMessage[] = [];
      for (const c of parsed.choices) {
        if (isRecord(c) && isRecord(c.message))
          msgs.push(messageFromObject(c.message, defaultRole, c.finish_reason));
      }
      if (msgs.length) return msgs;
    }
    if ('role' in parsed || 'content' in parsed) return [messageFromObject(parsed, defaultRole)];
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return [{ role: defaultRole, parts: [{ type: 'text', content: text }] }];
}

// ── GenAI semconv ≤1.36 content events ──

const LEGACY_EVENT_ROLE: Readonly<Record<string, string>> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
  'gen_ai.tools.message': 'tool',
};

export interface EventContent {
  input: GenAiMessage[];
  output: GenAiMessage[];
  /** Content that came as current-semconv attributes on an event (1.38+ operation-details event). */
  inMsgs?: AttributeValue;
  outMsgs?: AttributeValue;
  sysInstr?: AttributeValue;
  exceptionType?: string;
  firstTokenTimeUnixNano?: string;
}

function eventMessage(attrs: Attributes, role: string): GenAiMessage {
  const obj: Record<string, unknown> = { ...attrs, role: str(attrs.role) ?? role };
  const content = attrs.content;
  // Some SDKs put the whole message JSON in `content`.
  if (typeof content === 'string' && content.charCodeAt(0) === 123) {
    const parsed = parseMaybeJson(content);
    if (isRecord(parsed) && ('content' in parsed || 'tool_calls' in parsed)) Object.assign(obj, parsed);
  }
  if (typeof obj.tool_calls === 'string') obj.tool_calls = parseMaybeJson(obj.tool_calls);
  return messageFromObject(obj, role);
}

/** One pass over span events: legacy content events, exception events, first-token events. */
export function readEvents(events: readonly DecodedSpanEvent[]): EventContent {
  const out: EventContent = { input: [], output: [] };
  for (const e of events) {
    const name = e.name;
    const role = LEGACY_EVENT_ROLE[name];
    if (role !== undefined) {
      out.input.push(eventMessage(e.attributes, role));
    } else if (name === 'gen_ai.choice') {
      const a = e.attributes;
      const m = typeof a.message === 'string' ? parseMaybeJson(a.message) : a.message;
      const msgObj: Record<string, unknown> = isRecord(m) ? { ...m } : { content: a.content ?? m };
      if (typeof msgObj.tool_calls === 'string') msgObj.tool_calls = parseMaybeJson(msgObj.tool_calls);
      out.output.push(messageFromObject(msgObj, 'assistant', a.finish_reason));
    } else if (name === 'gen_ai.content.prompt') {
      out.input.push(...messagesFromValue(e.attributes['gen_ai.prompt'], 'user'));
    } else if (name === 'gen_ai.content.completion') {
      out.output.push(...messagesFromValue(e.attributes['gen_ai.completion'], 'assistant'));
    } else if (name === 'exception') {
      out.exceptionType ??= str(e.attributes['exception.type']);
    } else if (name === 'First Token Stream Event' || name === 'gen_ai.content.first_token') {
      out.firstTokenTimeUnixNano ??= e.timeUnixNano;
    } else {
      const a = e.attributes;
      if (a['gen_ai.input.messages'] !== undefined) out.inMsgs ??= a['gen_ai.input.messages'];
      if (a['gen_ai.output.messages'] !== undefined) out.outMsgs ??= a['gen_ai.output.messages'];
      if (a['gen_ai.system_instructions'] !== undefined) out.sysInstr ??= a['gen_ai.system_instructions'];
    }
  }
  return out;
}

// ── Canonical form ──
//
// Instrumentations agree on the GenAI message shape but not on its details: where an OpenAI
// system message goes (in the history, or in `gen_ai.system_instructions`), whether tool-call
// arguments are a JSON string or an object, provider-native or GenAI finish reasons, key order.
// Stored content uses one form so the same call reads the same whichever instrumentation sent it:
// system/developer messages live in systemContent, tool arguments are parsed JSON when they parse,
// finish reasons are GenAI values, keys are in a fixed order.

export function canonicalPart(p: GenAiMessagePart): GenAiMessagePart {
  switch (p.type) {
    case 'text':
    case 'reasoning':
      return p.content === undefined || Object.keys(p).length > 2
        ? p
        : { type: p.type, content: typeof p.content === 'string' ? p.content : JSON.stringify(p.content) };
    case 'tool_call': {
      const { type: _t, id, name, arguments: args, ...rest } = p;
      const out: GenAiMessagePart = { type: 'tool_call' };
      if (id !== undefined && id !== '') out.id = id;
      if (name !== undefined) out.name = name;
      if (args !== undefined) out.arguments = typeof args === 'string' ? parseMaybeJson(args) : args;
      return Object.assign(out, rest);
    }
    case 'tool_call_response': {
      const { type: _t, id, response, ...rest } = p;
      const out: GenAiMessagePart = { type: 'tool_call_response' };
      if (id !== undefined && id !== '') out.id = id;
      out.response = response;
      return Object.assign(out, rest);
    }
    default:
      return p;
  }
}

export function isSystemRole(role: string): boolean {
  return role === 'system' || role === 'developer';
}

export function canonicalMessage(m: GenAiMessage, output: boolean): GenAiMessage {
  const role = typeof m.role === 'string' ? m.role : output ? 'assistant' : 'user';
  const parts = Array.isArray(m.parts)
    ? m.parts.filter(isRecord).map((p) => canonicalPart(p as GenAiMessagePart))
    : [];
  // A tool message's text is the tool's result (OpenLIT writes it as a text part).
  if (role === 'tool') {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.type === 'text') parts[i] = { type: 'tool_call_response', response: p.content ?? '' };
    }
  }
  const out: GenAiMessage = { role, parts };
  if (typeof m.name === 'string' && m.name !== '') out.name = m.name;
  if (output && typeof m.finish_reason === 'string' && m.finish_reason !== '') {
    out.finish_reason = normalizeFinishReason(m.finish_reason);
  }
  return out;
}

/** Names of the tools the model asked to call, in order, de-duplicated. */
export function toolNamesOf(messages: readonly GenAiMessage[]): string[] {
  const names: string[] = [];
  for (const m of messages) {
    if (!Array.isArray(m.parts)) continue;
    for (const p of m.parts) {
      if (
        p &&
        p.type === 'tool_call' &&
        typeof p.name === 'string' &&
        p.name !== '' &&
        !names.includes(p.name)
      ) {
        names.push(p.name);
      }
    }
  }
  return names;
}
