import { startFakeOpenAI } from '@llmwatch/fake-llm';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { init, observe, shutdown, wrapOpenAI } from '../src/index.js';

it('joins a TracerProvider the app registered: app spans and ours share it, both exporters get them', async () => {
  const appExporter = new InMemorySpanExporter();
  const appProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: appExporter })],
  });
  trace.setGlobalTracerProvider(appProvider);
  const ours = new InMemorySpanExporter();
  init({ spanProcessor: new SimpleSpanProcessor({ exporter: ours }) });
  const fake = await startFakeOpenAI();
  const client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));

  await trace.getTracer('app').startActiveSpan('http GET /answer', async (appSpan) => {
    await observe('answer', () =>
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] }),
    );
    appSpan.end();
  });
  await fake.close();
  const oursNames = ours
    .getFinishedSpans()
    .map((s) => s.name)
    .sort();
  await shutdown();

  const names = (e: InMemorySpanExporter) =>
    e
      .getFinishedSpans()
      .map((s) => s.name)
      .sort();
  expect(names(appExporter)).toEqual(['answer', 'chat gpt-4o', 'http GET /answer']);
  expect(oursNames).toEqual(['answer', 'chat gpt-4o', 'http GET /answer']);
  // After shutdown() our processor has left the app's provider; the app keeps tracing.
  trace.getTracer('app').startSpan('later').end();
  expect(names(appExporter)).toContain('later');
  expect(ours.getFinishedSpans()).toHaveLength(0);
  const byName = new Map(appExporter.getFinishedSpans().map((s) => [s.name, s]));
  expect(byName.get('answer')?.parentSpanContext?.spanId).toBe(
    byName.get('http GET /answer')?.spanContext().spanId,
  );
  expect(byName.get('chat gpt-4o')?.parentSpanContext?.spanId).toBe(
    byName.get('answer')?.spanContext().spanId,
  );
});

it('an Anthropic client that traces itself (app provider registered) is exported once to llmwatch: its own child span is dropped', async () => {
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const { startFakeAnthropic } = await import('@llmwatch/fake-llm');
  const { wrapAnthropic } = await import('../src/index.js');
  const appExporter = new InMemorySpanExporter();
  trace.disable();
  trace.setGlobalTracerProvider(
    new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: appExporter })] }),
  );
  const ours = new InMemorySpanExporter();
  init({ spanProcessor: new SimpleSpanProcessor({ exporter: ours }) });
  const fake = await startFakeAnthropic();
  const client = wrapAnthropic(new Anthropic({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  await client.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
  });
  await fake.close();
  const appScopes = appExporter.getFinishedSpans().map((s) => s.instrumentationScope.name);
  const ourScopes = ours.getFinishedSpans().map((s) => s.instrumentationScope.name);
  await shutdown();
  expect(appScopes.some((s) => s.startsWith('com.anthropic.sdk'))).toBe(true);
  expect(ourScopes).toEqual(['@llmwatch/sdk']);
});
