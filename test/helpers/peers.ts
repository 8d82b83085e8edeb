import type { Attributes, DecodedSpan, LlmCall, SpanKindName, SpanStatusName } from '@llmwatch/core';
import { normalizeSpan } from '@llmwatch/core';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';

/**
 * Helpers for the cross-instrumentation equality tests: an in-memory OTel pipeline for a peer
 * instrumentation, the ReadableSpan → DecodedSpan conversion (what the collector's OTLP decoder
 * produces from the same span), and field-by-field comparison of normalized calls.
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
 * Asserts `peer` equals `reference` field by field: scalar fields exactly, content as parsed JSON
 * (the canonical form makes the strings equal too, checked separately), latency within `latencyToleranceMs`
 * (the two spans are nested around the same HTTP call, so they differ by the wrappers' overhead).
 */
export function expectSameCall(
  peer: LlmCall,
  reference: LlmCall,
  fields: readonly (keyof LlmCall)[],
  latencyToleranceMs = 50,
): void {
  for (const f of fields) expect(peer[f], `${peer.dialect}.${f}`).toEqual(reference[f]);
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
