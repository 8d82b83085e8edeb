import { GENAI, GENERAL, LEGACY_GENAI, LLMWATCH } from '../semconv.js';

/**
 * Mapping tables, one per instrumentation dialect: attribute name → slot. A slot holds the raw
 * value of one source; `normalize.ts` resolves each LlmCall field from its slots in a fixed
 * priority order, so two dialects that name the same concept differently never fight over it.
 *
 * Sources (read, not guessed):
 * - GenAI semconv: @opentelemetry/semantic-conventions 1.45 incubating and the
 *   semantic-conventions-genai registry (current), ≤1.36 names kept in LEGACY_GENAI.
 * - OpenLLMetry: @traceloop/ai-semantic-conventions 0.27 (`llm.*`, `traceloop.*`) and the older
 *   indexed `gen_ai.prompt.{i}.*` / `gen_ai.completion.{i}.*` layout (handled by prefix).
 * - OpenInference: @arizeai/openinference-semantic-conventions 2.12.
 * - OpenLIT: openlit `semcov` (SemanticConvention) constants.
 * - Langfuse: its OTel span attributes (`LangfuseOtelSpanAttributes`, `langfuse.observation.*`,
 *   `langfuse.trace.*`) and the older `langfuse.prompt.*` / `langfuse.user.id` names its server
 *   still reads.
 */
export const SLOTS = [
  // what / who
  'opName',
  'providerName',
  'system',
  'reqModel',
  'respModel',
  'serverAddress',
  'serverPort',
  'respId',
  'oiKind',
  'oiModel',
  'oiEmbeddingModel',
  'oiProvider',
  'oiSystem',
  'tlRequestType',
  'tlSpanKind',
  'lwSpanKind',
  // tokens
  'inTok',
  'outTok',
  'promptTok',
  'complTok',
  'cacheRead',
  'cacheReadFlat',
  'cacheWrite',
  'cacheWriteFlat',
  'reasoning',
  'reasoningFlat',
  'oiPromptTok',
  'oiComplTok',
  'oiCacheRead',
  'oiCacheWrite',
  'oiReasoning',
  // timing / stream / outcome
  'ttftS',
  'openlitTtftS',
  'stream',
  'tlIsStreaming',
  'openlitIsStream',
  'oiInvocationParams',
  'finishReasons',
  'oiFinishReason',
  'errorType',
  // identity
  'userId',
  'enduserId',
  'openlitUser',
  'sessionId',
  'conversationId',
  'promptName',
  'promptVersion',
  'tlPromptKey',
  'tlPromptVersion',
  'oiPromptVersion',
  'oiPromptId',
  'oiTags',
  'oiMetadata',
  'openlitEnv',
  'openlitApp',
  'tlWorkflow',
  'lfPromptName',
  'lfPromptVersion',
  'lfUserId',
  'lfSessionId',
  'lfTags',
  'aiLangfusePrompt',
  // content
  'inMsgs',
  'outMsgs',
  'sysInstr',
  'legacyPrompt',
  'legacyCompletion',
  'oiInputValue',
  'oiInputMime',
  'oiOutputValue',
  'oiOutputMime',
  'inputEmbedding',
  'outputEmbedding',
  'lwMarker',
  // Vercel AI SDK
  'aiPrompt',
  'aiResponseText',
  'aiToolCalls',
  'aiFinishReason',
  'aiTtftMs',
  'aiOperationId',
  'aiPromptTokens',
  'aiCompletionTokens',
] as const;
export type SlotName = (typeof SLOTS)[number];

/** Dialect evidence bits, OR-ed while reading attributes. */
export const HINT = {
  none: 0,
  llmwatch: 1,
  openinference: 2,
  openllmetry: 4,
  openlit: 8,
  genai: 16,
  legacy: 32,
} as const;

type Table = Readonly<Record<string, SlotName>>;

