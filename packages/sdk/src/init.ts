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
import type { InitOptions, SdkStats } from './types.js';

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
    private readonly counters: Counters,
    private readonly maxPending: number,
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
    if (this.duplicates.has(span)) return;
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
    this.closing ??= this.inner.shutdown();
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

/** Counts without bounding: the caller's own processor decides what to keep. */
class PassThroughCounter extends CountingProcessor {}

interface Installed {
  processor: SpanProcessor;
  own: TracerProvider | undefined;
  counters: Counters;
  closing: Promise<void> | undefined;
  /** Removes our processor from a joined app provider. */
  leave: (() => void) | undefined;
}
let installed: Installed | undefined;

function tracesUrl(endpoint: string): string {
  const e = endpoint.replace(/\/+$/, '');
  return e.endsWith('/v1/traces') ? e : `${e}/v1/traces`;
}

/** The SDK provider an app registered globally, or undefined when only the no-op proxy exists. */
function registeredProvider(): ApiTracerProvider | undefined {
  const global = trace.getTracerProvider() as ApiTracerProvider & { getDelegate?: () => ApiTracerProvider };
  const delegate = global.getDelegate ? global.getDelegate() : global;
  return delegate.constructor?.name === 'NoopTracerProvider' ? undefined : delegate;
}

/**
 * Adds our processor to an existing SDK provider. The v1 SDK had `addSpanProcessor`; v2+ only
 * takes processors in the constructor, so we append to its multi-processor when the shape is
 * known, and otherwise leave the app's exporters as the only destination.
 */
function joinProvider(
  provider: ApiTracerProvider,
  processor: SpanProcessor,
): { leave: () => void } | undefined {
  const p = provider as {
    addSpanProcessor?: (sp: SpanProcessor) => void;
    _activeSpanProcessor?: { _spanProcessors?: SpanProcessor[] };
  };
  const list = p._activeSpanProcessor?._spanProcessors;
  const leave = () => {
    const i = list?.indexOf(processor) ?? -1;
    if (i >= 0) list?.splice(i, 1);
  };
  if (typeof p.addSpanProcessor === 'function') {
    p.addSpanProcessor(processor);
    return { leave };
  }
  if (Array.isArray(list)) {
    list.push(processor);
    return { leave };
  }
  return undefined;
}

/**
 * Starts exporting llmwatch spans over OTLP/HTTP. Joins a TracerProvider the app already
 * registered (adding our exporter to it) instead of replacing it; otherwise uses a private
 * provider and does not register it globally (so other libraries' own tracing stays off, as it
 * was). Calling it twice keeps the first configuration.
 */
export function init(options: InitOptions = {}): void {
  if (installed) {
    diag.warn('llmwatch: init() called twice; keeping the first configuration');
    return;
  }
  ensureContextManager();
  const env = process.env;
  runtime.capture = options.capture ?? parseCapture(env.LLMWATCH_CAPTURE_CONTENT) ?? 'redacted';
  const maxQueueSize = options.maxQueueSize ?? 2048;
  const counters: Counters = { spansEnded: 0, spansExported: 0, spansFailed: 0, spansDropped: 0, pending: 0 };

  let processor: SpanProcessor;
  if (options.spanProcessor) {
    processor = new PassThroughCounter(options.spanProcessor, counters, Number.POSITIVE_INFINITY);
  } else {
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
    processor = new CountingProcessor(batch, counters, maxQueueSize);
  }

  const existing = options.tracerProvider ?? registeredProvider();
  let own: TracerProvider | undefined;
  let leave: (() => void) | undefined;
  if (existing) {
    leave = joinProvider(existing, processor)?.leave;
    if (!leave) {
      diag.warn(
        'llmwatch: could not add the llmwatch exporter to the existing TracerProvider; spans go to its own exporters only',
      );
    }
    runtime.tracer = existing.getTracer(SDK_NAME, SDK_VERSION);
  } else {
    own = new TracerProvider({
      resource: resourceFromAttributes({
        [GENERAL.serviceName]: options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'unknown_service',
        [LLMWATCH.sdkName]: SDK_NAME,
        [LLMWATCH.sdkVersion]: SDK_VERSION,
        ...options.resourceAttributes,
      }),
      spanProcessors: [processor],
    });
    runtime.tracer = own.getTracer(SDK_NAME, SDK_VERSION);
  }
  installed = { processor, own, counters, closing: undefined, leave };
}

/** Exports everything ended so far. Safe before `init()` and after `shutdown()`. */
export async function flush(): Promise<void> {
  try {
    await installed?.processor.forceFlush();
  } catch (e) {
    diag.warn('llmwatch: flush failed', e);
  }
}

/**
 * Flushes and stops the exporter. Idempotent; never rejects. After it, wrapped clients keep
 * working and record nothing; `init()` may be called again.
 */
export function shutdown(): Promise<void> {
  const inst = installed;
  if (!inst) return Promise.resolve();
  inst.closing ??= (async () => {
    try {
      inst.leave?.();
      await inst.processor.shutdown();
      await inst.own?.shutdown();
    } catch (e) {
      diag.warn('llmwatch: shutdown failed', e);
    }
    if (installed === inst) {
      installed = undefined;
      runtime.tracer = trace.getTracer(SDK_NAME, SDK_VERSION);
    }
  })();
  return inst.closing;
}

/** Export counters since `init()` (zeros before it). */
export function stats(): SdkStats {
  const c = installed?.counters;
  return {
    spansEnded: c?.spansEnded ?? 0,
    spansExported: c?.spansExported ?? 0,
    spansFailed: c?.spansFailed ?? 0,
    spansDropped: c?.spansDropped ?? 0,
  };
}
