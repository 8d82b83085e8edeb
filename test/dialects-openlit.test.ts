import type { FakeServer } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext } from '@llmwatch/sdk';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import openlitModule, { usingAttributes } from 'openlit';
import * as openaiModule from 'openai';
import type OpenAI from 'openai';
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
} from './helpers/peers-scenarios.js';

/**
 * The real OpenLIT TypeScript SDK (`openlit`) instruments the official openai client and exports
 * over its own OTLP/HTTP exporter to the real collector; its `llm_calls` row must equal the row of
 * the llmwatch SDK's span for the same call. Both observe one call: the SDK wraps the client
 * instance, OpenLIT patches the prototype.
 */

/** `openlit` is CommonJS with `exports.default`: the class is the default export or its `.default`. */
type OpenlitApi = typeof openlitModule.default;
const Openlit: OpenlitApi =
  (openlitModule as unknown as { default?: OpenlitApi }).default ?? (openlitModule as unknown as OpenlitApi);

let e2e: E2eCollector;
let fake: FakeServer;
let client: OpenAI;

beforeAll(async () => {
  e2e = await startE2eCollector('openlit');
  // The SDK first, so it keeps its own provider instead of joining the one OpenLIT registers.
  init({ endpoint: e2e.collector.url, serviceName: SERVICE, capture: 'full', scheduledDelayMillis: 20 });
  Openlit.init({
    applicationName: SERVICE,
    environment: 'e2e',
    otlpEndpoint: e2e.collector.url,
    // Batched, as in production: export work stays off the call path, so latencies compare.
    disableBatch: false,
    disableMetrics: true,
    disableEvents: true,
    // An inline (empty) table: OpenLIT otherwise downloads its price list (no network in tests).
    pricingJson: {},
    instrumentations: { openai: openaiModule } as never,
  });
  ({ fake, client } = await startWrappedOpenAI({ warmUp: true }));
});

afterAll(async () => {
  await shutdown();
  await openlitProvider().shutdown?.();
  await fake?.close();
  await e2e?.close();
});

/** The NodeTracerProvider OpenLIT registered globally (behind the API's proxy). */
function openlitProvider(): { forceFlush?: () => Promise<void>; shutdown?: () => Promise<void> } {
  return (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as never;
}

/** OpenLIT carries identity as custom span attributes (`usingAttributes`), with semconv names. */
function inScopes<T>(fn: () => Promise<T>): Promise<T> {
  return usingAttributes({ 'user.id': IDENTITY.userId, 'session.id': IDENTITY.sessionId }, () =>
    withContext(IDENTITY, fn),
  ) as Promise<T>;
}

async function rows(responseId: string, n: number): Promise<Record<string, CallRow>> {
  await flush();
  await openlitProvider().forceFlush?.();
  return waitForCallRows(e2e.collector, 'ResponseId = {responseId:String}', { responseId }, n);
}

/** Compared with the SDK row: the common fields but prompt name and version, plus cached tokens and cost. */
const SAME = [
  ...COMMON_FIELDS.filter((f) => f !== 'promptName' && f !== 'promptVersion'),
  'cacheReadTokens',
  'costUsd',
  'streaming',
] as const;

describe('OpenLIT → OTLP → collector → llm_calls equals the SDK row', () => {
  it('chat: model, tokens, cost, latency, user, session, content', async () => {
    fake.script(CHAT_REPLY);
    const res = await inScopes(() =>
      client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES }),
    );
    const r = await rows(res.id, 2);
    expect(Object.keys(r).sort()).toEqual(['llmwatch', 'openlit']);
    const sdk = r.llmwatch!;
    expect(sdk).toMatchObject({ ...CHAT_EXPECTED, serviceName: SERVICE, costUsd: 0.000129 });
    expectSameCall(r.openlit!, sdk, SAME);
    expect(r.openlit?.tags).toMatchObject({ environment: 'e2e' });
  });

  it('tool calls', async () => {
    fake.script(TOOL_REPLY);
    const res = await inScopes(() =>
      client.chat.completions.create({ model: MODEL, messages: TOOL_MESSAGES, tools: TOOLS }),
    );
    const r = await rows(res.id, 2);
    const sdk = r.llmwatch!;
    const peer = r.openlit!;
    expectToolCall(sdk);
    // Peer limitation (openlit 1.15): a tool message keeps its text but not its tool_call_id.
    const withoutResultIds = (json: string): unknown =>
      (JSON.parse(json) as { role: string; parts: { type: string; id?: string }[] }[]).map((m) => ({
        ...m,
        parts: m.parts.map(({ id, ...p }) => (p.type === 'tool_call_response' ? p : { ...p, id })),
      }));
    expect(withoutResultIds(peer.inputContent)).toEqual(withoutResultIds(sdk.inputContent));
    expectSameCall({ ...peer, inputContent: sdk.inputContent }, sdk, SAME);
  });
});
