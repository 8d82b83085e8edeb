import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import { streamedText } from './helpers/fake-openai.js';
import {
  recordingLogExporter,
  recordingMetricExporter,
  waitForRows,
  type ExportLog,
} from './helpers/otel-signals.js';
import { CHAT_EXPECTED, CHAT_MESSAGES, CHAT_REPLY, MODEL, STREAM_REPLY } from './helpers/peers-scenarios.js';

/**
 * The contrib OpenTelemetry OpenAI instrumentation (@opentelemetry/instrumentation-openai) in its
 * default set-up: spans, metrics and GenAI events, each over OTLP/protobuf to the collector. It
 * records prompt and completion only as log events, so the stored call's content comes from the
 * event join; every export must be answered 2xx.
 */

const SERVICE = 'contrib-openai-e2e';
let e2e: E2eCollector;
let fake: FakeServer;
let client: OpenAI;
let tracerProvider: BasicTracerProvider;
let loggerProvider: LoggerProvider;
let meterProvider: MeterProvider;
const exports: ExportLog = { codes: [], errors: [] };

beforeAll(async () => {
  e2e = await startE2eCollector('contrib-openai');
  const { url } = e2e.collector;
  const resource = resourceFromAttributes({ 'service.name': SERVICE });
  tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
  });
  loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new SimpleLogRecordProcessor({
        exporter: recordingLogExporter(new OTLPLogExporter({ url: `${url}/v1/logs` }), exports),
      }),
    ],
  });
  meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: recordingMetricExporter(new OTLPMetricExporter({ url: `${url}/v1/metrics` }), exports),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const instrumentation = new OpenAIInstrumentation({ captureMessageContent: true });
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.setLoggerProvider(loggerProvider);
  instrumentation.setMeterProvider(meterProvider);
  // ESM imports bypass the require hook: patch the module as the hook would.
  for (const definition of instrumentation.getModuleDefinitions()) definition.patch?.(openaiModule, '6.0.0');

  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 });
});

afterAll(async () => {
  await tracerProvider?.shutdown();
  await loggerProvider?.shutdown();
  await meterProvider?.shutdown();
  await fake?.close();
  await e2e?.close();
});

interface Row {
  Provider: string;
  Model: string;
  RequestModel: string;
  InputTokens: number;
  OutputTokens: number;
  CostUsd: number | null;
  LatencyMs: number;
  Streaming: boolean;
  InputContent: string;
  OutputContent: string;
  SystemContent: string;
  FinishReasons: string[];
  Dialect: string;
}

/** The call whose row matches `where` once its content arrived. */
async function storedCall(where: string, params: Record<string, unknown>): Promise<Row> {
  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  const [row] = await waitForRows<Row>(
    e2e.collector,
    `SELECT Provider, Model, RequestModel, InputTokens, OutputTokens, CostUsd, LatencyMs, Streaming,
       InputContent, OutputContent, SystemContent, FinishReasons, Dialect
     FROM llm_calls WHERE ServiceName = {service:String} AND ${where} AND OutputContent != ''`,
    { service: SERVICE, ...params },
    1,
  );
  expect(row, `llm_calls row where ${where}, with content`).toBeDefined();
  return row!;
}

describe('contrib @opentelemetry/instrumentation-openai → spans + GenAI events + metrics', () => {
  it('chat: model, provider, tokens, cost and the content its log events carry', async () => {
    fake.script(CHAT_REPLY);
    const res = await client.chat.completions.create({ model: MODEL, messages: CHAT_MESSAGES });
    const row = await storedCall('ResponseId = {id:String}', { id: res.id });
    expect(row).toMatchObject({
      Provider: 'openai',
      Model: MODEL,
      RequestModel: MODEL,
      InputTokens: CHAT_EXPECTED.inputTokens,
      OutputTokens: CHAT_EXPECTED.outputTokens,
      Streaming: false,
      FinishReasons: ['stop'],
      InputContent: CHAT_EXPECTED.inputContent,
      OutputContent: CHAT_EXPECTED.outputContent,
      SystemContent: CHAT_EXPECTED.systemContent,
    });
    // No cache split on its spans: 1200 × $0.15 + 40 × $0.60 per 1M.
    expect(row.CostUsd).toBe(0.000204);
    expect(row.LatencyMs).toBeGreaterThanOrEqual(CHAT_REPLY.ttftMs!);
  });

  it('streaming: content from the gen_ai.choice event, usage from the usage chunk', async () => {
    fake.script(STREAM_REPLY);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: CHAT_MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(await streamedText(stream)).toBe(STREAM_REPLY.content);
    const row = await storedCall('InputTokens = {n:UInt32}', { n: STREAM_REPLY.usage!.inputTokens });
    expect(row).toMatchObject({
      // Peer limitation (0.21): no stream attribute on its spans.
      Streaming: false,
      Provider: 'openai',
      Model: MODEL,
      InputTokens: STREAM_REPLY.usage!.inputTokens,
      OutputTokens: STREAM_REPLY.usage!.outputTokens,
      OutputContent: JSON.stringify([
        {
          role: 'assistant',
          parts: [{ type: 'text', content: STREAM_REPLY.content }],
          finish_reason: 'stop',
        },
      ]),
      InputContent: CHAT_EXPECTED.inputContent,
    });
  });

  it('its GenAI metrics are stored, and no export was refused', async () => {
    await meterProvider.forceFlush();
    const metrics = await waitForRows<{ MetricName: string }>(
      e2e.collector,
      `SELECT DISTINCT MetricName FROM otel_metrics_histogram WHERE ServiceName = {service:String} ORDER BY MetricName`,
      { service: SERVICE },
      2,
    );
    expect(metrics.map((m) => m.MetricName)).toEqual([
      'gen_ai.client.operation.duration',
      'gen_ai.client.token.usage',
    ]);

    // Queryable for apps that send only metrics: totals of both calls above.
    const res = await fetch(`${e2e.collector.url}/api/genai-metrics?service=${SERVICE}`);
    expect(res.status).toBe(200);
    const { metrics: rows } = (await res.json()) as {
      metrics: {
        metric: string;
        tokenType: string;
        count: number;
        sum: number;
        model: string;
        provider: string;
      }[];
    };
    const tokens = (type: string) =>
      rows
        .filter((r) => r.metric === 'gen_ai.client.token.usage' && r.tokenType === type)
        .reduce((n, r) => n + r.sum, 0);
    expect(tokens('input')).toBe(CHAT_EXPECTED.inputTokens + STREAM_REPLY.usage!.inputTokens!);
    expect(tokens('output')).toBe(CHAT_EXPECTED.outputTokens + STREAM_REPLY.usage!.outputTokens!);
    const durations = rows.filter((r) => r.metric === 'gen_ai.client.operation.duration');
    expect(durations.reduce((n, r) => n + r.count, 0)).toBe(2);
    expect(durations.every((r) => r.provider === 'openai' && r.model === MODEL && r.sum > 0)).toBe(true);

    expect(exports.errors).toEqual([]);
    expect(exports.codes.length).toBeGreaterThan(0);
    expect(exports.codes.every((c) => c === 0)).toBe(true);
  });
});
