import type { Attributes, DecodedSpan, LlmCall } from '@llmwatch/core';
import type { CallFeatures } from '../enrich/features.js';
import type { PiiFindingRow } from '../enrich/pii.js';
import * as tsv from './tsv.js';

/**
 * Rows as pre-serialized lines: TabSeparated for the two tables every LLM span writes
 * (otel_traces, llm_calls; `TSV_COLUMNS`), JSONEachRow for the others. Serializing once, here, is
 * what lets the writer insert several times faster than handing objects to the client
 * (docs/architecture.md#dependencies), and it is also the form the spool persists, so a replay
 * inserts byte-identical data.
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
  for (const key of Object.keys(attrs)) out[key] = attributeText(attrs[key]);
  return out;
}

function attributeText(v: Attributes[string] | undefined): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);
}

export function serviceNameOf(resource: Attributes): string {
  return attributeText(resource['service.name']);
}

/** Map(String, String) text of attributes, valued as `stringMap` does, without the intermediate object. */
function attributeMap(attrs: Attributes, omit?: readonly string[]): string {
  return tsv.map(attrs, attributeText, omit);
}

/** `heldByCall`: attributes whose content the span's llm_calls row holds (core contentHeldByCall). */
type TraceInput = { projectId: string; span: DecodedSpan; heldByCall: readonly string[] };

/**
 * otel_traces, column for column as the OpenTelemetry Collector ClickHouse exporter writes it,
 * except that an LLM span's messages are stored once, in its llm_calls row: they are most of a
 * span's bytes, and trace views show them from there (api/traces.ts, the Grafana trace panel).
 */
export const TRACE_ROWS = tsv.tsvTable<TraceInput>([
  ['ProjectId', (r) => tsv.field(r.projectId)],
  ['Timestamp', (r) => nanosToDateTime64(r.span.startTimeUnixNano)],
  ['TraceId', (r) => tsv.field(r.span.traceId)],
  ['SpanId', (r) => tsv.field(r.span.spanId)],
  ['ParentSpanId', (r) => tsv.field(r.span.parentSpanId)],
  ['TraceState', (r) => tsv.field(r.span.traceState)],
  ['SpanName', (r) => tsv.field(r.span.name)],
  ['SpanKind', (r) => tsv.field(r.span.kind)],
  ['ServiceName', (r) => tsv.field(serviceNameOf(r.span.resource))],
  ['ResourceAttributes', (r) => attributeMap(r.span.resource)],
  ['ScopeName', (r) => tsv.field(r.span.scopeName)],
  ['ScopeVersion', (r) => tsv.field(r.span.scopeVersion)],
  ['SpanAttributes', (r) => attributeMap(r.span.attributes, r.heldByCall)],
  ['Duration', (r) => durationNanos(r.span.startTimeUnixNano, r.span.endTimeUnixNano)],
  ['StatusCode', (r) => tsv.field(r.span.statusCode)],
  ['StatusMessage', (r) => tsv.field(r.span.statusMessage)],
  ['Events.Timestamp', (r) => tsv.strings(r.span.events.map((e) => nanosToDateTime64(e.timeUnixNano)))],
  ['Events.Name', (r) => tsv.strings(r.span.events.map((e) => e.name))],
  ['Events.Attributes', (r) => tsv.array(r.span.events, (e) => attributeMap(e.attributes))],
  ['Links.TraceId', (r) => tsv.strings(r.span.links.map((l) => l.traceId))],
  ['Links.SpanId', (r) => tsv.strings(r.span.links.map((l) => l.spanId))],
  ['Links.TraceState', (r) => tsv.strings(r.span.links.map((l) => l.traceState))],
  ['Links.Attributes', (r) => tsv.array(r.span.links, (l) => attributeMap(l.attributes))],
]);

