import type { Attributes, DecodedSpan, LlmCall } from '@llmwatch/core';
import type { CallFeatures } from '../enrich/features.js';
import type { PiiFindingRow } from '../enrich/pii.js';
import type { RowFormat } from '../storage/clickhouse.js';
import { BINARY_FLOAT_COLUMNS, binaryInput } from '../storage/migrations/index.js';
import { binaryTable, isBinaryRow, RowWriter } from './rowbinary.js';

/**
 * Rows pre-serialized: RowBinary for the two tables every LLM span writes (otel_traces, llm_calls;
 * `BINARY_COLUMNS`), JSONEachRow lines for the others. Serializing once, here, is what lets the
 * writer insert several times faster than handing objects to the client
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

/** A row: a JSONEachRow line (without its newline) or a RowBinary row, head included. */
export type Row = string | Buffer;
export type TableRows = Record<TableName, Row[]>;

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

/** The writer every RowBinary row of this thread is made in. */
const writer = new RowWriter();

/** The resource resourceField wrote last, and its field's bytes. */
let lastResource: Attributes | undefined;
let lastResourceField: Buffer = Buffer.alloc(0);

/**
 * The ResourceAttributes field of a span's row. The spans of an export share one resource object
 * (ingest/decode.ts), which nothing changes afterwards, and an SDK's resource (service, SDK,
 * process, host and runtime attributes) is often a larger map than a span's own attributes: it is
 * written once per resource, not once per span.
 */
function resourceField(w: RowWriter, resource: Attributes): void {
  if (resource !== lastResource) {
    const from = w.position;
    w.map(resource, attributeText);
    lastResourceField = w.since(from);
    lastResource = resource;
    return;
  }
  w.bytes(lastResourceField);
}

/** `heldByCall`: attributes whose content the span's llm_calls row holds (core contentHeldByCall). */
type TraceInput = { projectId: string; span: DecodedSpan; heldByCall: readonly string[] };

/** A DateTime64(9) from epoch nanoseconds (decimal digits). */
function dateTime64(w: RowWriter, nanos: string): void {
  w.int64(nanos);
}

/**
 * otel_traces, column for column as the OpenTelemetry Collector ClickHouse exporter writes it,
 * except that an LLM span's messages are stored once, in its llm_calls row: they are most of a
 * span's bytes, and trace views show them from there (api/traces.ts, the Grafana trace panel).
 * The first four fields are the span's key, which the span lookup reads (ingest/dedup.ts).
 */
export const TRACE_ROWS = binaryTable<TraceInput>(
  [
    ['ProjectId', (w, r) => w.string(r.projectId)],
    ['Timestamp', (w, r) => dateTime64(w, r.span.startTimeUnixNano)],
    ['TraceId', (w, r) => w.string(r.span.traceId)],
    ['SpanId', (w, r) => w.string(r.span.spanId)],
    ['ParentSpanId', (w, r) => w.string(r.span.parentSpanId)],
    ['TraceState', (w, r) => w.string(r.span.traceState)],
    ['SpanName', (w, r) => w.string(r.span.name)],
    ['SpanKind', (w, r) => w.string(r.span.kind)],
    ['ServiceName', (w, r) => w.string(serviceNameOf(r.span.resource))],
    ['ResourceAttributes', (w, r) => resourceField(w, r.span.resource)],
    ['ScopeName', (w, r) => w.string(r.span.scopeName)],
    ['ScopeVersion', (w, r) => w.string(r.span.scopeVersion)],
    ['SpanAttributes', (w, r) => w.map(r.span.attributes, attributeText, r.heldByCall)],
    ['Duration', (w, r) => w.int64(durationNanos(r.span.startTimeUnixNano, r.span.endTimeUnixNano))],
    ['StatusCode', (w, r) => w.string(r.span.statusCode)],
    ['StatusMessage', (w, r) => w.string(r.span.statusMessage)],
    [
      'Events.Timestamp',
      (w, r) => {
        w.varint(r.span.events.length);
        for (const e of r.span.events) dateTime64(w, e.timeUnixNano);
      },
    ],
    ['Events.Name', (w, r) => w.strings(r.span.events.map((e) => e.name))],
    [
      'Events.Attributes',
      (w, r) => {
        w.varint(r.span.events.length);
        for (const e of r.span.events) w.map(e.attributes, attributeText);
      },
    ],
    ['Links.TraceId', (w, r) => w.strings(r.span.links.map((l) => l.traceId))],
    ['Links.SpanId', (w, r) => w.strings(r.span.links.map((l) => l.spanId))],
    ['Links.TraceState', (w, r) => w.strings(r.span.links.map((l) => l.traceState))],
    [
      'Links.Attributes',
      (w, r) => {
        w.varint(r.span.links.length);
        for (const l of r.span.links) w.map(l.attributes, attributeText);
      },
    ],
  ],
  writer,
);

