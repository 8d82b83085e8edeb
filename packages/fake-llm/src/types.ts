import type { IncomingHttpHeaders } from 'node:http';

/**
 * Token counts of one fake reply, provider-neutral, with the GenAI semconv meaning:
 * `inputTokens` includes cached tokens (read and written), `outputTokens` includes reasoning tokens.
 * The fake Anthropic server reports `input_tokens = inputTokens - cacheReadTokens - cacheWriteTokens`
 * as the real API does, so a test can assert the same numbers for both providers.
 */
export interface FakeUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export interface FakeToolCall {
  /** @default `call_fake_<n>` (OpenAI) / `toolu_fake_<n>` (Anthropic) */
  id?: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface FakeError {
  /** HTTP status, e.g. 429, 500, 529. */
  status: number;
  /** @default a message naming the status */
  message?: string;
  /** Provider error type, e.g. `rate_limit_error`. @default derived from the status */
  type?: string;
  /** Sent as the `retry-after` header (seconds). */
  retryAfterSeconds?: number;
}

/**
 * What the fake answers to one request. Every field is optional; unset fields fall back to the
 * server's `defaults`, then to deterministic values derived from the request.
 */
export interface FakeReply {
  /** Assistant text. @default `"This is a deterministic reply from the fake server."` */
  content?: string;
  /** Response model. @default the request model */
  model?: string;
  /** Token counts. @default input = ceil(input chars / 4), output = ceil(output chars / 4) */
  usage?: Partial<FakeUsage>;
  toolCalls?: FakeToolCall[];
  /** Provider-native finish/stop reason. @default `stop`/`tool_calls` (OpenAI), `end_turn`/`tool_use` (Anthropic) */
  finishReason?: string;
  /** Answer with this HTTP error instead of a completion. */
  error?: FakeError;
  /** Delay before the first stream event, or before the whole non-streaming response. @default 0 */
  ttftMs?: number;
  /** Delay between stream events (non-streaming: added once to `ttftMs`). @default 0 */
  delayMs?: number;
  /**
   * Destroy the connection after writing this many stream events (0: before answering at all,
   * streaming or not), to simulate a network failure.
   */
  dropAfterChunks?: number;
  /** Embedding vector length. @default 8 */
  embeddingDimensions?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (or the raw text when it is not JSON). */
  body: unknown;
}

/** Decides the reply for requests that have no scripted reply queued. */
export type FakeResponder = (request: RecordedRequest) => FakeReply | undefined;

export interface FakeServerOptions {
  /** Applied under every reply (queued, header or responder). */
  defaults?: FakeReply;
  responder?: FakeResponder;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
}

export interface FakeServer {
  /**
   * Base URL to hand to the official client (`new OpenAI({ baseURL: url })`: ends with `/v1`;
   * `new Anthropic({ baseURL: url })`: the origin).
   */
  url: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues replies; each request consumes the next one (FIFO) before the responder is asked. */
  script(...replies: FakeReply[]): FakeServer;
  /** Clears the queue, the recorded requests and the id sequence. */
  reset(): void;
  /** Drops open connections and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/** Per-request override: a JSON `FakeReply` in this header wins over the queue and the responder. */
export const FAKE_REPLY_HEADER = 'x-fake-reply';