/** GenAI semconv, current (1.37+ and the genai repository). */
export const GENAI_TABLE: Table = {
  [GENAI.operationName]: 'opName',
  [GENAI.providerName]: 'providerName',
  [GENAI.requestModel]: 'reqModel',
  [GENERAL.serverAddress]: 'serverAddress',
  [GENERAL.serverPort]: 'serverPort',
  [GENAI.responseModel]: 'respModel',
  [GENAI.responseId]: 'respId',
  [GENAI.usageInputTokens]: 'inTok',
  [GENAI.usageOutputTokens]: 'outTok',
  [GENAI.usageCacheReadInputTokens]: 'cacheRead',
  [GENAI.usageCacheCreationInputTokens]: 'cacheWrite',
  [GENAI.usageReasoningOutputTokens]: 'reasoning',
  [GENAI.responseTimeToFirstChunk]: 'ttftS',
  [GENAI.requestStream]: 'stream',
  [GENAI.responseFinishReasons]: 'finishReasons',
  [GENAI.conversationId]: 'conversationId',
  [GENAI.promptName]: 'promptName',
  [GENAI.promptVersion]: 'promptVersion',
  [GENAI.inputMessages]: 'inMsgs',
  [GENAI.outputMessages]: 'outMsgs',
  [GENAI.systemInstructions]: 'sysInstr',
  [GENERAL.errorType]: 'errorType',
  [GENERAL.userId]: 'userId',
  [GENERAL.sessionId]: 'sessionId',
  'enduser.id': 'enduserId',
};

/** GenAI semconv ≤1.36 (content lives in span events, read separately). */
export const GENAI_LEGACY_TABLE: Table = {
  [LEGACY_GENAI.system]: 'system',
  [LEGACY_GENAI.usagePromptTokens]: 'promptTok',
  [LEGACY_GENAI.usageCompletionTokens]: 'complTok',
  [LEGACY_GENAI.prompt]: 'legacyPrompt',
  [LEGACY_GENAI.completion]: 'legacyCompletion',
};

/** llmwatch SDK: GenAI semconv plus these. */
export const LLMWATCH_TABLE: Table = {
  [LLMWATCH.promptVersion]: 'promptVersion',
  [LLMWATCH.inputEmbedding]: 'inputEmbedding',
  [LLMWATCH.outputEmbedding]: 'outputEmbedding',
  [LLMWATCH.spanKind]: 'lwSpanKind',
  [LLMWATCH.sdkName]: 'lwMarker',
  [LLMWATCH.contentPolicy]: 'lwMarker',
};

/** OpenLLMetry / Traceloop (plus `gen_ai.prompt.{i}.*`, `traceloop.association.properties.*` by prefix). */
export const OPENLLMETRY_TABLE: Table = {
  'llm.request.type': 'tlRequestType',
  'traceloop.span.kind': 'tlSpanKind',
  'traceloop.workflow.name': 'tlWorkflow',
  'traceloop.prompt.key': 'tlPromptKey',
  'traceloop.prompt.version': 'tlPromptVersion',
  'llm.is_streaming': 'tlIsStreaming',
  'llm.usage.total_tokens': 'lwMarker',
  'gen_ai.usage.total_tokens': 'lwMarker',
  // Pre-gen_ai OpenLLMetry (2023-24) names, still sent by old deployments.
  'llm.vendor': 'system',
  'llm.request.model': 'reqModel',
  'llm.response.model': 'respModel',
  'llm.usage.prompt_tokens': 'promptTok',
  'llm.usage.completion_tokens': 'complTok',
  [LEGACY_GENAI.usageCacheReadInputTokensFlat]: 'cacheReadFlat',
  [LEGACY_GENAI.usageCacheCreationInputTokensFlat]: 'cacheWriteFlat',
  'gen_ai.usage.reasoning_tokens': 'reasoningFlat',
};

