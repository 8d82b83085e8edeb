import { startFakeOpenAI } from '@llmwatch/fake-llm';
import type { FakeServer } from '@llmwatch/fake-llm';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { init, wrapOpenAI } from '../src/index.js';
import type { CapturePolicy } from '../src/index.js';

/** One in-memory pipeline per test file (each vitest file runs in its own process). */
export function setupSdk(capture: CapturePolicy = 'full'): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  init({ spanProcessor: new SimpleSpanProcessor({ exporter }), capture, serviceName: 'sdk-test' });
  return exporter;
}

/**
 * The fake OpenAI server and an official client on it, wrapped by this SDK: started before the
 * file's tests and closed after them (this registers the beforeAll/afterAll hooks). Read the
 * fields inside tests and hooks, not at module level.
 */
export function fakeOpenAI(): { fake: FakeServer; client: OpenAI } {
  const openai = {} as { fake: FakeServer; client: OpenAI };
  beforeAll(async () => {
    openai.fake = await startFakeOpenAI();
    openai.client = wrapOpenAI(new OpenAI({ baseURL: openai.fake.url, apiKey: 'test', maxRetries: 0 }));
  });
  afterAll(() => openai.fake?.close());
  return openai;
}

/** The only finished span, asserting there is exactly one. */
export function onlySpan(exporter: InMemorySpanExporter): ReadableSpan {
  const spans = exporter.getFinishedSpans();
  if (spans.length !== 1)
    throw new Error(`expected 1 span, got ${spans.length}: ${spans.map((s) => s.name).join(', ')}`);
  return spans[0]!;
}

/** JSON of a provider result with the per-request ids and timestamps made comparable. */
export function comparable(value: unknown): string {
  return JSON.stringify(value)
    .replace(/(fake[-_])\d+/g, '$1N')
    .replace(/(\\?")(created|created_at)\1:\d+/g, '$1$2$1:0');
}

/** Settles a promise into what the caller observed: value or error (class, status, message). */
export async function outcome(p: PromiseLike<unknown> | (() => PromiseLike<unknown>)): Promise<string> {
  try {
    return 'ok ' + comparable(await (typeof p === 'function' ? p() : p));
  } catch (e) {
    const err = e as { constructor: { name: string }; status?: number; message?: string };
    return `error ${err.constructor.name} ${String(err.status)} ${err.message}`;
  }
}

/** Waits until the span count reaches n (spans of streams end on the iterator's last step). */
export async function spansSettled(
  exporter: InMemorySpanExporter,
  n: number,
  timeoutMs = 2000,
): Promise<ReadableSpan[]> {
  const until = Date.now() + timeoutMs;
  while (exporter.getFinishedSpans().length < n && Date.now() < until)
    await new Promise((r) => setTimeout(r, 5));
  return exporter.getFinishedSpans();
}
