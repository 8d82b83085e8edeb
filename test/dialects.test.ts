import { OpenAIInstrumentation as OpenInferenceOpenAI } from '@arizeai/openinference-instrumentation-openai';
import type { FakeServer } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext } from '@llmwatch/sdk';
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenAIInstrumentation as OpenLLMetryOpenAI } from '@traceloop/instrumentation-openai';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import { startWrappedOpenAI } from './helpers/fake-openai.js';
import {
  COMMON_FIELDS,
  SERVICE,
  expectSameCall,
  expectToolCall,
  waitForCallRows,
  type CallRow,
} from './helpers/peers.js';
import {
  CHAT_EXPECTED,
  CHAT_MESSAGES,
  CHAT_REPLY,
  IDENTITY,
  MODEL,
  TOOLS,
  TOOL_MESSAGES,
  TOOL_REPLY,
  TRACELOOP_ATTRIBUTES,
  withOpenInferenceIdentity,
} from './helpers/peers-scenarios.js';

/**
 * Issue 5, "done when": spans from the real peer instrumentations, sent by the real OTLP exporters
 * (OpenInference over protobuf, OpenLLMetry over JSON) to the real collector on embedded
 * ClickHouse, become `llm_calls` rows equal field by field to the row of the llmwatch SDK's own
 * span for the same call. One official-client call yields all three spans: the SDK wraps the
 * client instance, both peers patch the prototype (OpenInference outermost of the two).
 */

let e2e: E2eCollector;
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
  e2e = await startE2eCollector('dialects');
  const { url } = e2e.collector;
  const traces = `${url}/v1/traces`;
  init({ endpoint: url, serviceName: SERVICE, capture: 'full', scheduledDelayMillis: 20 });

  const openllmetry = new OpenLLMetryOpenAI({ traceContent: true });
  openllmetry.setTracerProvider(peerProvider(new OtlpJsonExporter({ url: traces })));
  openllmetry.manuallyInstrument(OpenAI as unknown as Parameters<OpenLLMetryOpenAI['manuallyInstrument']>[0]);
  new OpenInferenceOpenAI({
    tracerProvider: peerProvider(new OtlpProtoExporter({ url: traces })),
  }).manuallyInstrument(openaiModule as unknown as Parameters<OpenInferenceOpenAI['manuallyInstrument']>[0]);

  ({ fake, client } = await startWrappedOpenAI({ warmUp: true }));
});

afterAll(async () => {
  await shutdown();
  for (const p of peerProviders) await p.shutdown();
  await fake?.close();
  await e2e?.close();
});

/** Every peer's identity carrier at once: SDK scope, OpenInference context, OpenLLMetry extraAttributes. */
async function call<T>(
  fn: (extra: { extraAttributes: Record<string, unknown> }) => Promise<T>,
): Promise<string> {
  const ctx = withOpenInferenceIdentity(context.active());
  // A root span gives the three LLM spans one trace id to find their rows by.
  const root = peerProviders[0]!.getTracer('dialects-test').startSpan('request');
  await context.with(trace.setSpan(ctx, root), () =>
    withContext(IDENTITY, () => fn({ extraAttributes: TRACELOOP_ATTRIBUTES })),
  );
  root.end();
  return root.spanContext().traceId;
}

async function rows(traceId: string, n: number): Promise<Record<string, CallRow>> {
  await flush();
  for (const p of peerProviders) await p.forceFlush();
  return waitForCallRows(e2e.collector, 'TraceId = {traceId:String}', { traceId }, n);
}

const SAME = [...COMMON_FIELDS, 'responseId', 'streaming', 'priceVersion'] as const;

describe('peer instrumentations → OTLP → collector → llm_calls equal the SDK row', () => {
  it('chat: model, tokens, cost, latency, user, session, prompt name/version, content', async () => {
    fake.script(CHAT_REPLY);
    const traceId = await call((extra) =>
      client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES, ...extra }),
    );
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const r = await rows(traceId, 3);
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

    expectSameCall(r.openinference!, sdk, SAME);
    expect(r.openinference).toMatchObject({ cacheReadTokens: 1000, reasoningTokens: 16, costUsd: 0.000129 });
    expectSameCall(r.openllmetry!, sdk, SAME);
    // OpenLLMetry JS 0.27 records no usage details: without the cache split the same call costs
    // 1200 × $0.15 + 40 × $0.60 per 1M.
    expect(r.openllmetry).toMatchObject({ cacheReadTokens: 0, reasoningTokens: 0, costUsd: 0.000204 });
  });

  it('tool calls: history with a tool result and a new tool call', async () => {
    fake.script(TOOL_REPLY);
    const traceId = await call((extra) =>
      client.chat.completions.create({ model: MODEL, messages: TOOL_MESSAGES, tools: TOOLS, ...extra }),
    );
    const r = await rows(traceId, 3);
    const sdk = r.llmwatch!;
    expectToolCall(sdk);
    expect(sdk.inputTokens).toBe(300);
    // 300 × $0.15 + 22 × $0.60 per 1M
    expect(sdk.costUsd).toBe(0.0000582);
    expectSameCall(r.openinference!, sdk, SAME);
    expectSameCall(r.openllmetry!, sdk, SAME);
    expect(r.openinference?.costUsd).toBe(0.0000582);
    expect(r.openllmetry?.costUsd).toBe(0.0000582);
  });
});
