import { GENAI, GENERAL, LLMWATCH, priceCall } from '@llmwatch/core';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { recordPolicy } from './content.js';
import { scopeAttributes } from './context.js';
import type { AnyFn, ApiPromiseLike, Dict, StreamLike } from './internal-types.js';
import { runtime, warnOnce } from './runtime.js';

/**
 * LLM spans this SDK started. Provider SDKs that trace themselves (`@anthropic-ai/sdk` ≥ 1.12
 * when the app registers a global provider) start a second span for the same call under ours;
 * the export pipeline drops those children so a call is counted once.
 */
export const llmSpans = new WeakSet<object>();

/** Where the client sends its requests: `server.address` / `server.port`. */
export interface ServerInfo {
  address: string | undefined;
  port: number | undefined;
}

export function serverOf(client: unknown): ServerInfo {
  try {
    const base = (client as { baseURL?: unknown }).baseURL;
    if (typeof base !== 'string') return { address: undefined, port: undefined };
    const url = new URL(base);
    const port = url.port
      ? Number(url.port)
      : url.protocol === 'https:'
        ? 443
        : url.protocol === 'http:'
          ? 80
          : undefined;
    return { address: url.hostname, port };
  } catch {
    return { address: undefined, port: undefined };
  }
}

/** How one provider operation maps to GenAI attributes. Every hook may throw: the call is never affected. */
export interface CallSpec {
  operation: string;
  provider: string;
  /** Adds request attributes (model, params) to `attrs`; returns the request model. */
  request(params: Dict, attrs: Attributes): string;
  /** Records request content (called only when capture is on). */
  requestContent?(rec: CallRecorder, params: Dict): void;
  /** Records a parsed non-streaming response. */
  response(rec: CallRecorder, body: Dict): void;
  /** Observes one stream event/chunk. */
  chunk(rec: CallRecorder, chunk: Dict): void;
  /** Records what the stream accumulated, when it ends. */
  streamEnd(rec: CallRecorder): void;
}

/**
 * One instrumented call: its span and what the response adds to it. Ends the span exactly once,
 * whichever of response, stream end, early `return()` or error comes first.
 */
export class CallRecorder {
  ended = false;
  /** The provider started parsing the body (so usage and output will be recorded). */
  parsing = false;
  firstChunk = true;
  redacted = 0;
  model = '';
  inputTokens = -1;
  outputTokens = 0;
  cacheReadTokens = 0;
  cacheWriteTokens = 0;
  reasoningTokens = 0;
  /** Per-operation stream accumulator. */
  state: Dict | undefined;

  constructor(
    readonly span: Span,
    readonly spec: CallSpec,
    readonly params: Dict,
    readonly t0: number,
  ) {}

  usage(input: number, output: number, cacheRead: number, cacheWrite: number, reasoning: number): void {
    this.inputTokens = input;
    this.outputTokens = output;
    this.cacheReadTokens = cacheRead;
    this.cacheWriteTokens = cacheWrite;
    this.reasoningTokens = reasoning;
    const s = this.span;
    s.setAttribute(GENAI.usageInputTokens, input);
    s.setAttribute(GENAI.usageOutputTokens, output);
    if (cacheRead) s.setAttribute(GENAI.usageCacheReadInputTokens, cacheRead);
    if (cacheWrite) s.setAttribute(GENAI.usageCacheCreationInputTokens, cacheWrite);
    if (reasoning) s.setAttribute(GENAI.usageReasoningOutputTokens, reasoning);
  }