export function traceRow(projectId: string, span: DecodedSpan, heldByCall: readonly string[] = []): Buffer {
  return TRACE_ROWS.row({ projectId, span, heldByCall });
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

const nullableFloat = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);

/** llm_calls: one typed row per LLM span (the record is described in core's llm-call.ts). */
export const CALL_ROWS = binaryTable<CallInput>(
  [
    ['ProjectId', (w, { call }) => w.string(call.projectId)],
    ['Timestamp', (w, { call }) => dateTime64(w, call.startTimeUnixNano)],
    ['TraceId', (w, { call }) => w.string(call.traceId)],
    ['SpanId', (w, { call }) => w.string(call.spanId)],
    ['ParentSpanId', (w, { call }) => w.string(call.parentSpanId)],
    ['ServiceName', (w, { call }) => w.string(call.serviceName)],
    ['Dialect', (w, { call }) => w.string(call.dialect)],
    ['Provider', (w, { call }) => w.string(call.provider)],
    ['Operation', (w, { call }) => w.string(call.operation)],
    ['RequestModel', (w, { call }) => w.string(call.requestModel)],
    ['ResponseModel', (w, { call }) => w.string(call.responseModel)],
    ['Model', (w, { call }) => w.string(call.model)],
    ['ResponseId', (w, { call }) => w.string(call.responseId)],
    ['InputTokens', (w, { call }) => w.uint32(uint(call.inputTokens, U32))],
    ['OutputTokens', (w, { call }) => w.uint32(uint(call.outputTokens, U32))],
    ['UsageReported', (w, { call }) => w.bool(call.usageReported)],
    ['CacheReadTokens', (w, { call }) => w.uint32(uint(call.cacheReadTokens, U32))],
    ['CacheWriteTokens', (w, { call }) => w.uint32(uint(call.cacheWriteTokens, U32))],
    ['ReasoningTokens', (w, { call }) => w.uint32(uint(call.reasoningTokens, U32))],
    ['CostUsd', (w, { call }) => w.nullableFloat64(nullableFloat(call.costUsd))],
    ['PriceVersion', (w, { call }) => w.string(call.priceVersion)],
    ['LatencyMs', (w, { call }) => w.float64(float(call.latencyMs))],
    ['TtftMs', (w, { call }) => w.nullableFloat64(nullableFloat(call.ttftMs))],
    ['Streaming', (w, { call }) => w.bool(call.streaming)],
    ['FinishReasons', (w, { call }) => w.strings(call.finishReasons)],
    ['Status', (w, { call }) => w.string(call.status)],
    ['ErrorType', (w, { call }) => w.string(call.errorType)],
    ['PromptName', (w, { call }) => w.string(call.promptName)],
    ['PromptVersion', (w, { call }) => w.string(call.promptVersion)],
    ['UserId', (w, { call }) => w.string(call.userId)],
    ['SessionId', (w, { call }) => w.string(call.sessionId)],
    ['ConversationId', (w, { call }) => w.string(call.conversationId)],
    ['Tags', (w, { call }) => w.map(call.tags, String)],
    ['InputContent', (w, { call }) => w.string(call.inputContent)],
    ['OutputContent', (w, { call }) => w.string(call.outputContent)],
    ['SystemContent', (w, { call }) => w.string(call.systemContent)],
    ['ToolNames', (w, { call }) => w.strings(call.toolNames)],
    ['InputEmbedding', (w, { call }) => w.float32s(call.inputEmbedding)],
    ['OutputEmbedding', (w, { call }) => w.float32s(call.outputEmbedding)],
    ['PiiTypes', (w, { pii }) => w.strings(pii.types)],
    ['PiiCount', (w, { pii }) => w.uint16(uint(pii.count, U16))],
    ['InputChars', (w, { features }) => w.uint32(uint(features.inputChars, U32))],
    ['OutputChars', (w, { features }) => w.uint32(uint(features.outputChars, U32))],
    ['Language', (w, { features }) => w.string(features.language)],
    ['InputSketch', (w, { features }) => w.float32s(features.inputSketch)],
    ['OutputSketch', (w, { features }) => w.float32s(features.outputSketch)],
  ],
  writer,
);

