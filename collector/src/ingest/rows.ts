import type { Attributes, DecodedSpan, LlmCall } from '@llmwatch/core';
import type { CallFeatures } from '../enrich/features.js';
import type { PiiFindingRow } from '../enrich/pii.js';

/**
 * Rows as pre-serialized JSONEachRow lines. Serializing once, here, is what lets the writer insert
 * several times faster than handing objects to the client (docs/architecture.md#dependencies), and it is also the form
 * the spool persists, so a replay inserts byte-identical data.
 */
export const TABLES = [
  'otel_traces',
  'llm_calls',
  'pii_findings',
  // Logs and metrics (migration 004). Appended, never reordered: the spool's record layout
  // follows this order, and records written before these existed simply end early.
  'otel_logs',
  'otel_metrics_sum',
  'otel_metrics_gauge',
  'otel_metrics_histogram',
  'otel_metrics_exponential_histogram',
  'otel_metrics_summary',
  'genai_events',
] as const;
export type TableName = (typeof TABLES)[number];

export type TableRows = Record<TableName, string[]>;

export function emptyRows(): TableRows {
  return Object.fromEntries(TABLES.map((t) => [t, []])) as unknown as TableRows;
}

/**
 * The tables whose rows are the items of an export (spans, log records, metric data points): what
 * queue limits and segment sizes count. The others are derived from them.
 */
export const ITEM_TABLES: readonly TableName[] = [
  'otel_traces',
  'otel_logs',
  'otel_metrics_sum',
  'otel_metrics_gauge',
  'otel_metrics_histogram',
  'otel_metrics_exponential_histogram',
  'otel_metrics_summary',
];

export type { CallFeatures } from '../enrich/features.js';
export type { PiiFindingRow } from '../enrich/pii.js';

/**
 * Epoch nanoseconds (decimal string) → ClickHouse DateTime64(9) text `seconds.fraction`. The
 * seconds are zero-padded to 10 digits: ClickHouse reads a shorter `s.f` as a date ("1.0" is
 * January 1st) or fails, and one unparsable row would fail its whole batch.
 */
export function nanosToDateTime64(nanos: string): string {
  const digits = nanos.length >= 19 ? nanos : nanos.padStart(19, '0');
  return `${digits.slice(0, -9)}.${digits.slice(-9)}`;
}

/** end − start in nanoseconds, 0 when the end is before the start. */
export function durationNanos(start: string, end: string): string {
  // Same length and same leading digits (the common case): subtract the tails as numbers.
  if (start.length === end.length && start.length > 12) {
    const head = start.length - 12;
    if (start.slice(0, head) === end.slice(0, head)) {
      const d = Number(end.slice(head)) - Number(start.slice(head));
      return d > 0 ? String(d) : '0';
    }
  }
  const d = BigInt(end) - BigInt(start);
  return d > 0n ? d.toString() : '0';
}

/**
 * Map(String, String) values the way the OpenTelemetry Collector ClickHouse exporter writes them
 * (pcommon `AsString`): strings as-is, everything else as JSON, empty values as ''.
 */
export function stringMap(attrs: Attributes): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    out[key] = typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);
  }
  return out;
}

export function serviceNameOf(resource: Attributes): string {
  const name = resource['service.name'];
  return typeof name === 'string' ? name : name === null || name === undefined ? '' : JSON.stringify(name);
}

export function traceRow(projectId: string, span: DecodedSpan): string {
  // JSON.stringify of one object measured faster than hand-built JSON here (fewer rope strings).
  return JSON.stringify({
    ProjectId: projectId,
    Timestamp: nanosToDateTime64(span.startTimeUnixNano),
    TraceId: span.traceId,
    SpanId: span.spanId,
    ParentSpanId: span.parentSpanId,
    TraceState: span.traceState,
    SpanName: span.name,
    SpanKind: span.kind,
    ServiceName: serviceNameOf(span.resource),
    ResourceAttributes: stringMap(span.resource),
    ScopeName: span.scopeName,
    ScopeVersion: span.scopeVersion,
    SpanAttributes: stringMap(span.attributes),
    Duration: durationNanos(span.startTimeUnixNano, span.endTimeUnixNano),
    StatusCode: span.statusCode,
    StatusMessage: span.statusMessage,
    'Events.Timestamp': span.events.map((e) => nanosToDateTime64(e.timeUnixNano)),
    'Events.Name': span.events.map((e) => e.name),
    'Events.Attributes': span.events.map((e) => stringMap(e.attributes)),
    'Links.TraceId': span.links.map((l) => l.traceId),
    'Links.SpanId': span.links.map((l) => l.spanId),
    'Links.TraceState': span.links.map((l) => l.traceState),
    'Links.Attributes': span.links.map((l) => stringMap(l.attributes)),
  });
}

