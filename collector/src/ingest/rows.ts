import type { Attributes, DecodedSpan, LlmCall } from '@llmwatch/core';
import type { CallFeatures } from '../enrich/features.js';
import type { PiiFindingRow } from '../enrich/pii.js';
import type { RowFormat } from '../storage/clickhouse.js';
import { BINARY_FLOAT_COLUMNS, binaryInput } from '../storage/migrations/index.js';
import * as csv from './csv.js';

/**
 * Rows as pre-serialized lines: CSV for the two tables every LLM span writes
 * (otel_traces, llm_calls; `CSV_COLUMNS`), JSONEachRow for the others. Serializing once, here, is
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
  return csv.mapText(attrs, attributeText, omit);
}

/** The resource resourceField wrote last, and its field. */
let lastResource: Attributes | undefined;
let lastResourceField = '';

/**
 * The ResourceAttributes field of a span's row. The spans of an export share one resource object
 * (ingest/decode.ts), which nothing changes afterwards, and an SDK's resource (service, SDK,
 * process, host and runtime attributes) is often a larger map than a span's own attributes: it is
 * written once per resource, not once per span.
 */
function resourceField(resource: Attributes): string {
  if (resource !== lastResource) {
    lastResourceField = csv.field(attributeMap(resource));
    lastResource = resource;
  }
  return lastResourceField;
}

/** `heldByCall`: attributes whose content the span's llm_calls row holds (core contentHeldByCall). */
type TraceInput = { projectId: string; span: DecodedSpan; heldByCall: readonly string[] };

/**
 * otel_traces, column for column as the OpenTelemetry Collector ClickHouse exporter writes it,
 * except that an LLM span's messages are stored once, in its llm_calls row: they are most of a
 * span's bytes, and trace views show them from there (api/traces.ts, the Grafana trace panel).
 */
