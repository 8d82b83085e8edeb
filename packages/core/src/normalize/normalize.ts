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
  type EventContent as SpanEvents,
  type MessageAcc,
} from './messages.js';
import {
  ATTRIBUTE_MAP,
  ENTRY_HINT_SHIFT,
  ENTRY_SLOT_MASK,
  HINT,
  LLMWATCH_LLM_KINDS,
  NON_LLM_OPERATIONS,
  OPENINFERENCE_LLM_KINDS,
  OPERATION_ALIASES,
  PREFIX,
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
 * Stages: read the attributes (slots, dialect hints, prefixed layouts) → is it an LLM call →
 * provider and usage → content → outcome (finish reasons, error, status) → timing → identity.
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
  const read = readAttributes(span);
  const v = read.slots;

  // ── Is it an LLM call? ──
  const oiKind = text(v[SLOT.oiKind]);
  const rawOp = text(v[SLOT.opName]) ?? text(v[SLOT.tlRequestType]);
  const opLower = rawOp?.toLowerCase();
  if (declaredNotLlm(v, oiKind, opLower)) return null;
  const oiModel = text(v[SLOT.oiModel]) ?? text(v[SLOT.oiEmbeddingModel]);
  const requestModel = text(v[SLOT.reqModel]) ?? oiModel ?? '';
  const responseModel = text(v[SLOT.respModel]) ?? oiModel ?? '';
  const model = responseModel || requestModel;
  if (model === '') return null;
  const namedProvider = providerOf(v);
  const usage = usageOf(v);
  if (namedProvider === '' && !usage.usageReported && rawOp === undefined && oiKind === undefined) {
    return null;
  }
  const provider = resolvedProvider(v, namedProvider, model, selfHosted);

  // ── Events: legacy content, exceptions, first token ──
  const ev = span.events.length > 0 ? readEvents(span.events) : undefined;

  // ── Content (canonical form: see messages.ts) ──
  // A single provider-native finish reason (OpenInference, Vercel AI SDK).
  const nativeFinish = text(v[SLOT.oiFinishReason]) ?? text(v[SLOT.aiFinishReason]);
  const outputMessages = outputMessagesOf(read, ev, nativeFinish);
  const outputContent = outputMessages && outputMessages.length > 0 ? JSON.stringify(outputMessages) : '';
  const input = inputContentOf(read, ev);
  const systemContent = systemContentOf(v[SLOT.sysInstr] ?? ev?.sysInstr, input.systemParts);

  // ── Outcome ──
  const errorType =
    text(v[SLOT.errorType]) ?? ev?.exceptionType ?? (span.statusCode === 'Error' ? '_OTHER' : '');
  const responseId = text(v[SLOT.respId]) ?? oiResponseId(v[SLOT.oiOutputValue], v[SLOT.oiOutputMime]) ?? '';
  const carriesResponse =
    responseModel !== '' || responseId !== '' || usage.outputTokens > 0 || outputContent !== '';

  // ── Identity ── (the installation's own names first, then each dialect's)
  const identity = identityOf(span.attributes, v, read.assoc, aliases);

  return {
    projectId,
    startTimeUnixNano: span.startTimeUnixNano,
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    serviceName: serviceNameOf(span, v),
    dialect: dialectOf(read.hints, v),
    provider,
    operation: operationOf(opLower, oiKind),
    requestModel,
    responseModel,
    model,
    responseId,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    usageReported: usage.usageReported,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    reasoningTokens: usage.reasoningTokens,
    costUsd: null,
    priceVersion: '',
    latencyMs: diffMs(span.startTimeUnixNano, span.endTimeUnixNano),
    ttftMs: ttftMsOf(span, v, ev),
    streaming: streamingOf(v),
    finishReasons: finishReasonsOf(v[SLOT.finishReasons], nativeFinish, outputMessages),
    status: statusOf(span.statusCode, errorType, carriesResponse),
    errorType,
    promptName: identity.promptName,
    promptVersion: identity.promptVersion,
    userId: identity.userId,
    sessionId: identity.sessionId,
    conversationId: identity.conversationId,
    tags: tagsOf(read.lwTags, read.assoc, v, span.attributes, aliases),
    inputContent: input.inputContent,
    outputContent,
    systemContent,
    toolNames: outputMessages ? toolNamesOf(outputMessages) : [],
    inputEmbedding: numbers(v[SLOT.inputEmbedding]),
    outputEmbedding: numbers(v[SLOT.outputEmbedding]),
  };
}