const U32 = 0xffff_ffff;
const U16 = 0xffff;
function uint(n: number, max: number): number {
  return Number.isFinite(n) && n > 0 ? Math.min(Math.trunc(n), max) : 0;
}
function float(n: number): number {
  return Number.isFinite(n) ? n : 0;
}
/**
 * Vectors go to Float32 columns, which keep ~7 significant digits anyway; the shortest text of
 * a float32-rounded double has up to 17 and made serializing sketches the slowest part of a row.
 */
function floats(a: readonly number[]): number[] {
  return a.map((n) => (Number.isFinite(n) ? Math.round(n * 1e7) / 1e7 : 0));
}

export function callRow(
  call: LlmCall,
  features: CallFeatures,
  pii: { types: string[]; count: number },
): string {
  return JSON.stringify({
    ProjectId: call.projectId,
    Timestamp: nanosToDateTime64(call.startTimeUnixNano),
    TraceId: call.traceId,
    SpanId: call.spanId,
    ParentSpanId: call.parentSpanId,
    ServiceName: call.serviceName,
    Dialect: call.dialect,
    Provider: call.provider,
    Operation: call.operation,
    RequestModel: call.requestModel,
    ResponseModel: call.responseModel,
    Model: call.model,
    ResponseId: call.responseId,
    InputTokens: uint(call.inputTokens, U32),
    OutputTokens: uint(call.outputTokens, U32),
    UsageReported: call.usageReported,
    CacheReadTokens: uint(call.cacheReadTokens, U32),
    CacheWriteTokens: uint(call.cacheWriteTokens, U32),
    ReasoningTokens: uint(call.reasoningTokens, U32),
    CostUsd: call.costUsd === null || !Number.isFinite(call.costUsd) ? null : call.costUsd,
    PriceVersion: call.priceVersion,
    LatencyMs: float(call.latencyMs),
    TtftMs: call.ttftMs === null || !Number.isFinite(call.ttftMs) ? null : call.ttftMs,
    Streaming: call.streaming,
    FinishReasons: call.finishReasons,
    Status: call.status,
    ErrorType: call.errorType,
    PromptName: call.promptName,
    PromptVersion: call.promptVersion,
    UserId: call.userId,
    SessionId: call.sessionId,
    ConversationId: call.conversationId,
    Tags: call.tags,
    InputContent: call.inputContent,
    OutputContent: call.outputContent,
    SystemContent: call.systemContent,
    ToolNames: call.toolNames,
    InputEmbedding: floats(call.inputEmbedding),
    OutputEmbedding: floats(call.outputEmbedding),
    PiiTypes: pii.types,
    PiiCount: uint(pii.count, U16),
    InputChars: uint(features.inputChars, U32),
    OutputChars: uint(features.outputChars, U32),
    Language: features.language,
    InputSketch: floats(features.inputSketch),
    OutputSketch: floats(features.outputSketch),
  });
}

export function piiRow(
  projectId: string,
  span: Pick<DecodedSpan, 'startTimeUnixNano' | 'traceId' | 'spanId' | 'resource'>,
  call: LlmCall | null,
  finding: PiiFindingRow,
): string {
  return JSON.stringify({
    ProjectId: projectId,
    Timestamp: nanosToDateTime64(span.startTimeUnixNano),
    TraceId: span.traceId,
    SpanId: span.spanId,
    ServiceName: call?.serviceName ?? serviceNameOf(span.resource),
    Provider: call?.provider ?? '',
    Model: call?.model ?? '',
    PromptName: call?.promptName ?? '',
    Type: finding.type,
    Place: finding.place,
    Action: finding.action,
    Count: uint(finding.count, U32),
    ValueHash: finding.valueHash,
  });
}
