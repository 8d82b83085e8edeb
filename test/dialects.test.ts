import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAIInstrumentation as OpenInferenceOpenAI } from '@arizeai/openinference-instrumentation-openai';
import { setAttributes, setPromptTemplate, setSession, setUser } from '@arizeai/openinference-core';
import { parseConfig, queryRows, startCollector, type RunningCollector } from '@llmwatch/collector';
import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext, wrapOpenAI } from '@llmwatch/sdk';
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenAIInstrumentation as OpenLLMetryOpenAI } from '@traceloop/instrumentation-openai';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE } from './helpers/peers.js';
import {
  CHAT_EXPECTED,
  CHAT_MESSAGES,
  CHAT_REPLY,
  IDENTITY,
  MODEL,
  TOOLS,
  TOOL_MESSAGES,
  TOOL_REPLY,
} from './helpers/peers-scenarios.js';

/**
 * Issue 5, "done when": spans from the real peer instrumentations, sent by the real OTLP exporters
 * (OpenInference over protobuf, OpenLLMetry over JSON) to the real collector on embedded
 * ClickHouse, become `llm_calls` rows equal field by field to the row of the llmwatch SDK's own
 * span for the same call. One official-client call yields all three spans: the SDK wraps the
 * client instance, both peers patch the prototype (OpenInference outermost of the two).
 */

interface CallRow {
  dialect: string;
  serviceName: string;
  provider: string;
  operation: string;
  requestModel: string;
  responseModel: string;
  model: string;
  responseId: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  costUsd: number | null;
  priceVersion: string;
  latencyMs: number;
  streaming: boolean;
  finishReasons: string[];
  status: string;
  promptName: string;
  promptVersion: string;
  userId: string;
  sessionId: string;
  inputContent: string;
  outputContent: string;
  systemContent: string;
  toolNames: string[];
}

const SQL = `
  SELECT Dialect AS dialect, ServiceName AS serviceName, Provider AS provider, Operation AS operation,
         RequestModel AS requestModel, ResponseModel AS responseModel, Model AS model, ResponseId AS responseId,
         InputTokens AS inputTokens, OutputTokens AS outputTokens, CacheReadTokens AS cacheReadTokens,
         ReasoningTokens AS reasoningTokens, CostUsd AS costUsd, PriceVersion AS priceVersion,
         LatencyMs AS latencyMs, Streaming AS streaming, FinishReasons AS finishReasons, Status AS status,
         PromptName AS promptName, PromptVersion AS promptVersion, UserId AS userId, SessionId AS sessionId,
         InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent,
         ToolNames AS toolNames
  FROM llm_calls WHERE TraceId = {traceId:String} ORDER BY Dialect`;

let dir: string;
let collector: RunningCollector;
let fake: FakeServer;
let client: OpenAI;
const peerProviders: BasicTracerProvider[] = [];

function peerProvider(exporter: OtlpProtoExporter | OtlpJsonExporter): BasicTracerProvider {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    // As an app would run it: export batched, off the call path.
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 20 })],
  });
  peerProviders.push(provider);
  return provider;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmwatch-dialects-'));
  collector = await startCollector(
    parseConfig({
      server: { port: 0 },
      storage: { dataDir: join(dir, 'data') },
      ingest: { flushIntervalMs: 50 },
    }),
  );
  const traces = `${collector.url}/v1/traces`;
  init({ endpoint: collector.url, serviceName: SERVICE, capture: 'full', scheduledDelayMillis: 20 });

  const openllmetry = new OpenLLMetryOpenAI({ traceContent: true });
  openllmetry.setTracerProvider(peerProvider(new OtlpJsonExporter({ url: traces })));
  openllmetry.manuallyInstrument(OpenAI as unknown as Parameters<OpenLLMetryOpenAI['manuallyInstrument']>[0]);
  new OpenInferenceOpenAI({
    tracerProvider: peerProvider(new OtlpProtoExporter({ url: traces })),
  }).manuallyInstrument(openaiModule as unknown as Parameters<OpenInferenceOpenAI['manuallyInstrument']>[0]);

  fake = await startFakeOpenAI();
  client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  // First-call costs (lazy loads, JIT) land in whichever wrapper runs first; keep them out.
  await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
});