// ── Stage: read the attributes ──

/** One pass over a span's attributes: the table slots, dialect evidence and prefixed layouts. */
interface SpanAttributes {
  /** Raw values by SLOT index. */
  slots: (AttributeValue | undefined)[];
  /** HINT bits. */
  hints: number;
  /** Indexed input and output messages (OpenLLMetry, OpenInference). */
  inAccs: MessageAcc[] | undefined;
  outAccs: MessageAcc[] | undefined;
  /** OpenInference embedding inputs. */
  embedTexts: string[] | undefined;
  /** `llmwatch.tag.<key>`. */
  lwTags: Record<string, string> | undefined;
  /** Grouping keys: association properties, Langfuse and AI SDK metadata. */
  assoc: Record<string, string> | undefined;
}

function readAttributes(span: DecodedSpan): SpanAttributes {
  const attrs = span.attributes;
  const read: SpanAttributes = {
    slots: new Array<AttributeValue | undefined>(SLOTS.length),
    hints: 0,
    inAccs: undefined,
    outAccs: undefined,
    embedTexts: undefined,
    lwTags: undefined,
    assoc: undefined,
  };
  const slots = read.slots;
  let hints = scopeHint(span.scopeName);
  for (const key in attrs) {
    const value = attrs[key] as AttributeValue;
    const entry = ATTRIBUTE_MAP.get(key);
    if (entry !== undefined) {
      slots[entry & ENTRY_SLOT_MASK] = value;
      hints |= entry >> ENTRY_HINT_SHIFT;
    } else {
      hints |= readPrefixed(read, key, value);
    }
  }
  read.hints = hints;
  return read;
}

// First characters of the prefixed layouts: most other names leave readPrefixed after one switch.
const CHAR_A = 0x61;
const CHAR_E = 0x65;
const CHAR_G = 0x67;
const CHAR_L = 0x6c;
const CHAR_T = 0x74;

/** Records an attribute of a prefixed layout (PREFIX); returns the dialect evidence it gives. */
function readPrefixed(read: SpanAttributes, key: string, value: AttributeValue): number {
  switch (key.charCodeAt(0)) {
    case CHAR_G:
      if (key.startsWith(PREFIX.genAiPrompt)) {
        return indexedMessage((read.inAccs ??= []), key, PREFIX.genAiPrompt, value, HINT.openllmetry);
      }
      if (key.startsWith(PREFIX.genAiCompletion)) {
        return indexedMessage((read.outAccs ??= []), key, PREFIX.genAiCompletion, value, HINT.openllmetry);
      }
      return 0;
    case CHAR_L:
      if (key.startsWith(PREFIX.oiInputMessages)) {
        return indexedMessage((read.inAccs ??= []), key, PREFIX.oiInputMessages, value, HINT.openinference);
      }
      if (key.startsWith(PREFIX.oiOutputMessages)) {
        return indexedMessage((read.outAccs ??= []), key, PREFIX.oiOutputMessages, value, HINT.openinference);
      }
      if (key.startsWith(PREFIX.llmPrompts)) {
        return indexedMessage((read.inAccs ??= []), key, PREFIX.llmPrompts, value, HINT.openllmetry);
      }
      if (key.startsWith(PREFIX.llmCompletions)) {
        return indexedMessage((read.outAccs ??= []), key, PREFIX.llmCompletions, value, HINT.openllmetry);
      }
      if (key.startsWith(PREFIX.llmwatch)) {
        if (key.startsWith(PREFIX.llmwatchTag)) {
          const s = text(value);
          if (s !== undefined) (read.lwTags ??= dict())[key.slice(PREFIX.llmwatchTag.length)] = s;
        }
        return HINT.llmwatch;
      }
      if (key.startsWith(PREFIX.langfuse)) {
        const at = key.startsWith(PREFIX.langfuseTraceMetadata)
          ? PREFIX.langfuseTraceMetadata.length
          : key.startsWith(PREFIX.langfuseObservationMetadata)
            ? PREFIX.langfuseObservationMetadata.length
            : 0;
        const s = at > 0 && key.length > at ? text(value) : undefined;
        if (s !== undefined) (read.assoc ??= dict())[key.slice(at)] = s;
      }
      return 0;
    case CHAR_T:
      if (!key.startsWith(PREFIX.traceloop)) return 0;
      if (key.startsWith(PREFIX.traceloopAssociation)) {
        const s = text(value);
        if (s !== undefined) (read.assoc ??= dict())[key.slice(PREFIX.traceloopAssociation.length)] = s;
      }
      return HINT.openllmetry;
    case CHAR_A:
      if (key.startsWith(PREFIX.aiTelemetryMetadata)) {
        const s = text(value);
        if (s !== undefined) (read.assoc ??= dict())[key.slice(PREFIX.aiTelemetryMetadata.length)] = s;
      }
      return 0;
    case CHAR_E:
      if (key.startsWith(PREFIX.oiEmbeddings) && key.endsWith(PREFIX.oiEmbeddingText)) {
        const s = text(value);
        if (s !== undefined) (read.embedTexts ??= []).push(s);
      }
      return 0;
  }
  return 0;
}

