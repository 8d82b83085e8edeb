import type { Attributes, DecodedSpan, Dialect, LlmCall, SpanKindName, SpanStatusName } from '@llmwatch/core';
import { normalizeSpan } from '@llmwatch/core';
import { queryRows, type RunningCollector } from '@llmwatch/collector';
import type { FakeServer } from '@llmwatch/fake-llm';
import { init, shutdown } from '@llmwatch/sdk';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type OpenAI from 'openai';
import { expect } from 'vitest';
import { startWrappedOpenAI } from './fake-openai.js';
import { IDENTITY, MODEL, TOOL_INPUT_CONTENT, TOOL_OUTPUT_CONTENT } from './peers-scenarios.js';

/**
 * Helpers for the cross-instrumentation equality tests: an in-memory OTel pipeline for a peer
 * instrumentation, the ReadableSpan → DecodedSpan conversion (what the collector's OTLP decoder
 * produces from the same span), field-by-field comparison of normalized calls (or of their stored
 * rows), and the SDK-plus-peer setup the in-memory dialect tests share.
 */

export const SERVICE = 'dialects-e2e';

export interface PeerPipeline {
  provider: BasicTracerProvider;
  exporter: InMemorySpanExporter;
}

export function peerPipeline(): PeerPipeline {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, exporter };
}

const KIND: readonly SpanKindName[] = ['Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS: readonly SpanStatusName[] = ['Unset', 'Ok', 'Error'];

function nanos(t: HrTime): string {
  return (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
}

function plainAttributes(attrs: Readonly<Record<string, unknown>>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    out[k] = v as Attributes[string];
  }
  return out;
}

/**
 * A finished SDK span as the collector decodes it from OTLP. Works across sdk-trace-base 1.x and
 * 2.x (parentSpanContext vs parentSpanId, instrumentationScope vs instrumentationLibrary).
 */
export function toDecodedSpan(span: ReadableSpan): DecodedSpan {
  const ctx = span.spanContext();
  const s = span as ReadableSpan & {
    parentSpanId?: string;
    instrumentationLibrary?: { name: string; version?: string };
  };
  const scope = s.instrumentationScope ?? s.instrumentationLibrary ?? { name: '' };
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? s.parentSpanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '',
    name: span.name,
    kind: KIND[span.kind] ?? 'Unspecified',
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: plainAttributes(span.attributes),
    resource: plainAttributes(span.resource.attributes),
    scopeName: scope.name,
    scopeVersion: scope.version ?? '',
    statusCode: STATUS[span.status.code] ?? 'Unset',
    statusMessage: span.status.message ?? '',
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: nanos(e.time),
      attributes: plainAttributes(e.attributes ?? {}),
    })),
    links: [],
  };
}

export function normalizeAll(spans: readonly ReadableSpan[], projectId = 'e2e'): LlmCall[] {
  const calls: LlmCall[] = [];
  for (const s of spans) {
    const call = normalizeSpan(toDecodedSpan(s), projectId);
    if (call) calls.push(call);
  }
  return calls;
}

/** Fields every dialect can carry for an OpenAI chat call. */
export const COMMON_FIELDS = [
  'serviceName',
  'provider',
  'operation',
  'requestModel',
  'responseModel',
  'model',
  'inputTokens',
  'outputTokens',
  'finishReasons',
  'status',
  'userId',
  'sessionId',
  'promptName',
  'promptVersion',
  'toolNames',
] as const satisfies readonly (keyof LlmCall)[];

export const CONTENT_FIELDS = ['inputContent', 'outputContent', 'systemContent'] as const;

/**
 * The `llm_calls` columns the collector-backed dialect tests read, named as the `LlmCall` fields
 * they hold (a column is its field's name in PascalCase).
 */
const CALL_ROW_FIELDS = [
  'dialect',
  ...COMMON_FIELDS,
  ...CONTENT_FIELDS,
  'responseId',
  'cacheReadTokens',
  'reasoningTokens',
  'costUsd',
  'priceVersion',
  'latencyMs',
  'ttftMs',
  'streaming',
  'tags',
] as const satisfies readonly (keyof LlmCall)[];

/** One stored `llm_calls` row, as the dialect tests read it. */
export type CallRow = Pick<LlmCall, (typeof CALL_ROW_FIELDS)[number]>;

const CALL_ROW_COLUMNS = CALL_ROW_FIELDS.map((f) => `${f[0]!.toUpperCase()}${f.slice(1)} AS ${f}`).join(', ');

/**
 * The stored calls matching `where` (a ClickHouse condition with `{name:Type}` placeholders bound
 * from `params`), keyed by dialect. Polls until there are at least `n` rows or `timeoutMs` has
 * passed, then returns what there is: the caller's assertions say what was missing.
 */