/** OpenInference (plus `llm.input_messages.*`, `llm.output_messages.*`, `embedding.embeddings.*` by prefix). */
export const OPENINFERENCE_TABLE: Table = {
  'openinference.span.kind': 'oiKind',
  'llm.model_name': 'oiModel',
  'embedding.model_name': 'oiEmbeddingModel',
  'llm.provider': 'oiProvider',
  'llm.system': 'oiSystem',
  'llm.token_count.prompt': 'oiPromptTok',
  'llm.token_count.completion': 'oiComplTok',
  'llm.token_count.prompt_details.cache_read': 'oiCacheRead',
  'llm.token_count.prompt_details.cache_write': 'oiCacheWrite',
  'llm.token_count.completion_details.reasoning': 'oiReasoning',
  'llm.invocation_parameters': 'oiInvocationParams',
  'llm.finish_reason': 'oiFinishReason',
  'llm.prompt_template.version': 'oiPromptVersion',
  'prompt.id': 'oiPromptId',
  'tag.tags': 'oiTags',
  metadata: 'oiMetadata',
  'input.value': 'oiInputValue',
  'input.mime_type': 'oiInputMime',
  'output.value': 'oiOutputValue',
  'output.mime_type': 'oiOutputMime',
};

/** OpenLIT. */
export const OPENLIT_TABLE: Table = {
  'gen_ai.server.ttft': 'openlitTtftS',
  'gen_ai.server.time_to_first_token': 'openlitTtftS',
  'gen_ai.request.is_stream': 'openlitIsStream',
  'gen_ai.request.user': 'openlitUser',
  'gen_ai.environment': 'openlitEnv',
  // OpenLIT ≥1.x writes the environment as a span attribute under the general names.
  'deployment.environment': 'openlitEnv',
  'deployment.environment.name': 'openlitEnv',
  'gen_ai.application_name': 'openlitApp',
  'gen_ai.usage.cost': 'lwMarker',
  'gen_ai.endpoint': 'lwMarker',
};

/**
 * Vercel AI SDK (`experimental_telemetry`): read on its provider-call spans (`ai.*.doGenerate`,
 * `ai.*.doStream`), which also carry `gen_ai.system` / `gen_ai.request.model` / usage. Its outer
 * `ai.generateText` span names the model only as `ai.model.id` (not read), so it is not a second
 * call. Recorded as dialect `genai_legacy` (the `Dialect` type has no AI SDK member).
 */
export const VERCEL_AI_TABLE: Table = {
  'ai.prompt.messages': 'aiPrompt',
  'ai.response.text': 'aiResponseText',
  'ai.response.toolCalls': 'aiToolCalls',
  'ai.response.finishReason': 'aiFinishReason',
  'ai.response.msToFirstChunk': 'aiTtftMs',
  'ai.operationId': 'aiOperationId',
  'ai.usage.promptTokens': 'aiPromptTokens',
  'ai.usage.inputTokens': 'aiPromptTokens',
  'ai.usage.completionTokens': 'aiCompletionTokens',
  'ai.usage.outputTokens': 'aiCompletionTokens',
  // Langfuse's AI SDK integration: `{"name": …, "version": …}` of the prompt used.
  'ai.telemetry.metadata.langfusePrompt': 'aiLangfusePrompt',
};

/**
 * Langfuse OTel SDKs (and exporters that target Langfuse): prompt link and trace identity. User
 * and session ids under the general `user.id` / `session.id` are in GENAI_TABLE; metadata under
 * `langfuse.{trace,observation}.metadata.*` becomes tags (read by prefix).
 */
export const LANGFUSE_TABLE: Table = {
  'langfuse.observation.prompt.name': 'lfPromptName',
  'langfuse.observation.prompt.version': 'lfPromptVersion',
  'langfuse.prompt.name': 'lfPromptName',
  'langfuse.prompt.version': 'lfPromptVersion',
  'langfuse.user.id': 'lfUserId',
  'langfuse.session.id': 'lfSessionId',
  'langfuse.trace.tags': 'lfTags',
};

