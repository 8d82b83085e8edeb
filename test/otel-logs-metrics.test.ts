import { context, trace, type Span } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as LogsJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import {
  recordingLogExporter,
  recordingMetricExporter,
  waitForRows,
  type ExportLog,
} from './helpers/otel-signals.js';

/**
 * Issue 16: logs and metrics from the official OTel JS SDKs (protobuf and JSON exporters) land in
 * otel_logs / otel_metrics_* with every export answered 2xx, and GenAI events sent as log records
 * fill their span's llm_calls content whether they arrive before or after the span, through the
 * same PII policy (the default redacts: the raw e-mail is stored nowhere).
 */

const SERVICE = 'signals-e2e';
const resource = resourceFromAttributes({ 'service.name': SERVICE });
let e2e: E2eCollector;
let url: string;

beforeAll(async () => {
  e2e = await startE2eCollector('signals');
  url = e2e.collector.url;
});
afterAll(() => e2e?.close());

function loggerProvider(encoding: 'protobuf' | 'json', log: ExportLog): LoggerProvider {
  const exporter =
    encoding === 'protobuf'
      ? new LogsProtoExporter({ url: `${url}/v1/logs` })
      : new LogsJsonExporter({ url: `${url}/v1/logs` });
  return new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: recordingLogExporter(exporter, log) })],
  });
}