export async function waitForCallRows(
  collector: RunningCollector,
  where: string,
  params: Record<string, unknown>,
  n: number,
  timeoutMs = 20_000,
): Promise<Record<string, CallRow>> {
  const sql = `SELECT ${CALL_ROW_COLUMNS} FROM llm_calls WHERE ${where} ORDER BY Dialect`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await queryRows<CallRow>(collector.deps.clickhouse.query, sql, params);
    if (found.length >= n || Date.now() > deadline)
      return Object.fromEntries(found.map((r) => [r.dialect, r]));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What expectSameCall needs of a call: a normalized LlmCall, or its stored `llm_calls` row. */
type ComparableCall = Pick<LlmCall, 'dialect' | 'latencyMs' | (typeof CONTENT_FIELDS)[number]>;

/**
 * Asserts `peer` equals `reference` field by field: scalar fields exactly, content as parsed JSON
 * (the canonical form makes the strings equal too, checked separately), latency within `latencyToleranceMs`
 * (the two spans are nested around the same HTTP call, so they differ by the wrappers' overhead).
 */
export function expectSameCall<C extends ComparableCall>(
  peer: C,
  reference: C,
  fields: readonly (keyof C)[],
  latencyToleranceMs = 50,
): void {
  for (const f of fields) expect(peer[f], `${peer.dialect}.${String(f)}`).toEqual(reference[f]);
  for (const f of CONTENT_FIELDS) {
    const a = peer[f] === '' ? '' : (JSON.parse(peer[f]) as unknown);
    const b = reference[f] === '' ? '' : (JSON.parse(reference[f]) as unknown);
    expect(a, `${peer.dialect}.${f}`).toEqual(b);
    expect(peer[f], `${peer.dialect}.${f} (canonical string)`).toBe(reference[f]);
  }
  expect(Math.abs(peer.latencyMs - reference.latencyMs), `${peer.dialect}.latencyMs`).toBeLessThan(
    latencyToleranceMs,
  );
}

/** Asserts `call` is the TOOL_MESSAGES request answered by TOOL_REPLY: tool names, finish reason, content. */
export function expectToolCall(
  call: Pick<LlmCall, 'toolNames' | 'finishReasons' | 'inputContent' | 'outputContent'>,
): void {
  expect(call.toolNames).toEqual(['get_weather']);
  expect(call.finishReasons).toEqual(['tool_call']);
  expect(JSON.parse(call.inputContent)).toEqual(TOOL_INPUT_CONTENT);
  expect(JSON.parse(call.outputContent)).toEqual(TOOL_OUTPUT_CONTENT);
}

/** Waits until `exporter` holds n finished spans (stream spans end after the last chunk). */
export async function settled(
  exporters: readonly { getFinishedSpans(): ReadableSpan[] }[],
  n: number,
  timeoutMs = 3000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const total = (): number => exporters.reduce((sum, e) => sum + e.getFinishedSpans().length, 0);
  while (total() < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
}

/**
 * The llmwatch SDK and one peer instrumentation observing the same official-client calls against
 * the fake OpenAI server, each into its own in-memory exporter. The SDK wraps the client instance
 * and the peer patches the prototype, so one call yields both spans (the peer's nested). Call
 * start() in beforeAll, stop() in afterAll and reset() in beforeEach.
 */
export class SdkAndPeer {
  readonly sdkExporter = new InMemorySpanExporter();
  readonly peer = peerPipeline();
  fake!: FakeServer;
  client!: OpenAI;

  constructor(readonly peerDialect: Dialect) {}

  /** init() the SDK, let `instrument` patch openai to trace into `provider`, then start the fake and a warmed-up client. */
  async start(instrument: (provider: BasicTracerProvider) => void): Promise<void> {
    init({ spanProcessor: new SimpleSpanProcessor(this.sdkExporter), capture: 'full', serviceName: SERVICE });
    instrument(this.peer.provider);
    ({ fake: this.fake, client: this.client } = await startWrappedOpenAI({ warmUp: true }));
  }

  async stop(): Promise<void> {
    await shutdown();
    await this.fake.close();
  }

  reset(): void {
    this.sdkExporter.reset();
    this.peer.exporter.reset();
    this.fake.reset();
  }

  /** The one call each side recorded, once `spans` spans have finished (asserts one each, of the right dialects). */
  async bothCalls(spans: number): Promise<{ sdk: LlmCall; peer: LlmCall }> {
    await settled([this.sdkExporter, this.peer.exporter], spans);
    const [sdk, ...restSdk] = normalizeAll(this.sdkExporter.getFinishedSpans());
    const [peer, ...restPeer] = normalizeAll(this.peer.exporter.getFinishedSpans());
    expect(restSdk).toEqual([]);
    expect(restPeer).toEqual([]);
    expect(sdk?.dialect).toBe('llmwatch');
    expect(peer?.dialect).toBe(this.peerDialect);
    return { sdk: sdk!, peer: peer! };
  }

  /**
   * After a call the provider rejected: the SDK recorded an error call with the caller's identity,
   * and the peer ended no span (the JS peers end theirs only on the APIPromise's success path).
   */
  async expectSdkErrorOnly(): Promise<void> {
    await settled([this.sdkExporter], 1);
    await new Promise((r) => setTimeout(r, 100));
    const [sdk] = normalizeAll(this.sdkExporter.getFinishedSpans());
    expect(sdk).toMatchObject({ status: 'error', model: MODEL, userId: IDENTITY.userId, outputContent: '' });
    expect(sdk?.errorType).not.toBe('');
    expect(this.peer.exporter.getFinishedSpans()).toEqual([]);
  }
}