const DIALECT_TABLES: readonly [Table, number][] = [
  [GENAI_TABLE, HINT.none],
  [GENAI_LEGACY_TABLE, HINT.legacy],
  [LLMWATCH_TABLE, HINT.llmwatch],
  [OPENLLMETRY_TABLE, HINT.openllmetry],
  [OPENINFERENCE_TABLE, HINT.openinference],
  [OPENLIT_TABLE, HINT.openlit],
  [VERCEL_AI_TABLE, HINT.none],
  [LANGFUSE_TABLE, HINT.none],
];

/** An ATTRIBUTE_MAP entry holds the slot index in its low bits and the dialect hint bits above. */
export const ENTRY_HINT_SHIFT = 8;
export const ENTRY_SLOT_MASK = (1 << ENTRY_HINT_SHIFT) - 1;

/**
 * The merged lookup: name → slot index | hint << ENTRY_HINT_SHIFT. `lwMarker` entries only mark
 * the dialect. A few current-semconv names are dialect evidence on their own.
 */
export const ATTRIBUTE_MAP: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [table, hint] of DIALECT_TABLES) {
    for (const [name, slot] of Object.entries(table)) {
      m.set(name, SLOTS.indexOf(slot) | (hint << ENTRY_HINT_SHIFT));
    }
  }
  for (const name of [
    GENAI.providerName,
    GENAI.inputMessages,
    GENAI.outputMessages,
    GENAI.usageCacheReadInputTokens,
  ]) {
    m.set(name, (m.get(name) ?? 0) | (HINT.genai << ENTRY_HINT_SHIFT));
  }
  // General names OpenLIT uses, read but not evidence of the dialect.
  for (const name of ['deployment.environment', 'deployment.environment.name']) {
    m.set(name, SLOTS.indexOf('openlitEnv'));
  }
  return m;
})();

/**
 * Layouts read by name prefix rather than from the tables: indexed messages
 * (`<prefix><i>.<field>`, see addIndexedMessageAttribute) and free-form keys (`<prefix><key>`).
 */
export const PREFIX = {
  /** OpenLLMetry's indexed messages. */
  genAiPrompt: 'gen_ai.prompt.',
  genAiCompletion: 'gen_ai.completion.',
  /** Pre-gen_ai OpenLLMetry's indexed messages. */
  llmPrompts: 'llm.prompts.',
  llmCompletions: 'llm.completions.',
  /** OpenInference's indexed messages. */
  oiInputMessages: 'llm.input_messages.',
  oiOutputMessages: 'llm.output_messages.',
  /** OpenInference embedding inputs: `embedding.embeddings.<i>.embedding.text` (prefix, suffix). */
  oiEmbeddings: 'embedding.embeddings.',
  oiEmbeddingText: '.embedding.text',
  /** Any llmwatch attribute marks the dialect; `llmwatch.tag.<key>` are user tags. */
  llmwatch: 'llmwatch.',
  llmwatchTag: LLMWATCH.tagPrefix,
  /** Any traceloop attribute marks OpenLLMetry; association properties are grouping keys. */
  traceloop: 'traceloop.',
  traceloopAssociation: 'traceloop.association.properties.',
  /** Langfuse trace and observation metadata: grouping keys like the association properties. */
  langfuse: 'langfuse.',
  langfuseTraceMetadata: 'langfuse.trace.metadata.',
  langfuseObservationMetadata: 'langfuse.observation.metadata.',
  /** Vercel AI SDK `experimental_telemetry.metadata`: identity (userId, sessionId) and tags. */
  aiTelemetryMetadata: 'ai.telemetry.metadata.',
} as const;

export const SLOT = Object.fromEntries(SLOTS.map((s, i) => [s, i])) as { readonly [K in SlotName]: number };

/**
 * Provider names as the instrumentations write them → current `gen_ai.provider.name` values.
 * Unlisted values are kept, lower-cased.
 */
