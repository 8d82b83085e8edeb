export { init, flush, shutdown, stats, llmwatchSpanProcessor } from './init.js';
export { wrapOpenAI } from './openai.js';
export { wrapAnthropic } from './anthropic.js';
export { observe } from './observe.js';
export { withContext } from './context.js';
export type {
  InitOptions,
  ExportOptions,
  SpanProcessorOptions,
  CapturePolicy,
  SdkStats,
  ObserveOptions,
  StepHandle,
  StepKind,
  RetrievedDocument,
  LlmwatchContext,
} from './types.js';
