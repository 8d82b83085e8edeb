import { createOpenAI } from '@ai-sdk/openai';
import { LangChainInstrumentation } from '@arizeai/openinference-instrumentation-langchain';
import * as callbackManager from '@langchain/core/callbacks/manager';
import { ChatOpenAI } from '@langchain/openai';
import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import { waitForRows } from './helpers/otel-signals.js';
import {
  CHAT_EXPECTED,
  CHAT_REPLY,
  IDENTITY,
  MODEL,
  STREAM_REPLY,
  withOpenInferenceIdentity,
} from './helpers/peers-scenarios.js';

/**
 * Framework instrumentations over OTLP/protobuf to the collector, against the fake OpenAI server:
 * the Vercel AI SDK (`experimental_telemetry`) and LangChain.js through OpenInference. Each stored
 * row is compared field by field with what the fake server answered.
 */

const SERVICE = 'frameworks-e2e';
let e2e: E2eCollector;
let fake: FakeServer;
let provider: BasicTracerProvider;

const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  // LangChain runs its callbacks after awaits: OpenInference's context attributes (user, session,
  // prompt) reach them only through a context manager, as the OTel Node SDK registers one.
  context.setGlobalContextManager(contextManager.enable());
  e2e = await startE2eCollector('frameworks');
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    spanProcessors: [
      new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${e2e.collector.url}/v1/traces` })),
    ],
  });
  const langchain = new LangChainInstrumentation({ tracerProvider: provider });
  langchain.manuallyInstrument(callbackManager);
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await provider?.shutdown();
  await fake?.close();
  await e2e?.close();
  context.disable();
});

interface Row {
  dialect: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  usageReported: boolean;
  costUsd: number | null;
  latencyMs: number;
  ttftMs: number | null;
  streaming: boolean;
  inputContent: string;
  outputContent: string;
  systemContent: string;
  userId: string;
  sessionId: string;
  promptName: string;
  promptVersion: string;
}

/** The one call of this file's service whose row matches `where`. */
async function storedCall(where: string, params: Record<string, unknown>): Promise<Row> {
  await provider.forceFlush();
  const rows = await waitForRows<Row>(
    e2e.collector,
    `SELECT Dialect AS dialect, Provider AS provider, Model AS model, InputTokens AS inputTokens,
       OutputTokens AS outputTokens, UsageReported AS usageReported, CostUsd AS costUsd, LatencyMs AS latencyMs,
       TtftMs AS ttftMs, Streaming AS streaming, InputContent AS inputContent, OutputContent AS outputContent,
       SystemContent AS systemContent, UserId AS userId, SessionId AS sessionId, PromptName AS promptName,
       PromptVersion AS promptVersion
     FROM llm_calls WHERE ServiceName = {service:String} AND ${where}`,
    { service: SERVICE, ...params },
    1,
  );
  expect(rows, `one llm_calls row where ${where}`).toHaveLength(1);
  return rows[0]!;
}

const PARIS_OUTPUT = (text: string) =>
  JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]);

describe('Vercel AI SDK (ai 5, experimental_telemetry)', () => {
  const model = () => createOpenAI({ baseURL: fake.url, apiKey: 'test' }).chat(MODEL);
  const telemetry = () => ({
    isEnabled: true,
    tracer: provider.getTracer('ai'),
    metadata: { userId: IDENTITY.userId, sessionId: IDENTITY.sessionId },
  });

  it('generateText: model, provider, tokens, cost, latency, content, user and session', async () => {
    fake.script(CHAT_REPLY);
    const result = await generateText({
      model: model(),
      system: 'You are terse.',
      prompt: 'Capital of France?',
      experimental_telemetry: telemetry(),
    });
    expect(result.text).toBe('Paris.');
    const row = await storedCall('InputTokens = {n:UInt32}', { n: CHAT_REPLY.usage!.inputTokens });
    expect(row).toMatchObject({
      provider: 'openai',
      model: MODEL,
      inputTokens: CHAT_EXPECTED.inputTokens,
      outputTokens: CHAT_EXPECTED.outputTokens,
      usageReported: true,
      streaming: false,
      systemContent: CHAT_EXPECTED.systemContent,
      inputContent: CHAT_EXPECTED.inputContent,
      outputContent: PARIS_OUTPUT('Paris.'),
      userId: IDENTITY.userId,
      sessionId: IDENTITY.sessionId,
    });
    expect(row.costUsd).not.toBeNull();
    expect(row.latencyMs).toBeGreaterThanOrEqual(CHAT_REPLY.ttftMs!);
  });

  it('streamText: streaming flag, time to first chunk, usage from the final chunk', async () => {
    fake.script(STREAM_REPLY);
    const result = streamText({
      model: model(),
      prompt: 'Capital of France, in a sentence?',
      experimental_telemetry: telemetry(),
    });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(STREAM_REPLY.content);
    const row = await storedCall('InputTokens = {n:UInt32}', { n: STREAM_REPLY.usage!.inputTokens });
    expect(row).toMatchObject({
      provider: 'openai',
      model: MODEL,
      outputTokens: STREAM_REPLY.usage!.outputTokens,
      streaming: true,
      outputContent: PARIS_OUTPUT(STREAM_REPLY.content!),
    });
    expect(row.ttftMs).toBeGreaterThanOrEqual(STREAM_REPLY.ttftMs!);
  });
});

describe('LangChain.js through OpenInference', () => {
  const chat = () =>
    new ChatOpenAI({ model: MODEL, apiKey: 'test', maxRetries: 0, configuration: { baseURL: fake.url } });

  it('invoke: provider, tokens, cost, content, user, session, prompt version', async () => {
    fake.script(CHAT_REPLY);
    const reply = await context.with(withOpenInferenceIdentity(context.active()), () =>
      chat().invoke([
        ['system', 'You are terse.'],
        ['user', 'Capital of France?'],
      ]),
    );
    expect(reply.content).toBe('Paris.');
    const row = await storedCall('InputTokens = {n:UInt32} AND Dialect = {d:String}', {
      n: CHAT_REPLY.usage!.inputTokens,
      d: 'openinference',
    });
    expect(row).toMatchObject({
      provider: 'openai',
      model: MODEL,
      inputTokens: CHAT_EXPECTED.inputTokens,
      outputTokens: CHAT_EXPECTED.outputTokens,
      systemContent: CHAT_EXPECTED.systemContent,
      inputContent: CHAT_EXPECTED.inputContent,
      userId: IDENTITY.userId,
      sessionId: IDENTITY.sessionId,
      promptVersion: IDENTITY.promptVersion,
    });
    expect(JSON.parse(row.outputContent)[0].parts).toEqual([{ type: 'text', content: 'Paris.' }]);
    expect(row.costUsd).not.toBeNull();
    expect(row.latencyMs).toBeGreaterThanOrEqual(CHAT_REPLY.ttftMs!);
  });

  it('stream: content and usage of a streamed reply', async () => {
    fake.script(STREAM_REPLY);
    let text = '';
    for await (const chunk of await chat().stream('Capital of France, in a sentence?'))
      text += String(chunk.content);
    expect(text).toBe(STREAM_REPLY.content);
    const row = await storedCall('InputTokens = {n:UInt32} AND Dialect = {d:String}', {
      n: STREAM_REPLY.usage!.inputTokens,
      d: 'openinference',
    });
    expect(row).toMatchObject({
      provider: 'openai',
      model: MODEL,
      outputTokens: STREAM_REPLY.usage!.outputTokens,
    });
    expect(JSON.parse(row.outputContent)[0].parts).toEqual([{ type: 'text', content: STREAM_REPLY.content }]);
  });
});