/** `<prefix><i>.<field>` into the message list; the dialect's hint when it was a message field. */
function indexedMessage(
  list: MessageAcc[],
  key: string,
  prefix: string,
  value: AttributeValue,
  hint: number,
): number {
  return addIndexedMessageAttribute(list, key, prefix.length, value) ? hint : 0;
}

// ── Stage: is it an LLM call, provider and usage ──

/** Rule 1 of normalizeSpan: the span says it is something other than an LLM call. */
function declaredNotLlm(
  v: readonly (AttributeValue | undefined)[],
  oiKind: string | undefined,
  opLower: string | undefined,
): boolean {
  if (oiKind !== undefined && !OPENINFERENCE_LLM_KINDS.has(oiKind.toUpperCase())) return true;
  if (v[SLOT.tlSpanKind] !== undefined) return true;
  const lwKind = text(v[SLOT.lwSpanKind]);
  if (lwKind !== undefined && !LLMWATCH_LLM_KINDS.has(lwKind)) return true;
  return opLower !== undefined && NON_LLM_OPERATIONS.has(opLower);
}

/**
 * A self-hosted server is its own provider even when the client names itself (the OpenAI SDK
 * says `openai` whatever its base URL). Not named: the API host the client called, then the
 * model family (core/normalize/providers.ts).
 */
function resolvedProvider(
  v: readonly (AttributeValue | undefined)[],
  namedProvider: string,
  model: string,
  selfHosted: readonly SelfHostedServer[] | undefined,
): string {
  const serverAddress = text(v[SLOT.serverAddress]) ?? '';
  return (
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
    providerOfModel(model) ||
    ''
  );
}

type TokenUsage = Pick<
  LlmCall,
  | 'inputTokens'
  | 'outputTokens'
  | 'usageReported'
  | 'cacheReadTokens'
  | 'cacheWriteTokens'
  | 'reasoningTokens'
>;

function usageOf(v: readonly (AttributeValue | undefined)[]): TokenUsage {
  const reportedInput =
    count(v[SLOT.inTok]) ??
    count(v[SLOT.promptTok]) ??
    count(v[SLOT.oiPromptTok]) ??
    count(v[SLOT.aiPromptTokens]);
  const reportedOutput =
    count(v[SLOT.outTok]) ??
    count(v[SLOT.complTok]) ??
    count(v[SLOT.oiComplTok]) ??
    count(v[SLOT.aiCompletionTokens]);
  const cacheReadTokens =
    count(v[SLOT.cacheRead]) ?? count(v[SLOT.cacheReadFlat]) ?? count(v[SLOT.oiCacheRead]) ?? 0;
  const cacheWriteTokens =
    count(v[SLOT.cacheWrite]) ?? count(v[SLOT.cacheWriteFlat]) ?? count(v[SLOT.oiCacheWrite]) ?? 0;
  const reasoningTokens =
    count(v[SLOT.reasoning]) ?? count(v[SLOT.reasoningFlat]) ?? count(v[SLOT.oiReasoning]) ?? 0;
  let inputTokens = reportedInput ?? 0;
  let outputTokens = reportedOutput ?? 0;
  // Semconv counts cached tokens inside input (and reasoning inside output). Instrumentations that
  // copy Anthropic's raw `input_tokens` (uncached only) give themselves away when the parts exceed
  // the whole; add them back so cost and rollups see one meaning.
  if (cacheReadTokens + cacheWriteTokens > inputTokens) inputTokens += cacheReadTokens + cacheWriteTokens;
  if (reasoningTokens > outputTokens) outputTokens += reasoningTokens;
  return {
    inputTokens,
    outputTokens,
    usageReported: reportedInput !== undefined || reportedOutput !== undefined,
    cacheReadTokens,
    cacheWriteTokens,
    reasoningTokens,
  };
}

// ── Stage: content ──