describe('OTLP logs', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`stores log records sent by the OTel logs SDK over ${encoding}`, async () => {
      const log: ExportLog = { codes: [], errors: [] };
      const provider = loggerProvider(encoding, log);
      const marker = `hello-${encoding}-${Date.now()}`;
      provider.getLogger('app-logger', '1.2.3').emit({
        severityNumber: SeverityNumber.WARN,
        severityText: 'WARN',
        body: marker,
        attributes: { 'http.route': '/x', attempt: 2 },
      });
      await provider.forceFlush();
      await provider.shutdown();
      expect(log).toEqual({ codes: [0], errors: [] });

      const rows = await waitForRows<Record<string, unknown>>(
        e2e.collector,
        `SELECT ProjectId, ServiceName, SeverityText, SeverityNumber, Body, ScopeName, ScopeVersion, LogAttributes
         FROM otel_logs WHERE Body = {marker:String}`,
        { marker },
        1,
      );
      expect(rows).toEqual([
        {
          ProjectId: 'default',
          ServiceName: SERVICE,
          SeverityText: 'WARN',
          SeverityNumber: SeverityNumber.WARN,
          Body: marker,
          ScopeName: 'app-logger',
          ScopeVersion: '1.2.3',
          LogAttributes: { 'http.route': '/x', attempt: '2' },
        },
      ]);
    });
  }

  it('answers a bad body with 400 and a record with a malformed trace id with partial_success', async () => {
    const bad = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(bad.status).toBe(400);
    const now = `${Date.now()}000000`;
    const partial = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
            scopeLogs: [
              {
                logRecords: [
                  { timeUnixNano: now, body: { stringValue: 'kept-next-to-a-bad-one' } },
                  { timeUnixNano: now, traceId: 'xyz', body: { stringValue: 'bad' } },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(partial.status).toBe(200);
    expect(await partial.json()).toMatchObject({ partialSuccess: { rejectedLogRecords: 1 } });
    const rows = await waitForRows(
      e2e.collector,
      `SELECT Body FROM otel_logs WHERE Body = 'kept-next-to-a-bad-one'`,
      {},
      1,
    );
    expect(rows).toHaveLength(1);
  });
});

describe('OTLP metrics', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`stores sums, gauges, histograms and exponential histograms from the OTel metrics SDK over ${encoding}`, async () => {
      const log: ExportLog = { codes: [], errors: [] };
      const exporter =
        encoding === 'protobuf'
          ? new MetricsProtoExporter({ url: `${url}/v1/metrics` })
          : new MetricsJsonExporter({ url: `${url}/v1/metrics` });
      const reader = new PeriodicExportingMetricReader({
        exporter: recordingMetricExporter(exporter, log),
        exportIntervalMillis: 60_000,
      });
      const service = `${SERVICE}-metrics-${encoding}`;
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        readers: [reader],
        views: [
          {
            instrumentName: 'app.payload.size',
            aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
          },
        ],
      });
      const meter = provider.getMeter('app-meter');
      meter.createCounter('app.requests').add(3, { route: '/a' });
      meter.createUpDownCounter('app.inflight').add(-2);
      meter.createGauge('app.temperature', { unit: 'Cel' }).record(21.5);
      const latency = meter.createHistogram('app.latency', { unit: 's', description: 'request latency' });
      latency.record(0.2);
      latency.record(3);
      meter.createHistogram('app.payload.size').record(1500);
      // Shutting down collects and exports once more: what an app does on exit.
      await provider.shutdown();
      expect(log.errors).toEqual([]);
      expect(log.codes.every((c) => c === 0)).toBe(true);

      const params = { service };
      const sums = await waitForRows<Record<string, unknown>>(
        e2e.collector,
        `SELECT MetricName, Value, IsMonotonic, AggregationTemporality, Attributes FROM otel_metrics_sum
         WHERE ServiceName = {service:String} ORDER BY MetricName`,
        params,
        2,
      );
      expect(sums).toEqual([
        {
          MetricName: 'app.inflight',
          Value: -2,
          IsMonotonic: false,
          AggregationTemporality: 2,
          Attributes: {},
        },
        {
          MetricName: 'app.requests',
          Value: 3,
          IsMonotonic: true,
          AggregationTemporality: 2,
          Attributes: { route: '/a' },
        },
      ]);
      const gauges = await waitForRows(
        e2e.collector,
        `SELECT MetricName, MetricUnit, Value FROM otel_metrics_gauge WHERE ServiceName = {service:String}`,
        params,
        1,
      );
      expect(gauges).toEqual([{ MetricName: 'app.temperature', MetricUnit: 'Cel', Value: 21.5 }]);
      const histograms = await waitForRows<Record<string, unknown>>(
        e2e.collector,
        `SELECT MetricName, MetricDescription, Count, Sum, Min, Max, arraySum(BucketCounts) AS InBuckets,
           length(ExplicitBounds) + 1 = length(BucketCounts) AS Shape
         FROM otel_metrics_histogram WHERE ServiceName = {service:String}`,
        params,
        1,
      );
      expect(histograms).toEqual([
        {
          MetricName: 'app.latency',
          MetricDescription: 'request latency',
          Count: 2,
          Sum: 3.2,
          Min: 0.2,
          Max: 3,
          InBuckets: 2,
          Shape: 1,
        },
      ]);
      const exponential = await waitForRows<Record<string, unknown>>(
        e2e.collector,
        `SELECT MetricName, Count, Sum, arraySum(PositiveBucketCounts) AS Positive
         FROM otel_metrics_exponential_histogram WHERE ServiceName = {service:String}`,
        params,
        1,
      );
      expect(exponential).toEqual([{ MetricName: 'app.payload.size', Count: 1, Sum: 1500, Positive: 1 }]);
    });
  }

  it('stores a summary (the JS SDK has none; OTLP/JSON as another SDK sends it)', async () => {
    const now = `${Date.now()}000000`;
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: `${SERVICE}-summary` } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'rpc.duration',
                    summary: {
                      dataPoints: [
                        {
                          timeUnixNano: now,
                          count: '4',
                          sum: 10,
                          quantileValues: [
                            { quantile: 0.5, value: 2 },
                            { quantile: 0.99, value: 4 },
                          ],
                        },
                        { timeUnixNano: 'soon', count: '1' },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ partialSuccess: { rejectedDataPoints: 1 } });
    const rows = await waitForRows(
      e2e.collector,
      `SELECT Count, Sum, ValueAtQuantiles.Quantile AS Q, ValueAtQuantiles.Value AS V FROM otel_metrics_summary
       WHERE ServiceName = {service:String}`,
      { service: `${SERVICE}-summary` },
      1,
    );
    expect(rows).toEqual([{ Count: 4, Sum: 10, Q: [0.5, 0.99], V: [2, 4] }]);
  });
});

