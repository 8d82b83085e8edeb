import type { CallStatus, Dialect, GenAiMessage, GenAiMessagePart, LlmCall } from '../llm-call.js';
import type { AttributeValue, DecodedSpan } from '../span.js';
import {
  addIndexedMessageAttribute,
  canonicalMessage,
  canonicalPart,
  isSystemRole,
  messagesFromAccs,
  messagesFromValue,
  normalizeFinishReason,
  parseMaybeJson,
  readEvents,
  toolNamesOf,
  type MessageAcc,
} from './messages.js';
import {
  ATTRIBUTE_MAP,
  HINT,
  LLMWATCH_LLM_KINDS,
  NON_LLM_OPERATIONS,
  OPENINFERENCE_LLM_KINDS,
  OPERATION_ALIASES,
  PROVIDER_ALIASES,
  SLOT,
  SLOTS,
} from './tables.js';
import { providerOfHost, providerOfModel, selfHostedProvider, type SelfHostedServer } from './providers.js';
import { aliasedTags, aliasedValue, type AttributeAliases } from './aliases.js';

/**
 * Any instrumentation's LLM span → one LlmCall (docs/architecture.md#data-path). Runs on the ingest hot path, once per
 * span: one pass over the attributes with a Map lookup per name, prefix checks (no regex) only for
 * the indexed layouts, and message JSON is passed through untouched when it already has the GenAI
 * shape. It never mutates the span and does not price (costUsd null, priceVersion '').
 *
 * What counts as an LLM call — a span is one when it
 * 1. is not declared something else: OpenInference kind other than LLM/EMBEDDING (CHAIN, TOOL,
 *    RETRIEVER, AGENT, RERANKER…), a `traceloop.span.kind` (workflow/task/agent/tool spans), an
 *    llmwatch observe() step of another kind, or an agent/tool/retrieval operation (those spans
 *    carry their children's model and tokens, and counting them would double cost);
 * 2. names a model (request or response); and
 * 3. shows one more LLM signal: a provider, token counts, or an operation name.
 *
 * `aliases`: the installation's own names for prompt, user, session and tags, read first.
 * `selfHosted`: the installation's own OpenAI-compatible servers (see selfHostedProvider).
 */