export const TRACE_ROWS = csv.csvTable<TraceInput>([
  ['ProjectId', (r) => csv.field(r.projectId)],
  ['Timestamp', (r) => nanosToDateTime64(r.span.startTimeUnixNano)],
  ['TraceId', (r) => csv.field(r.span.traceId)],
  ['SpanId', (r) => csv.field(r.span.spanId)],
  ['ParentSpanId', (r) => csv.field(r.span.parentSpanId)],
  ['TraceState', (r) => csv.field(r.span.traceState)],
  ['SpanName', (r) => csv.field(r.span.name)],
  ['SpanKind', (r) => csv.field(r.span.kind)],
  ['ServiceName', (r) => csv.field(serviceNameOf(r.span.resource))],
  ['ResourceAttributes', (r) => resourceField(r.span.resource)],
  ['ScopeName', (r) => csv.field(r.span.scopeName)],
  ['ScopeVersion', (r) => csv.field(r.span.scopeVersion)],
  ['SpanAttributes', (r) => csv.field(attributeMap(r.span.attributes, r.heldByCall))],
  ['Duration', (r) => durationNanos(r.span.startTimeUnixNano, r.span.endTimeUnixNano)],
  ['StatusCode', (r) => csv.field(r.span.statusCode)],
  ['StatusMessage', (r) => csv.field(r.span.statusMessage)],
  ['Events.Timestamp', (r) => csv.strings(r.span.events.map((e) => nanosToDateTime64(e.timeUnixNano)))],
  ['Events.Name', (r) => csv.strings(r.span.events.map((e) => e.name))],
  ['Events.Attributes', (r) => csv.field(csv.arrayText(r.span.events, (e) => attributeMap(e.attributes)))],
  ['Links.TraceId', (r) => csv.strings(r.span.links.map((l) => l.traceId))],
  ['Links.SpanId', (r) => csv.strings(r.span.links.map((l) => l.spanId))],
  ['Links.TraceState', (r) => csv.strings(r.span.links.map((l) => l.traceState))],
  ['Links.Attributes', (r) => csv.field(csv.arrayText(r.span.links, (l) => attributeMap(l.attributes)))],
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
type CallInput = { call: LlmCall; features: CallFeatures; pii: { types: string[]; count: number } };

const nullableFloat = (n: number | null): string =>
  n === null || !Number.isFinite(n) ? csv.NULL : String(n);

/**
 * llm_calls: one typed row per LLM span (the record is described in core's llm-call.ts). Its float
 * vectors travel as bytes, through the `…Base64` columns of migration 12.
 */
export const CALL_ROWS = csv.csvTable<CallInput>([
  ['ProjectId', ({ call }) => csv.field(call.projectId)],
  ['Timestamp', ({ call }) => nanosToDateTime64(call.startTimeUnixNano)],
  ['TraceId', ({ call }) => csv.field(call.traceId)],
  ['SpanId', ({ call }) => csv.field(call.spanId)],
  ['ParentSpanId', ({ call }) => csv.field(call.parentSpanId)],
  ['ServiceName', ({ call }) => csv.field(call.serviceName)],
  ['Dialect', ({ call }) => csv.field(call.dialect)],
  ['Provider', ({ call }) => csv.field(call.provider)],
  ['Operation', ({ call }) => csv.field(call.operation)],
  ['RequestModel', ({ call }) => csv.field(call.requestModel)],
  ['ResponseModel', ({ call }) => csv.field(call.responseModel)],
  ['Model', ({ call }) => csv.field(call.model)],
  ['ResponseId', ({ call }) => csv.field(call.responseId)],
  ['InputTokens', ({ call }) => String(uint(call.inputTokens, U32))],
  ['OutputTokens', ({ call }) => String(uint(call.outputTokens, U32))],
  ['UsageReported', ({ call }) => csv.bool(call.usageReported)],
  ['CacheReadTokens', ({ call }) => String(uint(call.cacheReadTokens, U32))],
  ['CacheWriteTokens', ({ call }) => String(uint(call.cacheWriteTokens, U32))],
  ['ReasoningTokens', ({ call }) => String(uint(call.reasoningTokens, U32))],
  ['CostUsd', ({ call }) => nullableFloat(call.costUsd)],
  ['PriceVersion', ({ call }) => csv.field(call.priceVersion)],
  ['LatencyMs', ({ call }) => String(float(call.latencyMs))],
  ['TtftMs', ({ call }) => nullableFloat(call.ttftMs)],
  ['Streaming', ({ call }) => csv.bool(call.streaming)],
  ['FinishReasons', ({ call }) => csv.strings(call.finishReasons)],
  ['Status', ({ call }) => csv.field(call.status)],
  ['ErrorType', ({ call }) => csv.field(call.errorType)],
  ['PromptName', ({ call }) => csv.field(call.promptName)],
  ['PromptVersion', ({ call }) => csv.field(call.promptVersion)],
  ['UserId', ({ call }) => csv.field(call.userId)],
  ['SessionId', ({ call }) => csv.field(call.sessionId)],
  ['ConversationId', ({ call }) => csv.field(call.conversationId)],
  ['Tags', ({ call }) => csv.field(csv.mapText(call.tags, String))],
  ['InputContent', ({ call }) => csv.field(call.inputContent)],
  ['OutputContent', ({ call }) => csv.field(call.outputContent)],
  ['SystemContent', ({ call }) => csv.field(call.systemContent)],
  ['ToolNames', ({ call }) => csv.strings(call.toolNames)],
  [binaryInput('InputEmbedding'), ({ call }) => csv.float32Base64(call.inputEmbedding)],
  [binaryInput('OutputEmbedding'), ({ call }) => csv.float32Base64(call.outputEmbedding)],
  ['PiiTypes', ({ pii }) => csv.strings(pii.types)],
  ['PiiCount', ({ pii }) => String(uint(pii.count, U16))],
  ['InputChars', ({ features }) => String(uint(features.inputChars, U32))],
  ['OutputChars', ({ features }) => String(uint(features.outputChars, U32))],
  ['Language', ({ features }) => csv.field(features.language)],
  [binaryInput('InputSketch'), ({ features }) => csv.float32Base64(features.inputSketch)],
  [binaryInput('OutputSketch'), ({ features }) => csv.float32Base64(features.outputSketch)],
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
 * The tables written as CSV, with the columns of their lines. Spool segments written by earlier
 * versions hold JSONEachRow lines (before 0.2's text rows) or TabSeparated lines in these columns;
 * `lineFormat` tells them apart.
 */
export const CSV_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  otel_traces: TRACE_ROWS.columns,
  llm_calls: CALL_ROWS.columns,
};

/**
 * llm_calls columns of the lines written before migration 12, which hold the float vectors as
 * `[…]` text in the vector columns themselves: every TabSeparated line, and CSV lines of spool
 * segments from those versions.
 */
export const TEXT_VECTOR_CALL_COLUMNS: readonly string[] = CALL_ROWS.columns.map(
  (column) => BINARY_FLOAT_COLUMNS.find((vector) => binaryInput(vector) === column) ?? column,
);

/**
 * The columns of `body`'s text lines in `table`, undefined for a table written as JSONEachRow.
 * An llm_calls line ends with its output sketch: `…]"` as text, base64 (never `]`) as bytes.
 */
export function lineColumns(
  table: TableName,
  body: Buffer,
  format: Exclude<RowFormat['format'], 'JSONEachRow'>,
): readonly string[] | undefined {
  if (table !== 'llm_calls') return CSV_COLUMNS[table];
  if (format === 'TabSeparated') return TEXT_VECTOR_CALL_COLUMNS;
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return end >= 2 && body[end - 2] === 0x5d ? TEXT_VECTOR_CALL_COLUMNS : CALL_ROWS.columns;
}

/**
 * How the line at `start` of `body` is written, from its first byte: a JSON row starts with `{`,
 * a CSV row with its double-quoted project id, a TabSeparated one with the bare project id
 * (config-validated letters, digits and `_.-`).
 */
export function lineFormat(body: Buffer, start = 0): RowFormat['format'] {
  const first = body[start];
  return first === 0x7b ? 'JSONEachRow' : first === 0x22 ? 'CSV' : 'TabSeparated';
}
