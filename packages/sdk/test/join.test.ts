import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeAnthropic, startFakeOpenAI } from '@llmwatch/fake-llm';
import { DiagLogLevel, diag, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
import { afterEach, expect, it } from 'vitest';
import {
  init,
  llmwatchSpanProcessor,
  observe,
  shutdown,
  stats,
  wrapAnthropic,
  wrapOpenAI,
} from '../src/index.js';

interface SinkSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
}

/** An OTLP/JSON endpoint that keeps the spans it receives. */
async function otlpJsonSink(): Promise<{ url: string; spans: SinkSpan[]; close(): void }> {
  const spans: SinkSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { scope: { name: string }; spans: Omit<SinkSpan, 'scope'>[] }[] }[];
      };
      for (const rs of request.resourceSpans)
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, scope: ss.scope.name });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, close: () => server.close() };
}

const diagnostics: string[] = [];
diag.setLogger(
  {
    error: (m) => diagnostics.push(m),
    warn: (m) => diagnostics.push(m),
    info: (m) => diagnostics.push(m),
    debug: () => {},
    verbose: () => {},
  },
  DiagLogLevel.INFO,
);

afterEach(async () => {
  trace.disable(); // first: shutdown() points the wrapped clients back at the (new) global tracer
  await shutdown();
  diagnostics.length = 0;
});

const byName = <T extends { name: string }>(spans: T[]) => new Map(spans.map((s) => [s.name, s]));

it("llmwatchSpanProcessor() in the app's provider: the LLM call is the app span's child, and every span reaches both the app's exporter and llmwatch", async () => {
  const sink = await otlpJsonSink();
  const appExporter = new InMemorySpanExporter();
  const appProvider = new TracerProvider({
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: appExporter }),
      llmwatchSpanProcessor({ endpoint: sink.url, exporter: 'json' }),
    ],
  });
  trace.setGlobalTracerProvider(appProvider);
  init({ serviceName: 'ignored-app-owns-resource' });
  expect(diagnostics.join('\n')).toMatch(/uses the app.s TracerProvider/);
  const fake = await startFakeOpenAI();
  const client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));

  await trace.getTracer('app').startActiveSpan('http GET /answer', async (appSpan) => {
    await observe('answer', () =>
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] }),
    );
    appSpan.end();
  });
  await fake.close();
  expect(stats().spansEnded).toBe(3);
  const appNames = appExporter
    .getFinishedSpans()
    .map((s) => s.name)
    .sort();
  await appProvider.shutdown(); // the app's provider owns the processor: this flushes it
  sink.close();

  const names = ['answer', 'chat gpt-4o', 'http GET /answer'];
  expect(appNames).toEqual(names);
  expect(sink.spans.map((s) => s.name).sort()).toEqual(names);
  const got = byName(sink.spans);
  const app = got.get('http GET /answer')!;
  expect(got.get('answer')?.parentSpanId).toBe(app.spanId);
  expect(got.get('chat gpt-4o')?.parentSpanId).toBe(got.get('answer')?.spanId);
  expect(new Set(sink.spans.map((s) => s.traceId))).toEqual(new Set([app.traceId]));
});

it("an app provider without llmwatch's processor: init() says so, LLM spans go to llmwatch only, still children of the app span in its trace", async () => {
  const appExporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: appExporter })] }),
  );
  const ours = new InMemorySpanExporter();
  init({ spanProcessor: new SimpleSpanProcessor({ exporter: ours }) });
  expect(diagnostics.join('\n')).toMatch(/without llmwatchSpanProcessor\(\)/);
  const fake = await startFakeOpenAI();
  const client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));

  await trace.getTracer('app').startActiveSpan('http GET /answer', async (appSpan) => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] });
    appSpan.end();
  });
  await fake.close();

  const [app] = appExporter.getFinishedSpans();
  const [call, ...more] = ours.getFinishedSpans();
  expect(app?.name).toBe('http GET /answer');
  expect(appExporter.getFinishedSpans()).toHaveLength(1);
  expect(more).toHaveLength(0);
  expect(call?.name).toBe('chat gpt-4o');
  expect(call?.parentSpanContext?.spanId).toBe(app?.spanContext().spanId);
  expect(call?.spanContext().traceId).toBe(app?.spanContext().traceId);
});

it('an Anthropic client that traces itself (app provider with llmwatchSpanProcessor) reaches llmwatch once: its own child span is dropped', async () => {
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const sink = await otlpJsonSink();
  const appExporter = new InMemorySpanExporter();
  const appProvider = new TracerProvider({
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: appExporter }),
      llmwatchSpanProcessor({ endpoint: sink.url, exporter: 'json' }),
    ],
  });
  trace.setGlobalTracerProvider(appProvider);
  const fake = await startFakeAnthropic();
  const client = wrapAnthropic(new Anthropic({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  await client.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
  });
  await fake.close();
  const appScopes = appExporter.getFinishedSpans().map((s) => s.instrumentationScope.name);
  await appProvider.shutdown();
  sink.close();
  expect(appScopes.some((s) => s.startsWith('com.anthropic.sdk'))).toBe(true);
  expect(sink.spans.map((s) => s.scope)).toEqual(['@llmwatch/sdk']);
});
