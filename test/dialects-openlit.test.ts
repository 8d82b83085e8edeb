import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, queryRows, startCollector, type RunningCollector } from '@llmwatch/collector';
import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext, wrapOpenAI } from '@llmwatch/sdk';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import openlitModule, { usingAttributes } from 'openlit';
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
 * The real OpenLIT TypeScript SDK (`openlit`) instruments the official openai client and exports
 * over its own OTLP/HTTP exporter to the real collector; its `llm_calls` row must equal the row of
 * the llmwatch SDK's span for the same call. Both observe one call: the SDK wraps the client
 * instance, OpenLIT patches the prototype.
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
  latencyMs: number;
  ttftMs: number | null;
  streaming: boolean;
  finishReasons: string[];
  status: string;
  userId: string;
  sessionId: string;
  inputContent: string;
  outputContent: string;
  systemContent: string;
  toolNames: string[];
  tags: Record<string, string>;
}

const SQL = `
  SELECT Dialect AS dialect, ServiceName AS serviceName, Provider AS provider, Operation AS operation,
         RequestModel AS requestModel, ResponseModel AS responseModel, Model AS model, ResponseId AS responseId,
         InputTokens AS inputTokens, OutputTokens AS outputTokens, CacheReadTokens AS cacheReadTokens,
         ReasoningTokens AS reasoningTokens, CostUsd AS costUsd, LatencyMs AS latencyMs, TtftMs AS ttftMs,
         Streaming AS streaming, FinishReasons AS finishReasons, Status AS status, UserId AS userId,
         SessionId AS sessionId, InputContent AS inputContent, OutputContent AS outputContent,
         SystemContent AS systemContent, ToolNames AS toolNames, Tags AS tags
  FROM llm_calls WHERE ResponseId = {responseId:String} ORDER BY Dialect`;

/** `openlit` is CommonJS with `exports.default`: the class is the default export or its `.default`. */
type OpenlitApi = typeof openlitModule.default;
const Openlit: OpenlitApi =
  (openlitModule as unknown as { default?: OpenlitApi }).default ?? (openlitModule as unknown as OpenlitApi);

let dir: string;
let collector: RunningCollector;
let fake: FakeServer;
let client: OpenAI;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmwatch-openlit-'));
  collector = await startCollector(
    parseConfig({
      server: { port: 0 },
      storage: { dataDir: join(dir, 'data') },
      ingest: { flushIntervalMs: 50 },
    }),
  );
  // The SDK first, so it keeps its own provider instead of joining the one OpenLIT registers.
  init({ endpoint: collector.url, serviceName: SERVICE, capture: 'full', scheduledDelayMillis: 20 });
  Openlit.init({
    applicationName: SERVICE,
    environment: 'e2e',
    otlpEndpoint: collector.url,
    // Batched, as in production: export work stays off the call path, so latencies compare.
    disableBatch: false,
    disableMetrics: true,
    disableEvents: true,
    // An inline (empty) table: OpenLIT otherwise downloads its price list (no network in tests).
    pricingJson: {},
    instrumentations: { openai: openaiModule } as never,
  });
  fake = await startFakeOpenAI();
  client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
  // First-call costs (lazy loads, JIT) land in whichever wrapper runs first; keep them out.
  await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
});

afterAll(async () => {
  await shutdown();
  await openlitProvider().shutdown?.();
  await fake?.close();
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
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
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = await queryRows<CallRow>(collector.deps.clickhouse.query, SQL, { responseId });
    if (found.length >= n || Date.now() > deadline)
      return Object.fromEntries(found.map((r) => [r.dialect, r]));
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SAME = [
  'serviceName',
  'provider',
  'operation',
  'requestModel',
  'responseModel',
  'model',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'costUsd',
  'finishReasons',
  'status',
  'userId',
  'sessionId',
  'inputContent',
  'outputContent',
  'systemContent',
  'toolNames',
  'streaming',
] as const;

function expectSameRow(peer: CallRow, sdk: CallRow): void {
  for (const f of SAME) expect(peer[f], `${peer.dialect}.${f}`).toEqual(sdk[f]);
  expect(Math.abs(peer.latencyMs - sdk.latencyMs), `${peer.dialect}.latencyMs`).toBeLessThan(50);
}

describe('OpenLIT → OTLP → collector → llm_calls equals the SDK row', () => {
  it('chat: model, tokens, cost, latency, user, session, content', async () => {
    fake.script(CHAT_REPLY);
    const res = await inScopes(() =>
      client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES }),
    );
    const r = await rows(res.id, 2);
    expect(Object.keys(r).sort()).toEqual(['llmwatch', 'openlit']);
    const sdk = r.llmwatch!;
    const { promptName: _n, promptVersion: _v, ...expected } = CHAT_EXPECTED;
    expect(sdk).toMatchObject({ ...expected, serviceName: SERVICE, costUsd: 0.000129 });
    expectSameRow(r.openlit!, sdk);
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
    expect(sdk).toMatchObject({ toolNames: ['get_weather'], finishReasons: ['tool_call'] });
    // Peer limitation (openlit 1.15): a tool message keeps its text but not its tool_call_id.
    const withoutResultIds = (json: string): unknown =>
      (JSON.parse(json) as { role: string; parts: { type: string; id?: string }[] }[]).map((m) => ({
        ...m,
        parts: m.parts.map(({ id, ...p }) => (p.type === 'tool_call_response' ? p : { ...p, id })),
      }));
    expect(withoutResultIds(peer.inputContent)).toEqual(withoutResultIds(sdk.inputContent));
    expectSameRow({ ...peer, inputContent: sdk.inputContent }, sdk);
  });
});