afterAll(async () => {
  await shutdown();
  for (const p of peerProviders) await p.shutdown();
  await fake?.close();
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every peer's identity carrier at once: SDK scope, OpenInference context, OpenLLMetry extraAttributes. */
async function call<T>(
  fn: (extra: { extraAttributes: Record<string, unknown> }) => Promise<T>,
): Promise<string> {
  let ctx = setUser(context.active(), { userId: IDENTITY.userId });
  ctx = setSession(ctx, { sessionId: IDENTITY.sessionId });
  ctx = setPromptTemplate(ctx, {
    template: 'Answer: {q}',
    variables: { q: 'x' },
    version: IDENTITY.promptVersion,
  });
  ctx = setAttributes(ctx, { 'prompt.id': IDENTITY.promptName });
  const extraAttributes = {
    'traceloop.association.properties.user_id': IDENTITY.userId,
    'traceloop.association.properties.session_id': IDENTITY.sessionId,
    'traceloop.prompt.key': IDENTITY.promptName,
    'traceloop.prompt.version': Number(IDENTITY.promptVersion),
  };
  // A root span gives the three LLM spans one trace id to find their rows by.
  const root = peerProviders[0]!.getTracer('dialects-test').startSpan('request');
  await context.with(trace.setSpan(ctx, root), () => withContext(IDENTITY, () => fn({ extraAttributes })));
  root.end();
  return root.spanContext().traceId;
}

async function rows(traceId: string, n: number): Promise<CallRow[]> {
  await flush();
  for (const p of peerProviders) await p.forceFlush();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await queryRows<CallRow>(collector.deps.clickhouse.query, SQL, { traceId });
    if (found.length >= n || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function byDialect(found: CallRow[]): Record<string, CallRow> {
  return Object.fromEntries(found.map((r) => [r.dialect, r]));
}

const SAME = [
  'serviceName',
  'provider',
  'operation',
  'requestModel',
  'responseModel',
  'model',
  'responseId',
  'inputTokens',
  'outputTokens',
  'finishReasons',
  'status',
  'promptName',
  'promptVersion',
  'userId',
  'sessionId',
  'inputContent',
  'outputContent',
  'systemContent',
  'toolNames',
  'streaming',
  'priceVersion',
] as const;

function expectSameRow(peer: CallRow, sdk: CallRow): void {
  for (const f of SAME) expect(peer[f], `${peer.dialect}.${f}`).toEqual(sdk[f]);
  expect(Math.abs(peer.latencyMs - sdk.latencyMs), `${peer.dialect}.latencyMs`).toBeLessThan(50);
}

describe('peer instrumentations → OTLP → collector → llm_calls equal the SDK row', () => {
  it('chat: model, tokens, cost, latency, user, session, prompt name/version, content', async () => {
    fake.script(CHAT_REPLY);
    const traceId = await call((extra) =>
      client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES, ...extra }),
    );
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const r = byDialect(await rows(traceId, 3));
    expect(Object.keys(r).sort()).toEqual(['llmwatch', 'openinference', 'openllmetry']);
    const sdk = r.llmwatch!;
    // gpt-4o-mini: 200 uncached × $0.15 + 1000 cached × $0.075 + 40 out × $0.60 per 1M = $0.000129
    expect(sdk).toMatchObject({
      ...CHAT_EXPECTED,
      serviceName: SERVICE,
      costUsd: 0.000129,
      streaming: false,
    });
    expect(sdk.latencyMs).toBeGreaterThanOrEqual(CHAT_REPLY.ttftMs!);

    expectSameRow(r.openinference!, sdk);
    expect(r.openinference).toMatchObject({ cacheReadTokens: 1000, reasoningTokens: 16, costUsd: 0.000129 });
    expectSameRow(r.openllmetry!, sdk);
    // OpenLLMetry JS 0.27 records no usage details: without the cache split the same call costs
    // 1200 × $0.15 + 40 × $0.60 per 1M.
    expect(r.openllmetry).toMatchObject({ cacheReadTokens: 0, reasoningTokens: 0, costUsd: 0.000204 });
  });

  it('tool calls: history with a tool result and a new tool call', async () => {
    fake.script(TOOL_REPLY);
    const traceId = await call((extra) =>
      client.chat.completions.create({ model: MODEL, messages: TOOL_MESSAGES, tools: TOOLS, ...extra }),
    );
    const r = byDialect(await rows(traceId, 3));
    const sdk = r.llmwatch!;
    expect(sdk).toMatchObject({ toolNames: ['get_weather'], finishReasons: ['tool_call'], inputTokens: 300 });
    // 300 × $0.15 + 22 × $0.60 per 1M
    expect(sdk.costUsd).toBe(0.0000582);
    expectSameRow(r.openinference!, sdk);
    expectSameRow(r.openllmetry!, sdk);
    expect(r.openinference?.costUsd).toBe(0.0000582);
    expect(r.openllmetry?.costUsd).toBe(0.0000582);
  });
});