  /** Non-streaming body, or a stream to observe. Returns the value unchanged. */
  onParsed(value: unknown): unknown {
    if (this.ended) return value;
    if (isStream(value)) {
      try {
        observeStream(value, this);
        return value;
      } catch (e) {
        warnOnce('stream observation', e);
      }
    } else {
      try {
        if (value && typeof value === 'object') this.spec.response(this, value as Dict);
      } catch (e) {
        warnOnce('response attributes', e);
      }
    }
    this.end();
    return value;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      // The collector keeps a cost the span carries and prices only calls without one
      // (collector/src/ingest/pipeline.ts, priceCall stage): both use core's price table.
      if (this.inputTokens >= 0 && this.model) {
        const price = priceCall({
          provider: this.spec.provider,
          model: this.model,
          inputTokens: this.inputTokens,
          outputTokens: this.outputTokens,
          cacheReadTokens: this.cacheReadTokens,
          cacheWriteTokens: this.cacheWriteTokens,
          reasoningTokens: this.reasoningTokens,
        });
        if (price.costUsd !== null) {
          this.span.setAttribute(LLMWATCH.costUsd, price.costUsd);
          this.span.setAttribute(LLMWATCH.priceVersion, price.priceVersion);
        }
      }
      recordPolicy(this.span, this.redacted);
    } catch (e) {
      warnOnce('cost', e);
    }
    this.span.end();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    recordError(this.span, error);
    this.end();
  }
}

/** `error.type` (class name), ERROR status and an exception event. */
export function recordError(span: Span, error: unknown): void {
  try {
    span.setAttribute(GENERAL.errorType, errorType(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) span.recordException(error);
  } catch (e) {
    warnOnce('error attributes', e);
  }
}

/** Low-cardinality error class: the constructor name (`RateLimitError`, `APIConnectionError`, ...). */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name && name !== 'Object') return name;
  }
  return '_OTHER';
}

