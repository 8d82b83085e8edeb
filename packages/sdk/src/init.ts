import { GENERAL, LLMWATCH } from '@llmwatch/core';
import { TraceFlags, diag, trace } from '@opentelemetry/api';
import type { Context, TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { llmSpans } from './instrument.js';
import { SDK_NAME, SDK_VERSION, ensureContextManager, parseCapture, runtime } from './runtime.js';
import type { ExportOptions, InitOptions, SdkStats, SpanProcessorOptions } from './types.js';

/** Instrumentation scope of @anthropic-ai/sdk's built-in spans. */
const PROVIDER_SELF_TRACING_SCOPE = 'com.anthropic.sdk';

interface Counters extends SdkStats {
  /** Spans handed to the batch processor and not yet exported or failed. */
  pending: number;
}

/**
 * Counts spans through the pipeline and bounds it: when `maxQueueSize` spans are already
 * waiting (queued or in flight to a slow/down collector), new ones are dropped and counted
 * instead of growing memory. Only sampled spans are counted (the batch processor ignores the rest).
 */
class CountingProcessor implements SpanProcessor {
  private warnedDrop = false;
  private closing: Promise<void> | undefined;
  /** Provider-SDK self-tracing spans that duplicate one of our LLM spans. */
  private readonly duplicates = new WeakSet<object>();
  constructor(
    private readonly inner: SpanProcessor,
    readonly counters: Counters,
    private readonly maxPending: number,
    private readonly shouldExport: (span: ReadableSpan) => boolean = () => true,
  ) {}
  onStart(span: Span, parentContext: Context): void {
    if (span.instrumentationScope.name.startsWith(PROVIDER_SELF_TRACING_SCOPE)) {
      const parent = trace.getSpan(parentContext);
      if (parent && llmSpans.has(parent)) {
        this.duplicates.add(span);
        return;
      }
    }
    this.inner.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.duplicates.has(span) || !this.shouldExport(span)) return;
    const c = this.counters;
    if (c.pending >= this.maxPending) {
      c.spansDropped++;
      if (!this.warnedDrop) {
        this.warnedDrop = true;
        diag.warn(`llmwatch: export queue full (${this.maxPending} spans); dropping spans (see stats())`);
      }
      return;
    }
    c.spansEnded++;
    c.pending++;
    this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    this.closing ??= this.inner.shutdown().finally(() => pipelines.delete(this));
    return this.closing;
  }
}

