import { metrics } from '@opentelemetry/api';
import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import openlitModule from 'openlit';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import { waitForRows } from './helpers/otel-signals.js';
import { CHAT_MESSAGES, CHAT_REPLY, MODEL } from './helpers/peers-scenarios.js';

/**
 * OpenLIT in its default set-up exports traces, metrics and events (to /v1/traces, /v1/metrics,
 * /v1/logs). Regression: llmwatch answered 404 to the last two and the app printed an exporter
 * error on every export. Every request must now be accepted and its data stored.
 */

type OpenlitApi = typeof openlitModule.default;
const Openlit: OpenlitApi =
  (openlitModule as unknown as { default?: OpenlitApi }).default ?? (openlitModule as unknown as OpenlitApi);
const SERVICE = 'openlit-default-e2e';

let e2e: E2eCollector;
let fake: FakeServer;

beforeAll(async () => {
  e2e = await startE2eCollector('openlit-default');
  Openlit.init({
    applicationName: SERVICE,
    otlpEndpoint: e2e.collector.url,
    // An inline (empty) table: OpenLIT otherwise downloads its price list (no network in tests).
    pricingJson: {},
    instrumentations: { openai: openaiModule } as never,
  });
  fake = await startFakeOpenAI();
});

afterAll(async () => {
  await fake?.close();
  await e2e?.close();
});

it('traces, metrics and events from the default set-up are all accepted and stored', async () => {
  const client = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
  fake.script(CHAT_REPLY);
  const res = await client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES });
  expect(res.choices[0]?.message.content).toBe('Paris.');
  const meterProvider = metrics.getMeterProvider() as { forceFlush?: () => Promise<void> };
  expect(meterProvider.forceFlush, 'OpenLIT registered an SDK meter provider').toBeTypeOf('function');
  await meterProvider.forceFlush!();

  const calls = await waitForRows<{ SpanId: string }>(
    e2e.collector,
    `SELECT SpanId FROM llm_calls WHERE ResponseId = {id:String}`,
    { id: res.id },
    1,
  );
  expect(calls).toHaveLength(1);
  const stored = await waitForRows<{ MetricName: string }>(
    e2e.collector,
    `SELECT DISTINCT MetricName FROM otel_metrics_histogram
     WHERE startsWith(MetricName, 'gen_ai.') AND ServiceName = {service:String}`,
    { service: SERVICE },
    1,
  );
  expect(stored.map((m) => m.MetricName)).toContain('gen_ai.client.operation.duration');
  const events = await waitForRows<{ EventName: string; SpanId: string }>(
    e2e.collector,
    `SELECT EventName, SpanId FROM otel_logs WHERE ServiceName = {service:String}`,
    { service: SERVICE },
    1,
  );
  expect(events).toContainEqual({
    EventName: 'gen_ai.client.inference.operation.details',
    SpanId: calls[0]!.SpanId,
  });
});