function isStream(value: unknown): value is StreamLike {
  return (
    !!value &&
    typeof (value as StreamLike).iterator === 'function' &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

function isApiPromise(value: unknown): value is ApiPromiseLike {
  return (
    !!value &&
    typeof (value as ApiPromiseLike).parseResponse === 'function' &&
    typeof (value as ApiPromiseLike).responsePromise?.then === 'function'
  );
}

/**
 * Observes a provider `Stream` in place: every consumer (`for await`, `tee()`,
 * `toReadableStream()`) goes through `stream.iterator()`, so wrapping that one function sees each
 * chunk exactly once while the caller keeps the provider's own object, its `controller` and its
 * helpers.
 */
function observeStream(stream: StreamLike, rec: CallRecorder): void {
  const inner = stream.iterator;
  stream.iterator = function (this: unknown) {
    return new ObservedIterator(inner.call(this), rec);
  };
}

class ObservedIterator implements AsyncIterator<unknown>, AsyncIterable<unknown> {
  private readonly onStep: (r: IteratorResult<unknown>) => IteratorResult<unknown>;
  private readonly onError: (e: unknown) => never;

  constructor(
    private readonly inner: AsyncIterator<unknown>,
    private readonly rec: CallRecorder,
  ) {
    // Bound once per stream, not per chunk: a stream has tens to thousands of chunks.
    this.onStep = (r) => this.step(r);
    this.onError = (e) => {
      this.rec.fail(e);
      throw e;
    };
  }

  private step(r: IteratorResult<unknown>): IteratorResult<unknown> {
    const rec = this.rec;
    if (rec.ended) return r;
    if (r.done) {
      finishStream(rec);
      return r;
    }
    try {
      if (rec.firstChunk) {
        rec.firstChunk = false;
        rec.span.setAttribute(GENAI.responseTimeToFirstChunk, (performance.now() - rec.t0) / 1000);
      }
      if (r.value && typeof r.value === 'object') rec.spec.chunk(rec, r.value as Dict);
    } catch (e) {
      warnOnce('stream chunk attributes', e);
    }
    return r;
  }

  next(): Promise<IteratorResult<unknown>> {
    return this.inner.next().then(this.onStep, this.onError);
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    // The consumer stopped early (break, or tee/readable cancel): record what was seen.
    finishStream(this.rec);
    return this.inner.return ? this.inner.return(value) : Promise.resolve({ done: true, value });
  }

  throw(e?: unknown): Promise<IteratorResult<unknown>> {
    this.rec.fail(e);
    return this.inner.throw ? this.inner.throw(e) : Promise.reject(e);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function finishStream(rec: CallRecorder): void {
  if (rec.ended) return;
  try {
    rec.spec.streamEnd(rec);
  } catch (e) {
    warnOnce('stream end attributes', e);
  }
  rec.end();
}

function startCall(spec: CallSpec, params: unknown, server: ServerInfo): CallRecorder | undefined {
  if (!params || typeof params !== 'object') return undefined;
  try {
    const p = params as Dict;
    const attrs: Attributes = {
      [GENAI.operationName]: spec.operation,
      [GENAI.providerName]: spec.provider,
    };
    const model = spec.request(p, attrs);
    if (server.address !== undefined) attrs[GENERAL.serverAddress] = server.address;
    if (server.port !== undefined) attrs[GENERAL.serverPort] = server.port;
    const scope = scopeAttributes();
    if (scope) Object.assign(attrs, scope);
    const span = runtime.tracer.startSpan(model ? `${spec.operation} ${model}` : spec.operation, {
      kind: SpanKind.CLIENT,
      attributes: attrs,
    });
    llmSpans.add(span);
    const rec = new CallRecorder(span, spec, p, performance.now());
    rec.model = model;
    if (spec.requestContent && runtime.capture !== 'none' && span.isRecording()) {
      try {
        spec.requestContent(rec, p);
      } catch (e) {
        warnOnce('request content', e);
      }
    }
    return rec;
  } catch (e) {
    warnOnce('span start', e);
    return undefined;
  }
}

const WRAPPED = Symbol.for('llmwatch.wrapped');

/**
 * Replaces `target[method]` (an own property shadowing the prototype's) by a traced version that
 * returns exactly what the original returns. Idempotent.
 */
export function wrapMethod(target: unknown, method: string, spec: CallSpec, server: ServerInfo): void {
  if (!target || typeof target !== 'object') return;
  const t = target as Dict;
  const original = t[method] as AnyFn | undefined;
  if (typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[WRAPPED]) return;

  const traced = function (this: unknown, ...args: unknown[]): unknown {
    const rec = startCall(spec, args[0], server);
    if (!rec) return original.apply(this, args);
    let result: unknown;
    try {
      // The span is active during the call so HTTP instrumentation nests under it.
      result = context.with(trace.setSpan(context.active(), rec.span), original, this, ...args);
    } catch (error) {
      rec.fail(error);
      throw error;
    }
    try {
      if (isApiPromise(result)) {
        const parse = result.parseResponse;
        result.parseResponse = function (this: unknown, client: unknown, props: unknown) {
          rec.parsing = true;
          return Promise.resolve(parse.call(this, client, props)).then(
            (value) => rec.onParsed(value),
            (error: unknown) => {
              rec.fail(error);
              throw error;
            },
          );
        };
        // Errors before parsing (HTTP status, connection, abort) reject responsePromise; a side
        // branch records them without touching the chain the caller awaits.
        result.responsePromise.then(undefined, (error: unknown) => rec.fail(error));
        const asResponse = result.asResponse;
        if (typeof asResponse === 'function') {
          // `asResponse()` alone never parses the body, so nothing else would end the span: end
          // it when the response arrives. `withResponse()` also parses; its parse runs first and
          // the span ends with the usage instead. Patched per call, so the common path pays nothing.
          result.asResponse = function (this: unknown) {
            const response = asResponse.call(this);
            response.then(
              () => {
                if (!rec.parsing) rec.end();
              },
              () => undefined,
            );
            return response;
          };
        }
      } else if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(
          (value) => rec.onParsed(value),
          (error: unknown) => rec.fail(error),
        );
      } else {
        rec.onParsed(result);
      }
    } catch (e) {
      warnOnce('response hook', e);
      rec.end();
    }
    return result;
  };
  (traced as unknown as Record<symbol, unknown>)[WRAPPED] = original;
  t[method] = traced;
}

/** Sets an attribute only when the value is present (no undefined/null attributes). */
export function put(attrs: Attributes, key: string, value: unknown): void {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
    attrs[key] = value;
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) attrs[key] = value as string[];
}
