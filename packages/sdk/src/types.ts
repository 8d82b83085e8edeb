import type { Attributes, TracerProvider } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * What prompt and completion text leaves the process:
 * - `none`: no content attributes at all;
 * - `redacted`: content with PII and secrets replaced by `[REDACTED:<type>]` in-process (core
 *   detectors), so raw secrets never leave the app;
 * - `full`: content as sent and received.
 */
export type CapturePolicy = 'none' | 'redacted' | 'full';

export interface InitOptions {
  /**
   * Collector base URL (`/v1/traces` is appended) or a full `.../v1/traces` URL.
   * @default process.env.LLMWATCH_ENDPOINT ?? 'http://127.0.0.1:4318'
   */
  endpoint?: string;
  /** @default process.env.OTEL_SERVICE_NAME ?? 'unknown_service' */
  serviceName?: string;
  /** Project key, sent as `Authorization: Bearer <apiKey>`. @default process.env.LLMWATCH_API_KEY */
  apiKey?: string;
  /** @default process.env.LLMWATCH_CAPTURE_CONTENT ?? 'redacted' */
  capture?: CapturePolicy;
  /** Extra HTTP headers on every export. */
  headers?: Record<string, string>;
  /** Spans waiting for export beyond this are dropped and counted (`stats().spansDropped`). @default 2048 */
  maxQueueSize?: number;
  /** OTLP encoding. @default 'proto' */
  exporter?: 'proto' | 'json';
  /** Time one export (with its retries) may take before its spans count as failed. @default 10000 */
  exportTimeoutMillis?: number;
  /** Delay between batch exports. @default 1000 */
  scheduledDelayMillis?: number;
  /**
   * Replaces the OTLP batch pipeline (e.g. a `SimpleSpanProcessor(new InMemorySpanExporter())` in
   * tests). The SDK still counts spans through it.
   */
  spanProcessor?: SpanProcessor;
  /**
   * Use this provider's tracer instead of creating one (its own processors export the spans;
   * ours is added when the provider allows it). By default the SDK joins a global provider the
   * app already registered, and otherwise creates a private one.
   */
  tracerProvider?: TracerProvider;
  /** Extra resource attributes (e.g. `deployment.environment.name`). */
  resourceAttributes?: Attributes;
}

/** Export counters of the SDK's own pipeline since `init()`. */
export interface SdkStats {
  /** Sampled spans that ended and were handed to the export pipeline. */
  spansEnded: number;
  /** Spans the collector acknowledged. */
  spansExported: number;
  /** Spans whose export failed (collector down, rejected, timed out). */
  spansFailed: number;
  /** Spans dropped because `maxQueueSize` spans were already waiting. */
  spansDropped: number;
}

/** Kind of an `observe()` step, recorded as `llmwatch.span.kind`. */
export type StepKind = 'chain' | 'agent' | 'tool' | 'retrieval' | 'task' | 'embedding' | 'llm' | 'workflow';

/** One retrieved document, as recorded in `gen_ai.retrieval.documents`. */
export interface RetrievedDocument {
  id: string;
  score?: number;
}

export interface ObserveOptions {
  /** @default 'task' */
  kind?: StepKind;
  attributes?: Attributes;
}

/** Handed to the `observe()` callback to record results on its span. */
export interface StepHandle {
  /** Sets attributes on the step's span (ignored after the step ended). */
  setAttributes(attributes: Attributes): void;
  /**
   * Records retrieved documents as `gen_ai.retrieval.documents`: a JSON array of
   * `{"id": string, "score"?: number}`, in rank order.
   */
  recordDocuments(documents: readonly RetrievedDocument[]): void;
  /** Records the retrieval query (`gen_ai.retrieval.query.text`), subject to the capture policy. */
  recordQuery(text: string): void;
}

/** Scope attributes attached to every span started inside `withContext()`. */
export interface LlmwatchContext {
  userId?: string;
  sessionId?: string;
  conversationId?: string;
  promptName?: string;
  promptVersion?: string;
  /** Each becomes `llmwatch.tag.<key>`. */
  tags?: Record<string, string>;
}