function outputMessagesOf(
  read: SpanAttributes,
  ev: SpanEvents | undefined,
  nativeFinish: string | undefined,
): GenAiMessage[] | undefined {
  const v = read.slots;
  let messages: GenAiMessage[] | undefined;
  const outMsgs = v[SLOT.outMsgs] ?? ev?.outMsgs;
  if (outMsgs !== undefined) messages = messagesFromValue(outMsgs, 'assistant');
  else if (read.outAccs) messages = messagesFromAccs(read.outAccs, true, nativeFinish);
  else if (ev && ev.output.length > 0) messages = ev.output;
  else if (v[SLOT.legacyCompletion] !== undefined)
    messages = messagesFromValue(v[SLOT.legacyCompletion], 'assistant');
  else if (v[SLOT.oiOutputValue] !== undefined) messages = oiOutput(v[SLOT.oiOutputValue], nativeFinish);
  else if (v[SLOT.aiResponseText] !== undefined || v[SLOT.aiToolCalls] !== undefined) {
    messages = aiSdkOutput(v[SLOT.aiResponseText], v[SLOT.aiToolCalls], nativeFinish);
  }
  return messages?.map((m) => canonicalMessage(m, true));
}

/** The history without its system messages, whose parts go to systemContent. */
function inputContentOf(
  read: SpanAttributes,
  ev: SpanEvents | undefined,
): { inputContent: string; systemParts: GenAiMessagePart[] | undefined } {
  const v = read.slots;
  let inputContent = '';
  let inputMessages: GenAiMessage[] | undefined;
  const inMsgs = v[SLOT.inMsgs] ?? ev?.inMsgs;
  if (inMsgs !== undefined) {
    // Hot path: already canonical GenAI JSON is stored byte for byte (once known to be JSON: SDK
    // attribute length limits truncate long values mid-document).
    if (
      typeof inMsgs === 'string' &&
      startsJsonArray(inMsgs) &&
      !needsCanonicalInput(inMsgs) &&
      isJsonArray(inMsgs)
    )
      inputContent = inMsgs;
    else inputMessages = messagesFromValue(inMsgs, 'user');
  } else if (read.inAccs) inputMessages = messagesFromAccs(read.inAccs, false);
  else if (ev && ev.input.length > 0) inputMessages = ev.input;
  else if (v[SLOT.legacyPrompt] !== undefined)
    inputMessages = messagesFromValue(v[SLOT.legacyPrompt], 'user');
  else if (v[SLOT.aiPrompt] !== undefined) inputMessages = messagesFromValue(v[SLOT.aiPrompt], 'user');
  else if (v[SLOT.oiInputValue] !== undefined)
    inputMessages = messagesFromValue(v[SLOT.oiInputValue], 'user');
  else if (read.embedTexts)
    inputMessages = [{ role: 'user', parts: read.embedTexts.map((t) => ({ type: 'text', content: t })) }];

  let systemParts: GenAiMessagePart[] | undefined;
  if (inputMessages) {
    const rest: GenAiMessage[] = [];
    for (const m of inputMessages) {
      if (isSystemRole(m.role)) (systemParts ??= []).push(...canonicalMessage(m, false).parts);
      else rest.push(canonicalMessage(m, false));
    }
    if (rest.length > 0) inputContent = JSON.stringify(rest);
  }
  return { inputContent, systemParts };
}

/** System instructions plus the history's system messages (merged), or the instructions as sent. */
function systemContentOf(
  instructions: AttributeValue | undefined,
  systemParts: GenAiMessagePart[] | undefined,
): string {
  let systemContent = '';
  if (systemParts && systemParts.length > 0) {
    systemContent = JSON.stringify(mergeParts(partsOfValue(instructions), systemParts));
  }
  if (systemContent === '' && instructions !== undefined) systemContent = passthroughParts(instructions);
  return systemContent;
}

// ── Stage: outcome ──

function finishReasonsOf(
  declared: AttributeValue | undefined,
  nativeFinish: string | undefined,
  outputMessages: GenAiMessage[] | undefined,
): string[] {
  let finishReasons = reasons(declared);
  if (finishReasons.length === 0 && nativeFinish !== undefined)
    finishReasons = [normalizeFinishReason(nativeFinish)];
  if (finishReasons.length === 0 && outputMessages) {
    for (const m of outputMessages) if (m.finish_reason) finishReasons.push(m.finish_reason);
  }
  return finishReasons;
}

