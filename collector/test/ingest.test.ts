import { gzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportTraceServiceResponse, decodeRpcStatus } from '../src/ingest/otlp-proto.js';
import type { RunningCollector } from '../src/server/collector.js';
import {
  flush,
  jsonExport,
  post,
  protobufExport,
  rows,
  startTestCollector,
  tempDir,
} from './ingest-helpers.js';

const KEY_A = 'key-project-alpha-0001';
const KEY_B = 'key-project-beta-0002';
const JSON_CT = { 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` };
const PROTO_CT = { 'content-type': 'application/x-protobuf', authorization: `Bearer ${KEY_A}` };

let collector: RunningCollector;
const START_MS = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const START_TEXT = `${new Date(START_MS).toISOString().replace('T', ' ').slice(0, 19)}.000000000`;

beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    projects: [
      { id: 'alpha', keys: [KEY_A] },
      // Configured by digest: the plain key never appears in the config.
      { id: 'beta', keys: [`sha256:${await sha256Hex(KEY_B)}`] },
    ],
    server: { maxBodyBytes: 2 * 1024 * 1024, maxDecompressedBytes: 4 * 1024 * 1024 },
  });
});

afterAll(async () => {
  await collector?.close();
});

async function sha256Hex(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}

let seq = 1;
function ids(): { traceId: string; spanId: string } {
  const n = seq++;
  return {
    traceId: `${'ab'.repeat(12)}${n.toString(16).padStart(8, '0')}`,
    spanId: `${'cd'.repeat(4)}${n.toString(16).padStart(8, '0')}`,
  };
}

interface TraceRow {
  ProjectId: string;
  Timestamp: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  SpanAttributes: Record<string, string>;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  Duration: string;
  StatusCode: string;
  StatusMessage: string;
  ParentSpanId: string;
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
}

async function traceRow(spanId: string): Promise<TraceRow[]> {
  return rows<TraceRow>(
    collector,
    `SELECT ProjectId, toString(Timestamp) AS Timestamp, SpanName, SpanKind, ServiceName, SpanAttributes,
       ResourceAttributes, ScopeName, toString(Duration) AS Duration, StatusCode, StatusMessage, ParentSpanId,
       Events.Name, Events.Attributes
     FROM otel_traces WHERE SpanId = {id:String}`,
    { id: spanId },
  );
}

async function exportWith(exporter: SpanExporter, spanIds: string[]): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-api', 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('plain-otel', '0.0.1');
  const start = START_MS;
  const span = tracer.startSpan('chat gpt-4o-mini', {
    kind: SpanKind.CLIENT,
    startTime: start,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 34,
      'gen_ai.request.temperature': 0.25,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.stream': false,
      'user.id': 'user-7',
    },
  });
  span.addEvent('gen_ai.choice', { index: 0 }, start + 100);
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  span.end(start + 1_234);
  spanIds.push(span.spanContext().spanId);
  await provider.forceFlush();
  await provider.shutdown();
}

describe('POST /v1/traces with the real OpenTelemetry exporters', () => {
  for (const [name, make] of [
    [
      'protobuf',
      (url: string) =>
        new OTLPProtoExporter({ url: `${url}/v1/traces`, headers: { Authorization: `Bearer ${KEY_A}` } }),
    ],
    [
      'json',
      (url: string) =>
        new OTLPHttpJsonExporter({ url: `${url}/v1/traces`, headers: { Authorization: `Bearer ${KEY_A}` } }),
    ],
  ] as const) {
    it(`stores a GenAI span exported as ${name} column for column`, async () => {
      const spanIds: string[] = [];
      await exportWith(make(collector.url), spanIds);
      await flush(collector);
      const [row, ...more] = await traceRow(spanIds[0] ?? '');
      expect(more).toHaveLength(0);
      expect(row).toEqual({
        ProjectId: 'alpha',
        Timestamp: START_TEXT,
        SpanName: 'chat gpt-4o-mini',
        SpanKind: 'Client',
        ServiceName: 'shop-api',
        SpanAttributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
          'gen_ai.usage.input_tokens': '120',
          'gen_ai.usage.output_tokens': '34',
          'gen_ai.request.temperature': '0.25',
          'gen_ai.response.finish_reasons': '["stop"]',
          'gen_ai.request.stream': 'false',
          'user.id': 'user-7',
        },
        ResourceAttributes: expect.objectContaining({
          'service.name': 'shop-api',
          'deployment.environment.name': 'test',
        }) as unknown,
        ScopeName: 'plain-otel',
        Duration: '1234000000',
        StatusCode: 'Error',
        StatusMessage: 'rate limited',
        ParentSpanId: '',
        'Events.Name': ['gen_ai.choice'],
        'Events.Attributes': [{ index: '0' }],
      });
      const calls = await rows<Record<string, unknown>>(
        collector,
        `SELECT ProjectId, toString(Timestamp) AS Timestamp, ServiceName, Dialect, Provider, Operation, RequestModel,
           ResponseModel, Model, InputTokens, OutputTokens, CacheReadTokens, CostUsd, PriceVersion, LatencyMs, TtftMs,
           Streaming, FinishReasons, Status, ErrorType, UserId, PiiCount
         FROM llm_calls WHERE SpanId = {id:String}`,
        { id: spanIds[0] ?? '' },
      );
      // Cost by hand: gpt-4o-mini at $0.15 / $0.60 per 1M tokens → 120 × 0.15e-6 + 34 × 0.6e-6.
      expect(calls).toEqual([
        {
          ProjectId: 'alpha',
          Timestamp: START_TEXT,
          ServiceName: 'shop-api',
          Dialect: 'genai',
          Provider: 'openai',
          Operation: 'chat',
          RequestModel: 'gpt-4o-mini',
          ResponseModel: 'gpt-4o-mini-2024-07-18',
          Model: 'gpt-4o-mini-2024-07-18',
          InputTokens: 120,
          OutputTokens: 34,
          CacheReadTokens: 0,
          CostUsd: 0.0000384,
          PriceVersion: '2026-11-01',
          LatencyMs: 1234,
          TtftMs: null,
          Streaming: false,
          FinishReasons: ['stop'],
          Status: 'error',
          ErrorType: '_OTHER',
          UserId: 'user-7',
          PiiCount: 0,
        },
      ]);
    });
  }
});

describe('enrichment', () => {
  it('redacts PII before storage (default policy) and records the finding without the value', async () => {
    const span = ids();
    const messages = JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'mail me at jane.doe@example.com' }] },
    ]);
    const body = jsonExport([
      {
        ...span,
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
          { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
          { key: 'gen_ai.usage.input_tokens', value: { intValue: 10 } },
          { key: 'gen_ai.usage.output_tokens', value: { intValue: 2 } },
          { key: 'gen_ai.input.messages', value: { stringValue: messages } },
        ],
      },
    ]);
    expect((await post(collector.url, JSON.stringify(body), JSON_CT)).status).toBe(200);
    await flush(collector);
    const [call] = await rows<{ InputContent: string; PiiTypes: string[]; PiiCount: number }>(
      collector,
      'SELECT InputContent, PiiTypes, PiiCount FROM llm_calls WHERE SpanId = {id:String}',
      { id: span.spanId },
    );
    expect(call?.InputContent).toContain('[REDACTED:email]');
    expect(call?.InputContent).not.toContain('jane.doe');
    expect(call).toMatchObject({ PiiTypes: ['email'], PiiCount: 1 });
    const [trace] = await traceRow(span.spanId);
    // The messages are stored once, redacted, in the call row; the span row keeps no copy.
    expect(trace?.SpanAttributes).not.toHaveProperty('gen_ai.input.messages');
    expect(JSON.stringify(trace?.SpanAttributes)).not.toContain('jane.doe');
    const findings = await rows<{ Type: string; Place: string; Action: string; ValueHash: string }>(
      collector,
      'SELECT Type, Place, Action, ValueHash FROM pii_findings WHERE SpanId = {id:String}',
      { id: span.spanId },
    );
    expect(findings.map((f) => [f.Type, f.Place, f.Action])).toEqual([['email', 'input', 'redact']]);
    expect(findings[0]?.ValueHash).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('OTLP responses', () => {
  it('answers an empty export with 200 and no partial_success', async () => {
    const json = await post(collector.url, '{}', JSON_CT);
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body.toString())).toEqual({});
    const proto = await post(collector.url, Buffer.alloc(0), PROTO_CT);
    expect(proto.status).toBe(200);
    expect(ExportTraceServiceResponse.decode(proto.body).partialSuccess ?? null).toBeNull();
  });

  it('rejects a body that is not OTLP with 400 and a message (JSON and protobuf)', async () => {
    const json = await post(collector.url, 'this is not json', JSON_CT);
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body.toString()).message).toMatch(/not valid JSON/);
    const proto = await post(collector.url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), PROTO_CT);
    expect(proto.status).toBe(400);
    expect(decodeRpcStatus(proto.body)).toEqual({
      code: 3,
      message: expect.stringMatching(/not an OTLP/) as unknown,
    });
  });

  it('rejects a truncated protobuf body with 400', async () => {
    const full = protobufExport([ids(), ids()]);
    const truncated = full.subarray(0, full.length - 7);
    const res = await post(collector.url, truncated, PROTO_CT);
    expect(res.status).toBe(400);
  });

  it('answers 415 to another content type', async () => {
    const res = await post(collector.url, 'a=b', { ...JSON_CT, 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
  });

  it('keeps the good spans of a request and counts the bad ones in partial_success (JSON)', async () => {
    const good = ids();
    const body = jsonExport([
      good,
      { traceId: 'xyz', spanId: ids().spanId },
      { traceId: ids().traceId, spanId: '0000000000000000' },
    ]);
    const spans = (body.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[])[0]!
      .scopeSpans[0]!.spans;
    spans.push({ ...spans[0], spanId: ids().spanId, name: { not: 'a string' } });
    spans.push({ ...spans[0], spanId: ids().spanId, startTimeUnixNano: 'yesterday' });
    const res = await post(collector.url, JSON.stringify(body), JSON_CT);
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body.toString()) as {
      partialSuccess: { rejectedSpans: number; errorMessage: string };
    };
    expect(answer.partialSuccess.rejectedSpans).toBe(4);
    expect(answer.partialSuccess.errorMessage).toMatch(/traceId/);
    await flush(collector);
    expect(await traceRow(good.spanId)).toHaveLength(1);
  });

  it('answers protobuf partial_success in an ExportTraceServiceResponse', async () => {
    const good = ids();
    const bad = { traceId: '00'.repeat(16), spanId: ids().spanId };
    const res = await post(collector.url, protobufExport([good, bad]), PROTO_CT);
    expect(res.status).toBe(200);
    const answer = ExportTraceServiceResponse.decode(res.body);
    expect(Number(answer.partialSuccess?.rejectedSpans)).toBe(1);
    await flush(collector);
    expect(await traceRow(good.spanId)).toHaveLength(1);
  });

  it('accepts OTLP/JSON int64 as numbers or strings and enums by name', async () => {
    const span = ids();
    const body = jsonExport([
      {
        ...span,
        attributes: [
          { key: 'n', value: { intValue: 42 } },
          { key: 's', value: { intValue: '9007199254740993' } },
        ],
      },
    ]);
    const s = (body.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[])[0]!
      .scopeSpans[0]!.spans[0]!;
    s.kind = 'SPAN_KIND_SERVER';
    const startMs = Math.floor(Date.now() / 1000) * 1000;
    s.startTimeUnixNano = startMs * 1_000_000;
    s.endTimeUnixNano = `${startMs + 1}000500`;
    const res = await post(collector.url, JSON.stringify(body), JSON_CT);
    expect(res.status).toBe(200);
    await flush(collector);
    const [row] = await traceRow(span.spanId);
    expect(row?.SpanKind).toBe('Server');
    expect(row?.Duration).toBe('1000500');
    expect(row?.SpanAttributes).toEqual({ n: '42', s: '9007199254740993' });
  });
});

describe('bad input does not take the collector down', () => {
  it('truncates a huge attribute value and keeps the span', async () => {
    const span = ids();
    const huge = 'x'.repeat(1_000_000);
    const res = await post(
      collector.url,
      JSON.stringify(jsonExport([{ ...span, attributes: [{ key: 'big', value: { stringValue: huge } }] }])),
      JSON_CT,
    );
    expect(res.status).toBe(200);
    await flush(collector);
    const [row] = await traceRow(span.spanId);
    expect(row?.SpanAttributes.big?.length).toBe(64 * 1024);
  });

  it('keeps 1024 of 10k attributes and the span', async () => {
    const span = ids();
    const attributes = Array.from({ length: 10_000 }, (_, i) => ({ key: `a${i}`, value: { intValue: i } }));
    const res = await post(collector.url, protobufExport([{ ...span, attributes }]), PROTO_CT);
    expect(res.status).toBe(200);
    await flush(collector);
    const [row] = await rows<{ n: number }>(
      collector,
      'SELECT length(mapKeys(SpanAttributes)) AS n FROM otel_traces WHERE SpanId = {id:String}',
      { id: span.spanId },
    );
    expect(row?.n).toBe(1024);
  });

  it('cuts deep kvlist nesting at the depth limit', async () => {
    const span = ids();
    // Built as text: 20k levels are deeper than JSON.stringify itself can go.
    const depth = 20_000;
    const deep = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(depth)}{"stringValue":"leaf"}${'}]}}'.repeat(depth)}`;
    const body = JSON.stringify(
      jsonExport([
        {
          ...span,
          attributes: [
            { key: 'deep', value: { stringValue: 'PLACEHOLDER' } },
            { key: 'ok', value: { boolValue: true } },
          ],
        },
      ]),
    );
    const res = await post(collector.url, body.replace('{"stringValue":"PLACEHOLDER"}', deep), JSON_CT);
    expect(res.status).toBe(200);
    await flush(collector);
    const [row] = await traceRow(span.spanId);
    // The tree is kept down to maxAttributeDepth (8) and cut below.
    expect(row?.SpanAttributes).toEqual({ ok: 'true', deep: `${'{"k":'.repeat(7)}{}${'}'.repeat(7)}` });
  });

  it('replaces invalid UTF-8 instead of failing (protobuf and JSON)', async () => {
    const a = ids();
    const proto = protobufExport([
      { ...a, name: 'NAME_MARK', attributes: [{ key: 'bad', value: { stringValue: 'VALUE_MARK' } }] },
    ]);
    // Corrupt both strings in place: 0xff is never valid UTF-8.
    proto.set([0xff], proto.indexOf('NAME_MARK') + 4);
    proto.set([0xc3], proto.indexOf('VALUE_MARK') + 5);
    const r1 = await post(collector.url, proto, PROTO_CT);
    expect(r1.status).toBe(200);
    const b = ids();
    const json = Buffer.from(
      JSON.stringify(
        jsonExport([{ ...b, name: 'ok', attributes: [{ key: 'bad', value: { stringValue: 'A\ud800B' } }] }]),
      ),
    );
    const withRawByte = Buffer.concat([
      json.subarray(0, json.indexOf('"ok"') + 2),
      Buffer.from([0xfe]),
      json.subarray(json.indexOf('"ok"') + 2),
    ]);
    const r2 = await post(collector.url, withRawByte, JSON_CT);
    expect(r2.status).toBe(200);
    await flush(collector);
    expect((await traceRow(a.spanId))[0]).toMatchObject({
      SpanName: 'NAME\ufffdMARK',
      SpanAttributes: { bad: 'VALUE\ufffdMARK' },
    });
    expect((await traceRow(b.spanId))[0]).toMatchObject({
      SpanName: 'o\ufffdk',
      SpanAttributes: { bad: 'A\ufffdB' },
    });
  });

  it('answers 413 to a gzip bomb without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const res = await post(collector.url, bomb, { ...JSON_CT, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('accepts a gzip body within the limits', async () => {
    const span = ids();
    const res = await post(collector.url, gzipSync(protobufExport([span])), {
      ...PROTO_CT,
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    await flush(collector);
    expect(await traceRow(span.spanId)).toHaveLength(1);
  });

  it('answers 413 to a body over maxBodyBytes', async () => {
    const res = await post(collector.url, Buffer.alloc(3 * 1024 * 1024, 0x20), JSON_CT);
    expect(res.status).toBe(413);
  });

  it('answers 400 to a corrupt gzip body', async () => {
    const res = await post(collector.url, Buffer.from('not gzip at all'), {
      ...JSON_CT,
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(400);
  });
});

describe('regressions', () => {
  it('a span timestamped before 2001 or far in the future does not fail the batch it is inserted with', async () => {
    // ClickHouse read "1.000000000" as a date and refused the row; the whole segment was then
    // retried and quarantined, losing the good spans inserted with it.
    const good = ids();
    const early = { ...ids(), start: 1n, end: 2n };
    const year2200 = { ...ids(), start: 7_258_118_400_000_000_000n, end: 7_258_118_400_000_000_001n };
    const beyond = { ...ids(), start: 9_300_000_000_000_000_000n, end: 9_300_000_000_000_000_001n };
    const body = jsonExport([good, early, year2200, beyond]);
    const spans = (body.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[])[0]!
      .scopeSpans[0]!.spans;
    spans[0]!.events = [
      { name: 'bad time', timeUnixNano: 'soon' },
      { name: 'epoch', timeUnixNano: '5' },
    ];
    const res = await post(collector.url, JSON.stringify(body), JSON_CT);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString()).partialSuccess.rejectedSpans).toBe(1);
    await flush(collector);
    expect(await traceRow(good.spanId)).toHaveLength(1);
    const [far] = await rows<{ Timestamp: string }>(
      collector,
      'SELECT toString(Timestamp) AS Timestamp FROM otel_traces WHERE SpanId = {id:String}',
      { id: year2200.spanId },
    );
    expect(far?.Timestamp).toBe('2200-01-01 00:00:00.000000000');
    const metrics = await (
      await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${KEY_A}` } })
    ).text();
    expect(metrics).not.toMatch(/llmwatch_ingest_insert_errors_total\{[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/llmwatch_ingest_spans_dropped_total\{[^}]*\} [1-9]/);
  });
});

describe('projects and keys', () => {
  it('answers 401 without a key or with an unknown key', async () => {
    const body = JSON.stringify(jsonExport([ids()]));
    expect((await post(collector.url, body, { 'content-type': 'application/json' })).status).toBe(401);
    expect(
      (await post(collector.url, body, { ...JSON_CT, authorization: 'Bearer not-a-key-at-all' })).status,
    ).toBe(401);
  });

  it('stores under the project of the key, whatever the payload claims', async () => {
    const span = ids();
    const body = jsonExport([
      { ...span, attributes: [{ key: 'llmwatch.project', value: { stringValue: 'alpha' } }] },
    ]);
    const res = await post(collector.url, JSON.stringify(body), {
      ...JSON_CT,
      authorization: `Bearer ${KEY_B}`,
      'x-project': 'alpha',
    });
    expect(res.status).toBe(200);
    await flush(collector);
    expect((await traceRow(span.spanId)).map((r) => r.ProjectId)).toEqual(['beta']);
  });

  it('does not let one project read another project’s calls', async () => {
    const res = await fetch(`${collector.url}/api/calls?limit=1000`, {
      headers: { authorization: `Bearer ${KEY_B}` },
    });
    expect(res.status).toBe(200);
    const { calls } = (await res.json()) as { calls: { traceId: string }[] };
    const [alpha] = await rows<{ n: string }>(
      collector,
      "SELECT toString(count()) AS n FROM llm_calls WHERE ProjectId != 'beta'",
    );
    for (const call of calls) {
      const [owner] = await rows<{ ProjectId: string }>(
        collector,
        'SELECT ProjectId FROM llm_calls WHERE TraceId = {t:String} LIMIT 1',
        { t: call.traceId },
      );
      expect(owner?.ProjectId).toBe('beta');
    }
    expect(alpha).toBeDefined();
  });
});

describe('operations', () => {
  it('serves /healthz and /readyz without auth, Prometheus /metrics with a key', async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${collector.url}/readyz`);
    expect(ready.status).toBe(200);
    // Regression (/metrics unauthenticated): with project keys configured it needs one.
    expect((await fetch(`${collector.url}/metrics`)).status).toBe(401);
    const text = await (
      await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${KEY_A}` } })
    ).text();
    expect(text).toMatch(/llmwatch_ingest_spans_accepted_total\{encoding="protobuf"\} \d+/);
    expect(text).toMatch(/llmwatch_ingest_spans_rejected_total\{reason="invalid_trace_id"\} \d+/);
    expect(text).toMatch(/llmwatch_ingest_insert_duration_seconds_bucket\{le="[^"]+",table="otel_traces"\}/);
    expect(text).toMatch(/llmwatch_ingest_spool_bytes \d+/);
    expect(text).toMatch(/llmwatch_ingest_body_bytes \d+/);
    // Never an id or a key in a label.
    expect(text).not.toMatch(/abababab|key-project/);
  });
});
