export { startFakeOpenAI } from './openai.js';
export { startFakeAnthropic } from './anthropic.js';
export { FAKE_REPLY_HEADER } from './types.js';
export type {
  FakeServer,
  FakeServerOptions,
  FakeReply,
  FakeUsage,
  FakeToolCall,
  FakeError,
  FakeResponder,
  RecordedRequest,
} from './types.js';