export function normalizeSpan(
  span: DecodedSpan,
  projectId: string,
  aliases?: AttributeAliases,
  selfHosted?: readonly SelfHostedServer[],
): LlmCall | null {
  const attrs = span.attributes;
  const v: (AttributeValue | undefined)[] = new Array<AttributeValue | undefined>(SLOTS.length);
  let hints = scopeHint(span.scopeName);
  let inAccs: MessageAcc[] | undefined;
  let outAccs: MessageAcc[] | undefined;
  let embedTexts: string[] | undefined;
  let lwTags: Record<string, string> | undefined;
  let assoc: Record<string, string> | undefined;

  for (const key in attrs) {
    const value = attrs[key] as AttributeValue;
    const code = ATTRIBUTE_MAP.get(key);
    if (code !== undefined) {
      v[code & 0xff] = value;
      hints |= code >> 8;
      continue;
    }
    switch (key.charCodeAt(0)) {
      case 103: // g
        if (key.startsWith('gen_ai.prompt.')) {
          if (addIndexedMessageAttribute((inAccs ??= []), key, 14, value)) hints |= HINT.openllmetry;
        } else if (key.startsWith('gen_ai.completion.')) {
          if (addIndexedMessageAttribute((outAccs ??= []), key, 18, value)) hints |= HINT.openllmetry;
        }
        break;
      case 108: // l
        if (key.startsWith('llm.input_messages.')) {
          if (addIndexedMessageAttribute((inAccs ??= []), key, 19, value)) hints |= HINT.openinference;
        } else if (key.startsWith('llm.output_messages.')) {
          if (addIndexedMessageAttribute((outAccs ??= []), key, 20, value)) hints |= HINT.openinference;
        } else if (key.startsWith('llm.prompts.')) {
          // Pre-gen_ai OpenLLMetry layout.
          if (addIndexedMessageAttribute((inAccs ??= []), key, 12, value)) hints |= HINT.openllmetry;
        } else if (key.startsWith('llm.completions.')) {
          if (addIndexedMessageAttribute((outAccs ??= []), key, 16, value)) hints |= HINT.openllmetry;
        } else if (key.startsWith('llmwatch.')) {
          hints |= HINT.llmwatch;
          if (key.startsWith('tag.', 9)) {
            const s = text(value);
            if (s !== undefined) (lwTags ??= dict())[key.slice(13)] = s;
          }
        } else if (key.startsWith('langfuse.')) {
          // Langfuse trace/observation metadata: grouping keys like the association properties.
          const at = key.startsWith('trace.metadata.', 9)
            ? 24
            : key.startsWith('observation.metadata.', 9)
              ? 30
              : 0;
          const s = at > 0 && key.length > at ? text(value) : undefined;
          if (s !== undefined) (assoc ??= dict())[key.slice(at)] = s;
        }
        break;
      case 116: // t
        if (key.startsWith('traceloop.')) {
          hints |= HINT.openllmetry;
          if (key.startsWith('association.properties.', 10)) {
            const s = text(value);
            if (s !== undefined) (assoc ??= dict())[key.slice(33)] = s;
          }
        }
        break;
      case 97: // a
        // Vercel AI SDK `experimental_telemetry.metadata`: identity (userId, sessionId) and tags.
        if (key.startsWith('ai.telemetry.metadata.')) {
          const s = text(value);
          if (s !== undefined) (assoc ??= dict())[key.slice(22)] = s;
        }
        break;
      case 101: // e
        // embedding.embeddings.{i}.embedding.text
        if (key.startsWith('embedding.embeddings.') && key.endsWith('.embedding.text')) {
          const s = text(value);
          if (s !== undefined) (embedTexts ??= []).push(s);
        }
        break;
    }
  }

  // ── Is it an LLM call? ──
  const oiKind = text(v[SLOT.oiKind]);
  if (oiKind !== undefined && !OPENINFERENCE_LLM_KINDS.has(oiKind.toUpperCase())) return null;
  if (v[SLOT.tlSpanKind] !== undefined) return null;
  const lwKind = text(v[SLOT.lwSpanKind]);
  if (lwKind !== undefined && !LLMWATCH_LLM_KINDS.has(lwKind)) return null;

  const rawOp = text(v[SLOT.opName]) ?? text(v[SLOT.tlRequestType]);
  const opLower = rawOp?.toLowerCase();
  if (opLower !== undefined && NON_LLM_OPERATIONS.has(opLower)) return null;

  const oiModel = text(v[SLOT.oiModel]) ?? text(v[SLOT.oiEmbeddingModel]);
  const requestModel = text(v[SLOT.reqModel]) ?? oiModel ?? '';
  const responseModel = text(v[SLOT.respModel]) ?? oiModel ?? '';
  const model = responseModel || requestModel;
  if (model === '') return null;

  const namedProvider = providerOf(v);
  let inputTokens =
    count(v[SLOT.inTok]) ??
    count(v[SLOT.promptTok]) ??
    count(v[SLOT.oiPromptTok]) ??
    count(v[SLOT.aiPromptTokens]);
  let outputTokens =
    count(v[SLOT.outTok]) ??
    count(v[SLOT.complTok]) ??
    count(v[SLOT.oiComplTok]) ??
    count(v[SLOT.aiCompletionTokens]);
  if (
    namedProvider === '' &&
    inputTokens === undefined &&
    outputTokens === undefined &&
    rawOp === undefined &&
    oiKind === undefined
  ) {
    return null;
  }
  // A self-hosted server is its own provider even when the client names itself (the OpenAI SDK
  // says `openai` whatever its base URL). Not named: the API host the client called, then the
  // model family (core/normalize/providers.ts).
  const serverAddress = text(v[SLOT.serverAddress]) ?? '';
  const provider =
    (serverAddress === ''
      ? undefined
      : selfHostedProvider(
          serverAddress,
          num(v[SLOT.serverPort]),
          selfHosted,
          namedProvider === '' || namedProvider === 'openai',
        )) ||
    namedProvider ||
    providerOfHost(serverAddress) ||
    providerOfModel(responseModel || requestModel) ||
    '';

  const cacheReadTokens =
    count(v[SLOT.cacheRead]) ?? count(v[SLOT.cacheReadFlat]) ?? count(v[SLOT.oiCacheRead]) ?? 0;
  const cacheWriteTokens =
    count(v[SLOT.cacheWrite]) ?? count(v[SLOT.cacheWriteFlat]) ?? count(v[SLOT.oiCacheWrite]) ?? 0;
  const reasoningTokens =
    count(v[SLOT.reasoning]) ?? count(v[SLOT.reasoningFlat]) ?? count(v[SLOT.oiReasoning]) ?? 0;
  const usageReported = inputTokens !== undefined || outputTokens !== undefined;
  inputTokens ??= 0;
  outputTokens ??= 0;
  // Semconv counts cached tokens inside input (and reasoning inside output). Instrumentations that
  // copy Anthropic's raw `input_tokens` (uncached only) give themselves away when the parts exceed
  // the whole; add them back so cost and rollups see one meaning.
  if (cacheReadTokens + cacheWriteTokens > inputTokens) inputTokens += cacheReadTokens + cacheWriteTokens;
  if (reasoningTokens > outputTokens) outputTokens += reasoningTokens;

  // ── Events: legacy content, exceptions, first token ──
  const ev = span.events.length > 0 ? readEvents(span.events) : undefined;

  // ── Content (canonical form: see messages.ts) ──
  // A single provider-native finish reason (OpenInference, Vercel AI SDK).
  const oiFinish = text(v[SLOT.oiFinishReason]) ?? text(v[SLOT.aiFinishReason]);
  let outputMessages: GenAiMessage[] | undefined;
  const outMsgs = v[SLOT.outMsgs] ?? ev?.outMsgs;
  if (outMsgs !== undefined) outputMessages = messagesFromValue(outMsgs, 'assistant');
  else if (outAccs) outputMessages = messagesFromAccs(outAccs, true, oiFinish);
  else if (ev && ev.output.length > 0) outputMessages = ev.output;
  else if (v[SLOT.legacyCompletion] !== undefined)
    outputMessages = messagesFromValue(v[SLOT.legacyCompletion], 'assistant');
  else if (v[SLOT.oiOutputValue] !== undefined) outputMessages = oiOutput(v[SLOT.oiOutputValue], oiFinish);
  else if (v[SLOT.aiResponseText] !== undefined || v[SLOT.aiToolCalls] !== undefined) {
    outputMessages = aiSdkOutput(v[SLOT.aiResponseText], v[SLOT.aiToolCalls], oiFinish);
  }
  if (outputMessages) outputMessages = outputMessages.map((m) => canonicalMessage(m, true));
  const outputContent = outputMessages && outputMessages.length > 0 ? JSON.stringify(outputMessages) : '';

  let inputContent = '';
  let inputMessages: GenAiMessage[] | undefined;
  const inMsgs = v[SLOT.inMsgs] ?? ev?.inMsgs;
  if (inMsgs !== undefined) {
    // Hot path: already canonical GenAI JSON is stored byte for byte (once known to be JSON: SDK
    // attribute length limits truncate long values mid-document).
    if (
      typeof inMsgs === 'string' &&
      inMsgs.charCodeAt(0) === 91 &&
      !needsCanonicalInput(inMsgs) &&
      isJsonArray(inMsgs)
    )
      inputContent = inMsgs;
    else inputMessages = messagesFromValue(inMsgs, 'user');
  } else if (inAccs) inputMessages = messagesFromAccs(inAccs, false);
  else if (ev && ev.input.length > 0) inputMessages = ev.input;
  else if (v[SLOT.legacyPrompt] !== undefined)
    inputMessages = messagesFromValue(v[SLOT.legacyPrompt], 'user');
  else if (v[SLOT.aiPrompt] !== undefined) inputMessages = messagesFromValue(v[SLOT.aiPrompt], 'user');
  else if (v[SLOT.oiInputValue] !== undefined)
    inputMessages = messagesFromValue(v[SLOT.oiInputValue], 'user');
  else if (embedTexts)
    inputMessages = [{ role: 'user', parts: embedTexts.map((t) => ({ type: 'text', content: t })) }];

  let systemParts: GenAiMessagePart[] | undefined;
  if (inputMessages) {
    const rest: GenAiMessage[] = [];
    for (const m of inputMessages) {
      if (isSystemRole(m.role)) (systemParts ??= []).push(...canonicalMessage(m, false).parts);
      else rest.push(canonicalMessage(m, false));
    }
    if (rest.length > 0) inputContent = JSON.stringify(rest);
  }

  const sys = v[SLOT.sysInstr] ?? ev?.sysInstr;
  let systemContent = '';
  if (systemParts && systemParts.length > 0) {
    systemContent = JSON.stringify(mergeParts(partsOfValue(sys), systemParts));
  }
  if (systemContent === '' && sys !== undefined) systemContent = passthroughParts(sys);

  const toolNames = outputMessages ? toolNamesOf(outputMessages) : [];

  // ── Outcome ──
  let finishReasons = reasons(v[SLOT.finishReasons]);
  if (finishReasons.length === 0 && oiFinish !== undefined) finishReasons = [normalizeFinishReason(oiFinish)];
  if (finishReasons.length === 0 && outputMessages) {
    for (const m of outputMessages) if (m.finish_reason) finishReasons.push(m.finish_reason);
  }

  const errorType =
    text(v[SLOT.errorType]) ?? ev?.exceptionType ?? (span.statusCode === 'Error' ? '_OTHER' : '');
  const responseId = text(v[SLOT.respId]) ?? oiResponseId(v[SLOT.oiOutputValue], v[SLOT.oiOutputMime]) ?? '';
  let status: CallStatus;
  if (span.statusCode === 'Error' || errorType !== '') status = 'error';
  else if (span.statusCode === 'Ok') status = 'ok';
  // OTel leaves client spans Unset on success; a span that carries a response did succeed.
  else
    status =
      responseModel !== '' || responseId !== '' || outputTokens > 0 || outputContent !== '' ? 'ok' : 'unset';

  const ttftS = num(v[SLOT.ttftS]) ?? num(v[SLOT.openlitTtftS]);
  let ttftMs: number | null = ttftS !== undefined ? ttftS * 1000 : null;
  if (ttftMs === null) ttftMs = num(v[SLOT.aiTtftMs]) ?? null;
  if (ttftMs === null && ev?.firstTokenTimeUnixNano)
    ttftMs = diffMs(span.startTimeUnixNano, ev.firstTokenTimeUnixNano);

  const streaming =
    bool(v[SLOT.stream]) ??
    bool(v[SLOT.tlIsStreaming]) ??
    bool(v[SLOT.openlitIsStream]) ??
    streamFromInvocationParams(v[SLOT.oiInvocationParams]) ??
    (text(v[SLOT.aiOperationId])?.endsWith('.doStream') || undefined) ??
    false;

  // ── Identity ── (the installation's own names first, then each dialect's)
  const aiPrompt = v[SLOT.aiLangfusePrompt] !== undefined ? promptRef(v[SLOT.aiLangfusePrompt]) : undefined;
  const userId =
    aliasedValue(attrs, aliases?.userId) ??
    text(v[SLOT.userId]) ??
    assoc?.user_id ??
    assoc?.userId ??
    text(v[SLOT.lfUserId]) ??
    text(v[SLOT.enduserId]) ??
    text(v[SLOT.openlitUser]) ??
    '';
  const sessionId =
    aliasedValue(attrs, aliases?.sessionId) ??
    text(v[SLOT.sessionId]) ??
    assoc?.session_id ??
    assoc?.sessionId ??
    text(v[SLOT.lfSessionId]) ??
    '';
  const conversationId = text(v[SLOT.conversationId]) ?? assoc?.conversation_id ?? '';
  const promptName =
    aliasedValue(attrs, aliases?.promptName) ??
    text(v[SLOT.promptName]) ??
    text(v[SLOT.tlPromptKey]) ??
    text(v[SLOT.lfPromptName]) ??
    text(v[SLOT.oiPromptId]) ??
    assoc?.prompt_name ??
    assoc?.promptName ??
    aiPrompt?.name ??
    '';
  const promptVersion =
    aliasedValue(attrs, aliases?.promptVersion) ??
    text(v[SLOT.promptVersion]) ??
    text(v[SLOT.tlPromptVersion]) ??
    text(v[SLOT.oiPromptVersion]) ??
    text(v[SLOT.lfPromptVersion]) ??
    assoc?.prompt_version ??
    assoc?.promptVersion ??
    aiPrompt?.version ??
    '';

  return {
    projectId,
    startTimeUnixNano: span.startTimeUnixNano,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    serviceName: serviceNameOf(span, v),
    dialect: dialectOf(hints, v),
    provider,
    operation: operationOf(opLower, oiKind),
    requestModel,
    responseModel,
    model,
    responseId,
    inputTokens,
    outputTokens,
    usageReported,
    cacheReadTokens,
    cacheWriteTokens,
    reasoningTokens,
    costUsd: null,
    priceVersion: '',
    latencyMs: diffMs(span.startTimeUnixNano, span.endTimeUnixNano),
    ttftMs,
    streaming,
    finishReasons,
    status,
    errorType,
    promptName,
    promptVersion,
    userId,
    sessionId,
    conversationId,
    tags: tagsOf(lwTags, assoc, v, attrs, aliases),
    inputContent,
    outputContent,
    systemContent,
    toolNames,
    inputEmbedding: numbers(v[SLOT.inputEmbedding]),
    outputEmbedding: numbers(v[SLOT.outputEmbedding]),
  };
}