class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly counters: Counters,
  ) {}
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const n = spans.length;
    this.inner.export(spans, (result) => {
      const c = this.counters;
      c.pending -= n;
      if (result.code === ExportResultCode.SUCCESS) c.spansExported += n;
      else c.spansFailed += n;
      resultCallback(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Every llmwatch pipeline alive in this process: the one `init()` made and those handed to an
 * app's provider by `llmwatchSpanProcessor()`. `flush()`, `stats()` and the exit flush cover all.
 */
const pipelines = new Set<CountingProcessor>();

function newCounters(): Counters {
  return { spansEnded: 0, spansExported: 0, spansFailed: 0, spansDropped: 0, pending: 0 };
}

function tracesUrl(endpoint: string): string {
  const e = endpoint.replace(/\/+$/, '');
  return e.endsWith('/v1/traces') ? e : `${e}/v1/traces`;
}

/** The OTLP/HTTP batch pipeline to the collector, counted and bounded. */
function otlpPipeline(
  options: ExportOptions,
  shouldExport?: (span: ReadableSpan) => boolean,
): CountingProcessor {
  const env = process.env;
  const counters = newCounters();
  const maxQueueSize = options.maxQueueSize ?? 2048;
  const headers: Record<string, string> = { ...options.headers };
  const apiKey = options.apiKey ?? env.LLMWATCH_API_KEY;
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  const url = tracesUrl(options.endpoint ?? env.LLMWATCH_ENDPOINT ?? 'http://127.0.0.1:4318');
  const timeoutMillis = options.exportTimeoutMillis ?? 10_000;
  const config = { url, headers, timeoutMillis };
  const exporter: SpanExporter =
    options.exporter === 'json' ? new OtlpHttpJsonExporter(config) : new OtlpProtoExporter(config);
  const batch = new BatchSpanProcessor({
    exporter: new CountingExporter(exporter, counters),
    maxQueueSize,
    maxExportBatchSize: Math.min(512, maxQueueSize),
    scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
    exportTimeoutMillis: timeoutMillis,
  });
  return track(new CountingProcessor(batch, counters, maxQueueSize, shouldExport));
}

function track(processor: CountingProcessor): CountingProcessor {
  pipelines.add(processor);
  watchExit();
  return processor;
}

let exitWatched = false;
/** `spansEnded` of each pipeline when the exit flush last ran. */
const flushedAtExit = new WeakMap<CountingProcessor, number>();
/**
 * A script that ends without `shutdown()` still delivers its spans: when the event loop runs
 * empty (`beforeExit`, which a server never reaches), spans ended since the last exit flush are
 * exported. The export keeps the process alive at most `exportTimeoutMillis`; after it the loop
 * empties again with nothing new to flush, and the process exits.
 */
function watchExit(): void {
  if (exitWatched) return;
  exitWatched = true;
  process.on('beforeExit', () => {
    for (const p of pipelines) {
      if ((flushedAtExit.get(p) ?? 0) === p.counters.spansEnded) continue;
      flushedAtExit.set(p, p.counters.spansEnded);
      p.forceFlush().catch((e: unknown) => diag.warn('llmwatch: flush at exit failed', e));
    }
  });
}

/**
 * A span processor that exports to llmwatch, for an app that runs its own OpenTelemetry SDK:
 * `new NodeSDK({ spanProcessors: [llmwatchSpanProcessor()] })` or
 * `new NodeTracerProvider({ spanProcessors: [..., llmwatchSpanProcessor()] })`. The wrapped
 * clients then trace through the app's provider, so an LLM call is a child of the app's span in
 * the same trace, and the app's spans reach llmwatch too (narrow them with `shouldExportSpan`).
 * The app's provider owns it: its `shutdown()` flushes and stops it.
 */
export function llmwatchSpanProcessor(options: SpanProcessorOptions = {}): SpanProcessor {
  return otlpPipeline(options, options.shouldExportSpan);
}

interface Installed {
  processor: CountingProcessor;
  own: TracerProvider;
  closing: Promise<void> | undefined;
}
let installed: Installed | undefined;

/** The SDK provider an app registered globally, or undefined when only the no-op proxy exists. */
function registeredProvider(): ApiTracerProvider | undefined {
  const global = trace.getTracerProvider() as ApiTracerProvider & { getDelegate?: () => ApiTracerProvider };
  const delegate = global.getDelegate ? global.getDelegate() : global;
  return delegate.constructor?.name === 'NoopTracerProvider' ? undefined : delegate;
}

/**
 * Starts recording LLM calls for llmwatch; calling it twice keeps the first configuration.
 *
 * - App without tracing: llmwatch spans go through a private TracerProvider with an OTLP/HTTP
 *   exporter to the collector (not registered globally, so other libraries stay untraced).
 * - App with its own provider and `llmwatchSpanProcessor()` in it: the wrapped clients trace
 *   through the app's provider (nothing else is created).
 * - App with its own provider without it (OpenTelemetry JS 1.x or 2.x): llmwatch spans go through
 *   the private provider, still as children of the app's active span in the same trace; the
 *   app's exporters do not get them. The choice is reported through `diag`.
 */
export function init(options: InitOptions = {}): void {
  if (installed) {
    diag.warn('llmwatch: init() called twice; keeping the first configuration');
    return;
  }
  ensureContextManager();
  const env = process.env;
  runtime.capture = options.capture ?? parseCapture(env.LLMWATCH_CAPTURE_CONTENT) ?? 'redacted';

  const appProvider = options.tracerProvider ?? registeredProvider();
  if (appProvider && pipelines.size > 0 && !options.spanProcessor) {
    runtime.tracer = appProvider.getTracer(SDK_NAME, SDK_VERSION);
    diag.info(
      "llmwatch: init() uses the app's TracerProvider, which exports to llmwatch through llmwatchSpanProcessor()",
    );
    return;
  }

  const processor = options.spanProcessor
    ? track(new CountingProcessor(options.spanProcessor, newCounters(), Number.POSITIVE_INFINITY))
    : otlpPipeline(options);
  const own = new TracerProvider({
    resource: resourceFromAttributes({
      [GENERAL.serviceName]: options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'unknown_service',
      [LLMWATCH.sdkName]: SDK_NAME,
      [LLMWATCH.sdkVersion]: SDK_VERSION,
      ...options.resourceAttributes,
    }),
    spanProcessors: [processor],
  });
  runtime.tracer = own.getTracer(SDK_NAME, SDK_VERSION);
  installed = { processor, own, closing: undefined };
  diag.info(
    appProvider
      ? "llmwatch: the app has its own TracerProvider without llmwatchSpanProcessor(); LLM spans go to llmwatch through llmwatch's own provider, as children of the app's spans (the app's exporters do not get them). Add llmwatchSpanProcessor() to the app's provider to send them through it."
      : 'llmwatch: no TracerProvider registered; LLM spans go to llmwatch through its own provider',
  );
}

/** Exports everything ended so far, in every llmwatch pipeline. Safe before `init()` and after `shutdown()`. */
export async function flush(): Promise<void> {
  await Promise.all(
    [...pipelines].map((p) => p.forceFlush().catch((e: unknown) => diag.warn('llmwatch: flush failed', e))),
  );
}

/**
 * Flushes and stops what `init()` started. Idempotent; never rejects. After it, wrapped clients
 * keep working and record nothing; `init()` may be called again. A `llmwatchSpanProcessor()`
 * belongs to the app's provider: it is flushed here and stopped by the provider's `shutdown()`.
 */
export function shutdown(): Promise<void> {
  const inst = installed;
  if (!inst) return flush();
  inst.closing ??= (async () => {
    try {
      await inst.own.shutdown();
      await inst.processor.shutdown();
    } catch (e) {
      diag.warn('llmwatch: shutdown failed', e);
    }
    await flush();
    if (installed === inst) {
      installed = undefined;
      runtime.tracer = trace.getTracer(SDK_NAME, SDK_VERSION);
    }
  })();
  return inst.closing;
}

/** Export counters of every llmwatch pipeline alive (zeros before `init()` and after `shutdown()`). */
export function stats(): SdkStats {
  const total: SdkStats = { spansEnded: 0, spansExported: 0, spansFailed: 0, spansDropped: 0 };
  for (const { counters: c } of pipelines) {
    total.spansEnded += c.spansEnded;
    total.spansExported += c.spansExported;
    total.spansFailed += c.spansFailed;
    total.spansDropped += c.spansDropped;
  }
  return total;
}