export function traceRow(projectId: string, span: DecodedSpan, heldByCall: readonly string[] = []): string {
  return TRACE_ROWS.line({ projectId, span, heldByCall });
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

type CallInput = { call: LlmCall; features: CallFeatures; pii: { types: string[]; count: number } };

const nullableFloat = (n: number | null): string =>
  n === null || !Number.isFinite(n) ? tsv.NULL : String(n);

/** llm_calls: one typed row per LLM span (the record is described in core's llm-call.ts). */
export const CALL_ROWS = tsv.tsvTable<CallInput>([
  ['ProjectId', ({ call }) => tsv.field(call.projectId)],
  ['Timestamp', ({ call }) => nanosToDateTime64(call.startTimeUnixNano)],
  ['TraceId', ({ call }) => tsv.field(call.traceId)],
  ['SpanId', ({ call }) => tsv.field(call.spanId)],
  ['ParentSpanId', ({ call }) => tsv.field(call.parentSpanId)],
  ['ServiceName', ({ call }) => tsv.field(call.serviceName)],
  ['Dialect', ({ call }) => tsv.field(call.dialect)],
  ['Provider', ({ call }) => tsv.field(call.provider)],
  ['Operation', ({ call }) => tsv.field(call.operation)],
  ['RequestModel', ({ call }) => tsv.field(call.requestModel)],
  ['ResponseModel', ({ call }) => tsv.field(call.responseModel)],
  ['Model', ({ call }) => tsv.field(call.model)],
  ['ResponseId', ({ call }) => tsv.field(call.responseId)],
  ['InputTokens', ({ call }) => String(uint(call.inputTokens, U32))],
  ['OutputTokens', ({ call }) => String(uint(call.outputTokens, U32))],
  ['UsageReported', ({ call }) => tsv.bool(call.usageReported)],
  ['CacheReadTokens', ({ call }) => String(uint(call.cacheReadTokens, U32))],
  ['CacheWriteTokens', ({ call }) => String(uint(call.cacheWriteTokens, U32))],
  ['ReasoningTokens', ({ call }) => String(uint(call.reasoningTokens, U32))],
  ['CostUsd', ({ call }) => nullableFloat(call.costUsd)],
  ['PriceVersion', ({ call }) => tsv.field(call.priceVersion)],
  ['LatencyMs', ({ call }) => String(float(call.latencyMs))],
  ['TtftMs', ({ call }) => nullableFloat(call.ttftMs)],
  ['Streaming', ({ call }) => tsv.bool(call.streaming)],
  ['FinishReasons', ({ call }) => tsv.strings(call.finishReasons)],
  ['Status', ({ call }) => tsv.field(call.status)],
  ['ErrorType', ({ call }) => tsv.field(call.errorType)],
  ['PromptName', ({ call }) => tsv.field(call.promptName)],
  ['PromptVersion', ({ call }) => tsv.field(call.promptVersion)],
  ['UserId', ({ call }) => tsv.field(call.userId)],
  ['SessionId', ({ call }) => tsv.field(call.sessionId)],
  ['ConversationId', ({ call }) => tsv.field(call.conversationId)],
  ['Tags', ({ call }) => tsv.map(call.tags, String)],
  ['InputContent', ({ call }) => tsv.field(call.inputContent)],
  ['OutputContent', ({ call }) => tsv.field(call.outputContent)],
  ['SystemContent', ({ call }) => tsv.field(call.systemContent)],
  ['ToolNames', ({ call }) => tsv.strings(call.toolNames)],
  ['InputEmbedding', ({ call }) => tsv.numbers(floats(call.inputEmbedding))],
  ['OutputEmbedding', ({ call }) => tsv.numbers(floats(call.outputEmbedding))],
  ['PiiTypes', ({ pii }) => tsv.strings(pii.types)],
  ['PiiCount', ({ pii }) => String(uint(pii.count, U16))],
  ['InputChars', ({ features }) => String(uint(features.inputChars, U32))],
  ['OutputChars', ({ features }) => String(uint(features.outputChars, U32))],
  ['Language', ({ features }) => tsv.field(features.language)],
  ['InputSketch', ({ features }) => tsv.numbers(floats(features.inputSketch))],
  ['OutputSketch', ({ features }) => tsv.numbers(floats(features.outputSketch))],
]);

export function callRow(
  call: LlmCall,
  features: CallFeatures,
  pii: { types: string[]; count: number },
): string {
  return CALL_ROWS.line({ call, features, pii });
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

/**
 * The tables written as TabSeparated, with the columns of their lines. Spool segments written
 * before these tables moved to TabSeparated hold JSONEachRow lines (a JSON row starts with `{`,
 * a TabSeparated one with its project id, which cannot).
 */
export const TSV_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  otel_traces: TRACE_ROWS.columns,
  llm_calls: CALL_ROWS.columns,
};

/** Whether the line at `start` of `body` is a JSONEachRow row (see TSV_COLUMNS). */
export function isJsonRow(body: Buffer, start = 0): boolean {
  return body[start] === 0x7b; // '{'
}
