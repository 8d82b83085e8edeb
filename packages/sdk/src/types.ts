import type { Attributes, TracerProvider } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * What prompt and completion text leaves the process:
 * - `none`: no content attributes at all;
 * - `redacted`: content with PII and secrets replaced by `[REDACTED:<type>]` in-process (core
 *   detectors), so raw secrets never leave the app;
 * - `full`: content as sent and received.
 */
export type CapturePolicy = 'none' | 'redacted' | 'full';

/** Where and how spans are exported to the collector (OTLP/HTTP behind a batch span processor). */
export interface ExportOptions {
  /**
   * Collector base URL (`/v1/traces` is appended) or a full `.../v1/traces` URL.
   * @default process.env.LLMWATCH_ENDPOINT ?? 'http://127.0.0.1:4318'
   */
  endpoint?: string;
  /** Project key, sent as `Authorization: Bearer <apiKey>`. @default process.env.LLMWATCH_API_KEY */
  apiKey?: string;
  /** Extra HTTP headers on every export. */
  headers?: Record<string, string>;
  /** Spans waiting for export beyond this are dropped and counted (`stats().spansDropped`). @default 2048 */
  maxQueueSize?: number;
  /** OTLP encoding. @default 'proto' */
  exporter?: 'proto' | 'json';
  /**
   * Time one export (with its retries) may take before its spans count as failed; also the
   * longest a script waits at exit for its last spans. @default 10000
   */
  exportTimeoutMillis?: number;
  /** Delay between batch exports. @default 1000 */
  scheduledDelayMillis?: number;
}

export interface InitOptions extends ExportOptions {
  /** @default process.env.OTEL_SERVICE_NAME ?? 'unknown_service' */
  serviceName?: string;
  /** @default process.env.LLMWATCH_CAPTURE_CONTENT ?? 'redacted' */
  capture?: CapturePolicy;
  /**
   * Replaces the OTLP batch pipeline (e.g. a `SimpleSpanProcessor(new InMemorySpanExporter())` in
   * tests). The SDK still counts spans through it.
   */
  spanProcessor?: SpanProcessor;
  /**
   * The app's provider, when it is not registered globally. With `llmwatchSpanProcessor()` in it,
   * the wrapped clients trace through it; without, it only tells `init()` that the app traces.
   * @default the provider registered globally, if any
   */
  tracerProvider?: TracerProvider;
  /** Extra resource attributes (e.g. `deployment.environment.name`). */
  resourceAttributes?: Attributes;
}

/** Options of `llmwatchSpanProcessor()`, the processor an app adds to its own provider. */
export interface SpanProcessorOptions extends ExportOptions {
  /** Which of the app's ended spans go to llmwatch. @default every sampled span */
  shouldExportSpan?: (span: ReadableSpan) => boolean;
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
  /**
   * The document's text, recorded under the capture policy (redacted by default, dropped with
   * `capture: 'none'`): what lets the collector tell a knowledge gap from a retrieval miss or an
   * ungrounded answer (docs/rag.md).
   */
  content?: string;
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
   * `{"id": string, "score"?: number, "content"?: string}`, in rank order (content subject to the
   * capture policy).
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