// ── helpers ──

function text(x: AttributeValue | undefined): string | undefined {
  if (typeof x === 'string') return x === '' ? undefined : x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return undefined;
}

function num(x: AttributeValue | undefined): number | undefined {
  const n = typeof x === 'number' ? x : typeof x === 'string' && x !== '' ? Number(x) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const UINT32_MAX = 4294967295;
/** Token counts: non-negative integers that fit the UInt32 columns. */
function count(x: AttributeValue | undefined): number | undefined {
  const n = num(x);
  if (n === undefined) return undefined;
  return n <= 0 ? 0 : n >= UINT32_MAX ? UINT32_MAX : Math.round(n);
}

function bool(x: AttributeValue | undefined): boolean | undefined {
  if (typeof x === 'boolean') return x;
  if (x === 'true') return true;
  if (x === 'false') return false;
  return undefined;
}

/** end − start in milliseconds from decimal-string nanoseconds; exact, never negative. */
function diffMs(start: string, end: string): number {
  try {
    const d = BigInt(end) - BigInt(start);
    return d > 0n ? Number(d) / 1e6 : 0;
  } catch {
    return 0;
  }
}

function providerAlias(raw: string): string {
  const lower = raw.toLowerCase();
  const known = PROVIDER_ALIASES[lower];
  if (known !== undefined) return known;
  // `openai.chat`, `anthropic.messages`, `google.vertex.chat`: the provider, then the API.
  const dot = lower.indexOf('.');
  if (dot > 0) {
    const dot2 = lower.indexOf('.', dot + 1);
    const two = dot2 > 0 ? PROVIDER_ALIASES[lower.slice(0, dot2)] : undefined;
    const one = PROVIDER_ALIASES[lower.slice(0, dot)];
    if (two !== undefined) return two;
    if (one !== undefined) return one;
  }
  return lower;
}

/** The provider a span names in any dialect's provider attribute ('' when none). */
function providerOf(v: readonly (AttributeValue | undefined)[]): string {
  const p = text(v[SLOT.providerName]);
  if (p !== undefined) return providerAlias(p);
  // LangChain (through OpenInference): `metadata` JSON with `ls_provider`.
  const lsProvider = lsProviderOf(v[SLOT.oiMetadata]);
  if (lsProvider !== undefined) return providerAlias(lsProvider);
  // OpenInference: llm.provider is the host (google, aws, azure), llm.system the model family.
  const oiProvider = text(v[SLOT.oiProvider]);
  const oiSystem = text(v[SLOT.oiSystem]);
  if (oiProvider !== undefined) {
    if (oiProvider === 'google' && oiSystem === 'vertexai') return 'gcp.vertex_ai';
    return providerAlias(oiProvider);
  }
  const s = text(v[SLOT.system]) ?? oiSystem;
  return s === undefined ? '' : providerAlias(s);
}

function lsProviderOf(metadata: AttributeValue | undefined): string | undefined {
  if (typeof metadata !== 'string' || !metadata.includes('ls_provider')) return undefined;
  const parsed = parseMaybeJson(metadata);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return text((parsed as Record<string, AttributeValue>).ls_provider);
}

function operationOf(op: string | undefined, oiKind: string | undefined): string {
  if (op !== undefined) return OPERATION_ALIASES[op] ?? op;
  if (oiKind !== undefined && oiKind.toUpperCase() === 'EMBEDDING') return 'embeddings';
  return 'chat';
}

function scopeHint(scope: string): number {
  if (scope === '') return 0;
  if (scope.startsWith('@llmwatch/') || scope.startsWith('llmwatch')) return HINT.llmwatch;
  if (scope.includes('openinference')) return HINT.openinference;
  if (scope.includes('traceloop')) return HINT.openllmetry;
  if (scope.includes('openlit')) return HINT.openlit;
  return 0;
}

function dialectOf(hints: number, v: readonly (AttributeValue | undefined)[]): Dialect {
  if (hints & HINT.llmwatch) return 'llmwatch';
  if (hints & HINT.openinference) return 'openinference';
  if (hints & HINT.openlit) return 'openlit';
  if (hints & HINT.openllmetry) return 'openllmetry';
  if (hints & HINT.genai) return 'genai';
  if (v[SLOT.system] !== undefined || hints & HINT.legacy) return 'genai_legacy';
  return 'genai';
}

function serviceNameOf(span: DecodedSpan, v: readonly (AttributeValue | undefined)[]): string {
  const s = text(span.resource['service.name']);
  if (s !== undefined && !s.startsWith('unknown_service')) return s;
  return text(v[SLOT.openlitApp]) ?? s ?? '';
}

/**
 * Input JSON that may differ from the canonical form: system/developer messages (moved to
 * systemContent), tool calls (arguments may be a JSON string) or tool messages (results may be
 * text parts). Plain-text-only histories, the common case, skip the parse.
 */
function needsCanonicalInput(json: string): boolean {
  return (
    json.includes('"system"') ||
    json.includes('"developer"') ||
    json.includes('"tool_call"') ||
    json.includes('"tool"')
  );
}

function partsOfValue(value: AttributeValue | undefined): GenAiMessagePart[] {
  if (value === undefined || value === null || value === '') return [];
  const parsed = typeof value === 'string' ? parseMaybeJson(value) : value;
  if (Array.isArray(parsed)) {
    return parsed
      .filter((p) => p && typeof p === 'object' && !Array.isArray(p))
      .map((p) => canonicalPart(p as GenAiMessagePart));
  }
  return [{ type: 'text', content: typeof value === 'string' ? value : JSON.stringify(value) }];
}

/** `gen_ai.system_instructions`: an array of parts. */
function passthroughParts(value: AttributeValue): string {
  if (typeof value === 'string') {
    if (value.charCodeAt(0) === 91 && isJsonArray(value)) return value;
    return value === '' ? '' : JSON.stringify([{ type: 'text', content: value }]);
  }
  return value === null ? '' : JSON.stringify(value);
}

function isJsonArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

/**
 * System instructions plus the system messages of the history, without the duplicates of
 * instrumentations that record the same system prompt in both places (OpenLIT).
 */
function mergeParts(first: GenAiMessagePart[], more: GenAiMessagePart[]): GenAiMessagePart[] {
  if (first.length === 0) return more;
  const seen = new Set(first.map((p) => JSON.stringify(p)));
  const out = first.slice();
  for (const p of more) if (!seen.has(JSON.stringify(p))) out.push(p);
  return out;
}

/** Vercel AI SDK: response text plus `ai.response.toolCalls` ([{toolCallId, toolName, args|input}]). */
function aiSdkOutput(
  responseText: AttributeValue | undefined,
  toolCalls: AttributeValue | undefined,
  finish: string | undefined,
): GenAiMessage[] {
  const parts: GenAiMessagePart[] = [];
  const t = text(responseText);
  if (t !== undefined) parts.push({ type: 'text', content: t });
  const calls = typeof toolCalls === 'string' ? parseMaybeJson(toolCalls) : toolCalls;
  if (Array.isArray(calls)) {
    for (const c of calls) {
      if (!c || typeof c !== 'object' || Array.isArray(c)) continue;
      const o = c as Record<string, AttributeValue>;
      const part: GenAiMessagePart = { type: 'tool_call' };
      const id = text(o.toolCallId);
      const name = text(o.toolName);
      if (id !== undefined) part.id = id;
      if (name !== undefined) part.name = name;
      const args = o.args ?? o.input;
      if (args !== undefined) part.arguments = args;
      parts.push(part);
    }
  }
  const msg: GenAiMessage = { role: 'assistant', parts };
  if (finish !== undefined) msg.finish_reason = finish;
  return [msg];
}

function oiOutput(value: AttributeValue | undefined, finish: string | undefined): GenAiMessage[] {
  const msgs = messagesFromValue(value, 'assistant');
  const first = msgs[0];
  if (first && finish !== undefined && first.finish_reason === undefined)
    first.finish_reason = normalizeFinishReason(finish);
  return msgs;
}

/** OpenInference has no response-id attribute; the JSON response body in output.value has it. */
function oiResponseId(
  value: AttributeValue | undefined,
  mime: AttributeValue | undefined,
): string | undefined {
  if (typeof value !== 'string' || mime !== 'application/json' || value.charCodeAt(0) !== 123)
    return undefined;
  const body = parseMaybeJson(value);
  return body && typeof body === 'object' && !Array.isArray(body)
    ? text((body as { id?: AttributeValue }).id)
    : undefined;
}

function reasons(x: AttributeValue | undefined): string[] {
  if (x === undefined || x === null || x === '') return [];
  if (Array.isArray(x)) {
    const out: string[] = [];
    for (const r of x) if (typeof r === 'string' && r !== '') out.push(normalizeFinishReason(r));
    return out;
  }
  if (typeof x === 'string') {
    const parsed = x.charCodeAt(0) === 91 ? parseMaybeJson(x) : x;
    if (Array.isArray(parsed)) return reasons(parsed as AttributeValue);
    return [normalizeFinishReason(x)];
  }
  return [];
}

/** `{"name": …, "version": …}` (Langfuse's prompt reference in AI SDK metadata), as text fields. */
function promptRef(x: AttributeValue | undefined): { name?: string; version?: string } | undefined {
  const obj = typeof x === 'string' ? parseMaybeJson(x) : x;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, AttributeValue>;
  const name = text(rec.name);
  const version = text(rec.version);
  return { ...(name !== undefined ? { name } : {}), ...(version !== undefined ? { version } : {}) };
}

function streamFromInvocationParams(x: AttributeValue | undefined): boolean | undefined {
  if (typeof x === 'string') {
    if (x.includes('"stream":true') || x.includes('"stream": true')) return true;
    return undefined;
  }
  if (x && typeof x === 'object' && !Array.isArray(x)) return bool(x.stream);
  return undefined;
}

function numbers(x: AttributeValue | undefined): number[] {
  const arr = typeof x === 'string' && x.charCodeAt(0) === 91 ? parseMaybeJson(x) : x;
  if (!Array.isArray(arr)) return [];
  const out: number[] = [];
  for (const n of arr) if (typeof n === 'number' && Number.isFinite(n)) out.push(n);
  return out;
}

const IDENTITY_KEYS = new Set([
  'user_id',
  'userId',
  'session_id',
  'sessionId',
  'conversation_id',
  'prompt_name',
  'prompt_version',
  'promptName',
  'promptVersion',
]);

/** A prototype-free record: attribute-supplied keys like `__proto__` stay plain keys. */
function dict(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** Bounds the Tags map column: tags are for grouping, not a second attribute store. */
const MAX_TAGS = 64;

function tagsOf(
  lwTags: Record<string, string> | undefined,
  assoc: Record<string, string> | undefined,
  v: readonly (AttributeValue | undefined)[],
  attrs: Readonly<Record<string, AttributeValue>>,
  aliases: AttributeAliases | undefined,
): Record<string, string> {
  const tags: Record<string, string> = dict();
  let n = 0;
  const add = (k: string, val: string): void => {
    if (n < MAX_TAGS && !(k in tags)) {
      tags[k] = val;
      n++;
    }
  };
  aliasedTags(attrs, aliases?.tags, add);
  if (lwTags) for (const k in lwTags) add(k, lwTags[k] as string);
  if (assoc) for (const k in assoc) if (!IDENTITY_KEYS.has(k)) add(k, assoc[k] as string);
  for (const list of [v[SLOT.oiTags], v[SLOT.lfTags]]) {
    const tagList = typeof list === 'string' ? parseMaybeJson(list) : list;
    if (Array.isArray(tagList)) for (const t of tagList) if (typeof t === 'string') add(t, '');
  }
  const meta = v[SLOT.oiMetadata];
  const metaObj = typeof meta === 'string' ? parseMaybeJson(meta) : meta;
  if (metaObj && typeof metaObj === 'object' && !Array.isArray(metaObj)) {
    for (const [k, val] of Object.entries(metaObj)) {
      if (typeof val === 'string') add(k, val);
      else if (typeof val === 'number' || typeof val === 'boolean') add(k, String(val));
    }
  }
  const env = text(v[SLOT.openlitEnv]);
  if (env !== undefined) add('environment', env);
  const wf = text(v[SLOT.tlWorkflow]);
  if (wf !== undefined) add('workflow', wf);
  return tags;
}
