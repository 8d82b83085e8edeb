/**
 * Attribute names, one place for the whole product (SDK, collector, detectors, dashboards).
 *
 * `GENAI` holds the current OpenTelemetry GenAI semantic conventions (checked against
 * @opentelemetry/semantic-conventions 1.45 incubating). `LEGACY_GENAI` holds names that older
 * semconv releases (≤1.36) used and other instrumentations still emit; we read them, never write
 * them. `LLMWATCH` holds the few concepts the conventions do not cover yet; they are namespaced so
 * they can be dropped the day the conventions grow them.
 */
export const GENAI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  conversationId: 'gen_ai.conversation.id',
  dataSourceId: 'gen_ai.data_source.id',
  outputType: 'gen_ai.output.type',

  requestModel: 'gen_ai.request.model',
  requestStream: 'gen_ai.request.stream',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestTopK: 'gen_ai.request.top_k',
  requestFrequencyPenalty: 'gen_ai.request.frequency_penalty',
  requestPresencePenalty: 'gen_ai.request.presence_penalty',
  requestStopSequences: 'gen_ai.request.stop_sequences',
  requestSeed: 'gen_ai.request.seed',
  requestChoiceCount: 'gen_ai.request.choice.count',
  requestEncodingFormats: 'gen_ai.request.encoding_formats',

  responseId: 'gen_ai.response.id',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',

  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',

  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  toolDefinitions: 'gen_ai.tool.definitions',

  promptName: 'gen_ai.prompt.name',
  promptVersion: 'gen_ai.prompt.version',
  embeddingsDimensionCount: 'gen_ai.embeddings.dimension.count',

  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  agentDescription: 'gen_ai.agent.description',
  agentVersion: 'gen_ai.agent.version',
  workflowName: 'gen_ai.workflow.name',

  toolName: 'gen_ai.tool.name',
  toolDescription: 'gen_ai.tool.description',
  toolType: 'gen_ai.tool.type',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',

  retrievalDocuments: 'gen_ai.retrieval.documents',
  retrievalQueryText: 'gen_ai.retrieval.query.text',

  evaluationName: 'gen_ai.evaluation.name',
  evaluationScoreValue: 'gen_ai.evaluation.score.value',
  evaluationScoreLabel: 'gen_ai.evaluation.score.label',
  evaluationExplanation: 'gen_ai.evaluation.explanation',

  openaiRequestServiceTier: 'gen_ai.openai.request.service_tier',
  openaiResponseServiceTier: 'gen_ai.openai.response.service_tier',
  openaiResponseSystemFingerprint: 'gen_ai.openai.response.system_fingerprint',
} as const;

/** Names from GenAI semconv ≤1.36 (and early drafts) that other instrumentations still send. */
export const LEGACY_GENAI = {
  system: 'gen_ai.system',
  usagePromptTokens: 'gen_ai.usage.prompt_tokens',
  usageCompletionTokens: 'gen_ai.usage.completion_tokens',
  usageCacheReadInputTokensFlat: 'gen_ai.usage.cache_read_input_tokens',
  usageCacheCreationInputTokensFlat: 'gen_ai.usage.cache_creation_input_tokens',
  prompt: 'gen_ai.prompt',
  completion: 'gen_ai.completion',
  openaiRequestSeed: 'gen_ai.openai.request.seed',
  openaiRequestResponseFormat: 'gen_ai.openai.request.response_format',
} as const;

/** General (non-GenAI) semconv attributes we read and write. */
export const GENERAL = {
  serviceName: 'service.name',
  serviceVersion: 'service.version',
  deploymentEnvironment: 'deployment.environment.name',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  userId: 'user.id',
  sessionId: 'session.id',
  exceptionType: 'exception.type',
  exceptionMessage: 'exception.message',
} as const;

/** llmwatch's own attributes, only where the conventions have no name yet. */
export const LLMWATCH = {
  promptVersion: 'llmwatch.prompt.version',
  /** Prefix: `llmwatch.tag.<key>` carries arbitrary user tags. */
  tagPrefix: 'llmwatch.tag.',
  costUsd: 'llmwatch.cost.usd',
  priceVersion: 'llmwatch.cost.price_version',
  /** Which capture policy produced the content attributes: none | redacted | full. */
  contentPolicy: 'llmwatch.content.policy',
  /** App-supplied embedding of the input or output, JSON array of numbers, for drift. */
  inputEmbedding: 'llmwatch.input.embedding',
  outputEmbedding: 'llmwatch.output.embedding',
  /** Kind of an observe() step: chain | agent | tool | retrieval | llm | embedding | task. */
  spanKind: 'llmwatch.span.kind',
  sdkName: 'llmwatch.sdk.name',
  sdkVersion: 'llmwatch.sdk.version',
  /** Number of PII/secret findings redacted client-side, by the SDK, before export. */
  redactedCount: 'llmwatch.redacted.count',
} as const;

/** Values of `gen_ai.operation.name`. */
export const GENAI_OPERATION = {
  chat: 'chat',
  textCompletion: 'text_completion',
  generateContent: 'generate_content',
  embeddings: 'embeddings',
  executeTool: 'execute_tool',
  createAgent: 'create_agent',
  invokeAgent: 'invoke_agent',
  retrieval: 'retrieval',
} as const;
export type GenAiOperation = (typeof GENAI_OPERATION)[keyof typeof GENAI_OPERATION];

/** Values of `gen_ai.provider.name` (well-known subset). */
export const GENAI_PROVIDER = {
  openai: 'openai',
  anthropic: 'anthropic',
  azureOpenai: 'azure.ai.openai',
  awsBedrock: 'aws.bedrock',
  gcpGemini: 'gcp.gemini',
  gcpVertexAi: 'gcp.vertex_ai',
  gcpGenAi: 'gcp.gen_ai',
  mistralAi: 'mistral_ai',
  cohere: 'cohere',
  groq: 'groq',
  deepseek: 'deepseek',
  xAi: 'x_ai',
  perplexity: 'perplexity',
  meta: 'meta',
} as const;