export function callRow(
  call: LlmCall,
  features: CallFeatures,
  pii: { types: string[]; count: number },
): Buffer {
  return CALL_ROWS.row({ call, features, pii });
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

/** The tables written as RowBinary (rowbinary.ts), with their columns. */
export const BINARY_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  otel_traces: TRACE_ROWS.columns,
  llm_calls: CALL_ROWS.columns,
};

/**
 * llm_calls columns of the text lines written before migration 12, which hold the float vectors as
 * `[…]` text in the vector columns themselves: every TabSeparated line, and CSV lines of spool
 * segments from those versions. The same columns as a RowBinary row's.
 */
export const TEXT_VECTOR_CALL_COLUMNS: readonly string[] = CALL_ROWS.columns;

/**
 * The columns of the CSV lines spool segments of the versions from migration 12 to RowBinary rows
 * hold: a RowBinary row's, llm_calls vectors as base64 through their `binaryInput` column
 * (migration 12).
 */
export const CSV_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  otel_traces: TRACE_ROWS.columns,
  llm_calls: CALL_ROWS.columns.map((column) =>
    BINARY_FLOAT_COLUMNS.includes(column) ? binaryInput(column) : column,
  ),
};

/**
 * The columns of `body`'s rows in `table`, undefined for a table written as JSONEachRow.
 * An llm_calls CSV line ends with its output sketch: `…]"` as text, base64 (never `]`) as bytes.
 */
export function lineColumns(
  table: TableName,
  body: Buffer,
  format: Exclude<RowFormat['format'], 'JSONEachRow'>,
): readonly string[] | undefined {
  if (format === 'RowBinary') return BINARY_COLUMNS[table];
  if (table !== 'llm_calls') return CSV_COLUMNS[table];
  if (format === 'TabSeparated') return TEXT_VECTOR_CALL_COLUMNS;
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return end >= 2 && body[end - 2] === 0x5d ? TEXT_VECTOR_CALL_COLUMNS : CSV_COLUMNS.llm_calls;
}

/**
 * How the row at `start` of `body` is written, from its first byte: a RowBinary row starts with
 * its head's 0 (rowbinary.ts), a JSON row with `{`, a CSV row (spool segments of earlier versions)
 * with its double-quoted project id, a TabSeparated one with the bare project id
 * (config-validated letters, digits and `_.-`).
 */
export function lineFormat(body: Buffer, start = 0): RowFormat['format'] {
  const first = body[start];
  if (isBinaryRow(body, start)) return 'RowBinary';
  return first === 0x7b ? 'JSONEachRow' : first === 0x22 ? 'CSV' : 'TabSeparated';
}