export const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure: 'azure.ai.openai',
  azure_openai: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  'az.ai.openai': 'azure.ai.openai',
  'azure.ai.openai': 'azure.ai.openai',
  'az.ai.inference': 'azure.ai.inference',
  'azure.ai.inference': 'azure.ai.inference',
  anthropic: 'anthropic',
  aws: 'aws.bedrock',
  bedrock: 'aws.bedrock',
  aws_bedrock: 'aws.bedrock',
  'aws.bedrock': 'aws.bedrock',
  amazon: 'aws.bedrock',
  gemini: 'gcp.gemini',
  'gcp.gemini': 'gcp.gemini',
  'google.ai.studio': 'gcp.gemini',
  google_genai: 'gcp.gemini',
  google: 'gcp.gemini',
  vertexai: 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  'gcp.vertex_ai': 'gcp.vertex_ai',
  google_vertexai: 'gcp.vertex_ai',
  'gcp.gen_ai': 'gcp.gen_ai',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  mistral_ai: 'mistral_ai',
  cohere: 'cohere',
  groq: 'groq',
  deepseek: 'deepseek',
  xai: 'x_ai',
  x_ai: 'x_ai',
  'x.ai': 'x_ai',
  perplexity: 'perplexity',
  meta: 'meta',
  'ibm.watson.ai': 'ibm.watsonx.ai',
  'ibm.watsonx.ai': 'ibm.watsonx.ai',
  watsonx: 'ibm.watsonx.ai',
  // Vercel AI SDK provider ids (`openai.chat`, `google.vertex.chat`, …) resolve through their
  // first one or two dot segments; these are the ones that differ from the rules above.
  'google.vertex': 'gcp.vertex_ai',
  'google.generative-ai': 'gcp.gemini',
  'amazon-bedrock': 'aws.bedrock',
  'azure-openai.chat': 'azure.ai.openai',
};

/** Operation names → `gen_ai.operation.name` values (OpenLLMetry `llm.request.type` included). */
export const OPERATION_ALIASES: Readonly<Record<string, string>> = {
  chat: 'chat',
  completion: 'text_completion',
  text_completion: 'text_completion',
  generate_content: 'generate_content',
  embedding: 'embeddings',
  embeddings: 'embeddings',
  rerank: 'rerank',
};

/**
 * Operations that are never an LLM call even when a model is attached (agent and tool spans carry
 * their children's model and tokens; counting them would double the cost).
 */
export const NON_LLM_OPERATIONS: ReadonlySet<string> = new Set([
  'execute_tool',
  'invoke_agent',
  'create_agent',
  'invoke_workflow',
  'retrieval',
  // OpenLIT / Traceloop framework spans
  'vectordb',
  'framework',
  'agent',
  'execute_task',
  'guardrail.run',
  'guard',
]);

/** OpenInference span kinds that are LLM calls; every other kind (CHAIN, TOOL, RETRIEVER…) is not. */
export const OPENINFERENCE_LLM_KINDS: ReadonlySet<string> = new Set(['LLM', 'EMBEDDING']);
/** llmwatch observe() step kinds that are LLM calls. */
export const LLMWATCH_LLM_KINDS: ReadonlySet<string> = new Set(['llm', 'embedding']);

/**
 * Provider finish reasons → the GenAI output-message values (stop, length, content_filter,
 * tool_call, error), so `finishReasons` groups the same outcome the same way across providers and
 * instrumentations. Unlisted values are kept, lower-cased.
 */
export const FINISH_REASON_ALIASES: Readonly<Record<string, string>> = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  complete: 'stop',
  completed: 'stop',
  eos: 'stop',
  length: 'length',
  max_tokens: 'length',
  max_output_tokens: 'length',
  model_length: 'length',
  tool_calls: 'tool_call',
  'tool-calls': 'tool_call',
  tool_call: 'tool_call',
  tool_use: 'tool_call',
  function_call: 'tool_call',
  content_filter: 'content_filter',
  'content-filter': 'content_filter',
  safety: 'content_filter',
  recitation: 'content_filter',
  blocklist: 'content_filter',
  prohibited_content: 'content_filter',
  refusal: 'content_filter',
  error: 'error',
};