describe('GenAI events joined to calls', () => {
  const EMAIL = 'jane.doe@example.com';

  function tracerProvider(): BasicTracerProvider {
    return new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
    });
  }

  function startChatSpan(provider: BasicTracerProvider): Span {
    return provider.getTracer('plain-genai').startSpan('chat gpt-4o-mini', {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.usage.output_tokens': 3,
      },
    });
  }

  /** The per-message events of GenAI semconv ≤1.36, as log records tied to `span`. */
  async function emitMessageEvents(span: Span, log: ExportLog): Promise<void> {
    const provider = loggerProvider('protobuf', log);
    const logger = provider.getLogger('plain-genai');
    const ctx = trace.setSpan(context.active(), span);
    logger.emit({ context: ctx, eventName: 'gen_ai.system.message', body: { content: 'You are terse.' } });
    logger.emit({
      context: ctx,
      eventName: 'gen_ai.user.message',
      body: { content: `Capital of France? Mail ${EMAIL}` },
    });
    logger.emit({
      context: ctx,
      eventName: 'gen_ai.choice',
      body: { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Paris.' } },
    });
    await provider.forceFlush();
    await provider.shutdown();
  }

  const EXPECTED = {
    systemContent: [{ type: 'text', content: 'You are terse.' }],
    inputContent: [
      { role: 'user', parts: [{ type: 'text', content: 'Capital of France? Mail [REDACTED:email]' }] },
    ],
    outputContent: [
      { role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' },
    ],
  };

  async function storedCall(spanId: string): Promise<Record<string, string>> {
    const [row] = await waitForRows<Record<string, string>>(
      e2e.collector,
      `SELECT InputContent, OutputContent, SystemContent, PiiCount, Model FROM llm_calls
       WHERE SpanId = {spanId:String} AND OutputContent != ''`,
      { spanId },
      1,
    );
    expect(row, 'llm_calls row with content').toBeDefined();
    return row!;
  }

  function expectJoined(row: Record<string, string>): void {
    expect(JSON.parse(row.SystemContent!)).toEqual(EXPECTED.systemContent);
    expect(JSON.parse(row.InputContent!)).toEqual(EXPECTED.inputContent);
    expect(JSON.parse(row.OutputContent!)).toEqual(EXPECTED.outputContent);
    expect(Number(row.PiiCount)).toBeGreaterThan(0);
  }

  it('events that arrive before their span fill its content', async () => {
    const log: ExportLog = { codes: [], errors: [] };
    const provider = tracerProvider();
    const span = startChatSpan(provider);
    const spanId = span.spanContext().spanId;
    await emitMessageEvents(span, log);
    expect(log).toEqual({ codes: [0, 0, 0], errors: [] });
    await waitForRows(
      e2e.collector,
      `SELECT 1 FROM genai_events WHERE SpanId = {spanId:String}`,
      { spanId },
      3,
    );

    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    expectJoined(await storedCall(spanId));
  });

  it('events that arrive after their span fill its content; the raw value is stored nowhere', async () => {
    const log: ExportLog = { codes: [], errors: [] };
    const provider = tracerProvider();
    const span = startChatSpan(provider);
    const spanId = span.spanContext().spanId;
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    await waitForRows(e2e.collector, `SELECT 1 FROM llm_calls WHERE SpanId = {spanId:String}`, { spanId }, 1);

    await emitMessageEvents(span, log);
    expect(log).toEqual({ codes: [0, 0, 0], errors: [] });
    expectJoined(await storedCall(spanId));

    const raw = await waitForRows(
      e2e.collector,
      `SELECT 'otel_logs' FROM otel_logs WHERE position(Body, {email:String}) > 0
       UNION ALL SELECT 'genai_events' FROM genai_events WHERE position(Attributes, {email:String}) > 0
       UNION ALL SELECT 'llm_calls' FROM llm_calls WHERE position(InputContent, {email:String}) > 0`,
      { email: EMAIL },
      1,
      200,
    );
    expect(raw).toEqual([]);
    const redacted = await waitForRows(
      e2e.collector,
      `SELECT Body FROM otel_logs WHERE SpanId = {spanId:String} AND EventName = 'gen_ai.user.message'`,
      { spanId },
      1,
    );
    expect(redacted).toEqual([
      { Body: JSON.stringify({ content: 'Capital of France? Mail [REDACTED:email]' }) },
    ]);
  });
});

describe('unknown usage is unknown; model filters match the family', () => {
  it('a call without reported usage has null tokens and no cost; a dated response model is found by its family', async () => {
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
    });
    // A stream whose usage chunk never came: model and provider, no token counts.
    const span = provider.getTracer('plain-genai').startSpan('chat gpt-4o-mini', {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.request.stream': true,
        'gen_ai.conversation.id': 'no-usage-conversation',
      },
    });
    span.end();
    await provider.shutdown();
    const calls = await waitForRows<{ SpanId: string }>(
      e2e.collector,
      `SELECT SpanId FROM llm_calls WHERE SpanId = {spanId:String}`,
      { spanId: span.spanContext().spanId },
      1,
    );
    expect(calls).toHaveLength(1);
    const res = await fetch(`${url}/api/calls?model=gpt-4o-mini-2024-07-18&limit=100`);
    const body = (await res.json()) as { calls: Record<string, unknown>[] };
    const call = body.calls.find((c) => c.spanId === span.spanContext().spanId);
    expect(call).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      provider: 'openai',
      inputTokens: null,
      outputTokens: null,
      usageReported: false,
      costUsd: null,
    });
    // The undated family name finds the dated response model (and the calls that reported usage).
    const family = (await (await fetch(`${url}/api/calls?model=gpt-4o-mini&limit=100`)).json()) as {
      calls: { spanId: string; inputTokens: number | null }[];
    };
    expect(family.calls.map((c) => c.spanId)).toContain(span.spanContext().spanId);
    expect(family.calls.some((c) => c.inputTokens === 12)).toBe(true);
  });
});