function statusOf(
  statusCode: DecodedSpan['statusCode'],
  errorType: string,
  carriesResponse: boolean,
): CallStatus {
  if (statusCode === 'Error' || errorType !== '') return 'error';
  if (statusCode === 'Ok') return 'ok';
  // OTel leaves client spans Unset on success; a span that carries a response did succeed.
  return carriesResponse ? 'ok' : 'unset';
}

// ── Stage: timing ──

function ttftMsOf(
  span: DecodedSpan,
  v: readonly (AttributeValue | undefined)[],
  ev: SpanEvents | undefined,
): number | null {
  const ttftS = num(v[SLOT.ttftS]) ?? num(v[SLOT.openlitTtftS]);
  if (ttftS !== undefined) return ttftS * 1000;
  const aiTtftMs = num(v[SLOT.aiTtftMs]);
  if (aiTtftMs !== undefined) return aiTtftMs;
  if (ev?.firstTokenTimeUnixNano) return diffMs(span.startTimeUnixNano, ev.firstTokenTimeUnixNano);
  return null;
}

function streamingOf(v: readonly (AttributeValue | undefined)[]): boolean {
  return (
    bool(v[SLOT.stream]) ??
    bool(v[SLOT.tlIsStreaming]) ??
    bool(v[SLOT.openlitIsStream]) ??
    streamFromInvocationParams(v[SLOT.oiInvocationParams]) ??
    (text(v[SLOT.aiOperationId])?.endsWith('.doStream') || undefined) ??
    false
  );
}

// ── Stage: identity ──

type CallIdentity = Pick<LlmCall, 'userId' | 'sessionId' | 'conversationId' | 'promptName' | 'promptVersion'>;

function identityOf(
  attrs: Readonly<Record<string, AttributeValue>>,
  v: readonly (AttributeValue | undefined)[],
  assoc: Record<string, string> | undefined,
  aliases: AttributeAliases | undefined,
): CallIdentity {
  const aiPrompt = v[SLOT.aiLangfusePrompt] !== undefined ? promptRef(v[SLOT.aiLangfusePrompt]) : undefined;
  return {
    userId:
      aliasedValue(attrs, aliases?.userId) ??
      text(v[SLOT.userId]) ??
      assoc?.user_id ??
      assoc?.userId ??
      text(v[SLOT.lfUserId]) ??
      text(v[SLOT.enduserId]) ??
      text(v[SLOT.openlitUser]) ??
      '',
    sessionId:
      aliasedValue(attrs, aliases?.sessionId) ??
      text(v[SLOT.sessionId]) ??
      assoc?.session_id ??
      assoc?.sessionId ??
      text(v[SLOT.lfSessionId]) ??
      '',
    conversationId: text(v[SLOT.conversationId]) ?? assoc?.conversation_id ?? '',
    promptName:
      aliasedValue(attrs, aliases?.promptName) ??
      text(v[SLOT.promptName]) ??
      text(v[SLOT.tlPromptKey]) ??
      text(v[SLOT.lfPromptName]) ??
      text(v[SLOT.oiPromptId]) ??
      assoc?.prompt_name ??
      assoc?.promptName ??
      aiPrompt?.name ??
      '',
    promptVersion:
      aliasedValue(attrs, aliases?.promptVersion) ??
      text(v[SLOT.promptVersion]) ??
      text(v[SLOT.tlPromptVersion]) ??
      text(v[SLOT.oiPromptVersion]) ??
      text(v[SLOT.lfPromptVersion]) ??
      assoc?.prompt_version ??
      assoc?.promptVersion ??
      aiPrompt?.version ??
      '',
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
    if (startsJsonArray(value) && isJsonArray(value)) return value;
    return value === '' ? '' : JSON.stringify([{ type: 'text', content: value }]);
  }
  return value === null ? '' : JSON.stringify(value);
}

const LEFT_BRACKET = 0x5b; // [
const LEFT_BRACE = 0x7b; // {

/** Cheap pre-check before a parse: the text opens a JSON array. */
function startsJsonArray(text: string): boolean {
  return text.charCodeAt(0) === LEFT_BRACKET;
}

function startsJsonObject(text: string): boolean {
  return text.charCodeAt(0) === LEFT_BRACE;
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
  if (typeof value !== 'string' || mime !== 'application/json' || !startsJsonObject(value)) return undefined;
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
    const parsed = startsJsonArray(x) ? parseMaybeJson(x) : x;
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
  const arr = typeof x === 'string' && startsJsonArray(x) ? parseMaybeJson(x) : x;
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
