import type { LlmCall } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_COLUMNS, type ApiCall } from '../api/calls.js';
import { embeddedClickHouse, LONG_RETENTION, type EmbeddedClickHouse } from '../../test/embedded.js';
import { queryRows } from '../storage/clickhouse.js';
import type { ClickHouseClient } from '@clickhouse/client';
import { CALL_ROWS, callRow, emptyRows } from './rows.js';
import { recordBlocks } from './spool.js';
import { insertTableRows } from './writer.js';

/**
 * The LLM-call record is described in four places that must agree: the `LlmCall` type
 * (packages/core/src/llm-call.ts), the row serializer (ingest/rows.ts `callRow`), the `llm_calls`
 * DDL after every migration (read back with DESCRIBE on embedded ClickHouse, so a later
 * migration's ALTER ... ADD COLUMN counts), and the API (api/calls.ts `CALL_COLUMNS` and
 * `ApiCall`). Each failure names the view that lacks the column.
 *
 * Adding a field: TypeScript first makes SAMPLE_CALL (every LlmCall field, once) and API_SOURCE
 * (every ApiCall field → its column) list it; then this test says which other view lacks it.
 */

/** Every LlmCall field with a value that is not its type's default (so a dropped field shows). */
const SAMPLE_CALL: { [K in keyof Required<LlmCall>]: LlmCall[K] } = {
  projectId: 'p',
  startTimeUnixNano: '1764547200123456789',
  traceId: 't'.repeat(32),
  spanId: 's'.repeat(16),
  parentSpanId: 'q'.repeat(16),
  serviceName: 'svc',
  dialect: 'genai',
  provider: 'openai',
  operation: 'chat',
  requestModel: 'gpt-4o',
  responseModel: 'gpt-4o-2024-08-06',
  model: 'gpt-4o-2024-08-06',
  responseId: 'r',
  inputTokens: 1,
  outputTokens: 2,
  usageReported: false,
  cacheReadTokens: 3,
  cacheWriteTokens: 4,
  reasoningTokens: 5,
  costUsd: 0.5,
  priceVersion: 'v',
  latencyMs: 6,
  ttftMs: 7,
  streaming: true,
  finishReasons: ['stop'],
  status: 'error',
  errorType: 'E',
  promptName: 'pn',
  promptVersion: 'pv',
  userId: 'u',
  sessionId: 'se',
  conversationId: 'c',
  tags: { a: 'b' },
  inputContent: 'in',
  outputContent: 'out',
  systemContent: 'sys',
  toolNames: ['tool'],
  inputEmbedding: [0.5],
  outputEmbedding: [0.25],
};

/** LlmCall field → llm_calls column: PascalCase of the field, except the event time. */
function columnOfField(field: string): string {
  if (field === 'startTimeUnixNano') return 'Timestamp';
  return field[0]!.toUpperCase() + field.slice(1);
}

/** Columns derived at ingest, written by callRow besides the LlmCall fields (enrich/). */
const DERIVED_COLUMNS: Record<string, string> = {
  PiiTypes: 'PII policy (enrich/pii.ts)',
  PiiCount: 'PII policy (enrich/pii.ts)',
  InputChars: 'features (enrich/features.ts)',
  OutputChars: 'features (enrich/features.ts)',
  Language: 'features (enrich/features.ts)',
  InputSketch: 'features (enrich/features.ts)',
  OutputSketch: 'features (enrich/features.ts)',
};

/** Each ApiCall field and the llm_calls column it is read from. */
const API_SOURCE: { [K in keyof Required<ApiCall>]: string } = {
  traceId: 'TraceId',
  spanId: 'SpanId',
  parentSpanId: 'ParentSpanId',
  time: 'Timestamp',
  timeUnixNano: 'Timestamp',
  service: 'ServiceName',
  provider: 'Provider',
  model: 'Model',
  requestModel: 'RequestModel',
  responseModel: 'ResponseModel',
  operation: 'Operation',
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  usageReported: 'UsageReported',
  cacheReadTokens: 'CacheReadTokens',
  cacheWriteTokens: 'CacheWriteTokens',
  reasoningTokens: 'ReasoningTokens',
  costUsd: 'CostUsd',
  priceVersion: 'PriceVersion',
  latencyMs: 'LatencyMs',
  ttftMs: 'TtftMs',
  streaming: 'Streaming',
  finishReasons: 'FinishReasons',
  status: 'Status',
  errorType: 'ErrorType',
  promptName: 'PromptName',
  promptVersion: 'PromptVersion',
  userId: 'UserId',
  sessionId: 'SessionId',
  conversationId: 'ConversationId',
  tags: 'Tags',
  piiTypes: 'PiiTypes',
  dialect: 'Dialect',
  inputContent: 'InputContent',
  outputContent: 'OutputContent',
  systemContent: 'SystemContent',
};

/** ApiCall fields selected only on request (`?content=true`), outside CALL_COLUMNS. */
const API_ON_REQUEST = new Set<keyof ApiCall>(['inputContent', 'outputContent', 'systemContent']);

/** LlmCall fields the calls API deliberately does not return, and why. */
const NOT_IN_API: Partial<Record<keyof LlmCall, string>> = {
  projectId: 'the API key decides the project',
  responseId: 'provider bookkeeping, not a monitoring dimension',
  toolNames: 'shown with the call detail, not the list',
  inputEmbedding: 'vectors feed drift detection only',
  outputEmbedding: 'vectors feed drift detection only',
};

/** `expr AS alias` items of a select list, split on top-level commas. */
function selectItems(list: string): Array<{ expr: string; alias: string }> {
  const items: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of list) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const m = /^([\s\S]+?)\s+AS\s+(\w+)$/i.exec(item);
      if (!m) throw new Error(`api/calls.ts CALL_COLUMNS: item without an alias: ${item}`);
      return { expr: m[1]!, alias: m[2]! };
    });
}

describe('the LLM-call record: core type, row serializer, llm_calls DDL and API agree', () => {
  let db: EmbeddedClickHouse;
  let client: ClickHouseClient;
  let ddl: Array<{ name: string; default_type: string }>;

  beforeAll(async () => {
    // SAMPLE_CALL is from 2025-12-01.
    db = await embeddedClickHouse('call-record', LONG_RETENTION);
    client = db.client;
    ddl = await queryRows(client, 'DESCRIBE TABLE llm_calls');
  }, 60_000);
  afterAll(() => db?.close());

  it('every view has every column the others name', async () => {
    // The columns a row fills (the next test inserts one and reads it back).
    const written = CALL_ROWS.columns;
    const tableColumns = new Map(ddl.map((c) => [c.name, c.default_type]));
    const insertable = [...tableColumns].filter(([, kind]) => kind === '' || kind === 'DEFAULT');
    const fieldColumns = Object.keys(SAMPLE_CALL).map((f) => [f, columnOfField(f)] as const);
    const selected = selectItems(CALL_COLUMNS);
    const problems: string[] = [];

    // core type → serializer → DDL
    for (const [field, column] of fieldColumns) {
      if (!written.includes(column))
        problems.push(`ingest/rows.ts callRow does not write LlmCall.${field} (column ${column})`);
      if (!tableColumns.has(column))
        problems.push(`llm_calls DDL has no column ${column} for LlmCall.${field}`);
    }
    // serializer → DDL and type
    const fieldColumnSet = new Set(fieldColumns.map(([, c]) => c));
    for (const column of written) {
      if (!tableColumns.has(column))
        problems.push(`llm_calls DDL has no column ${column}, which ingest/rows.ts callRow writes`);
      if (!fieldColumnSet.has(column) && !(column in DERIVED_COLUMNS))
        problems.push(
          `packages/core LlmCall has no field for column ${column} written by callRow (or list it in DERIVED_COLUMNS)`,
        );
    }
    // DDL → serializer: a plain column nobody writes is silently stored as its type's default.
    for (const [column, kind] of insertable)
      if (kind === '' && !written.includes(column))
        problems.push(
          `ingest/rows.ts callRow does not write llm_calls column ${column} (no DEFAULT: it would be stored empty)`,
        );
    // API select list ↔ ApiCall type ↔ DDL
    const aliases = new Set(selected.map((s) => s.alias));
    for (const [field, column] of Object.entries(API_SOURCE) as Array<[keyof ApiCall, string]>) {
      if (!tableColumns.has(column))
        problems.push(`llm_calls DDL has no column ${column}, which ApiCall.${field} is read from`);
      if (API_ON_REQUEST.has(field)) continue;
      const item = selected.find((s) => s.alias === field);
      if (!item) problems.push(`api/calls.ts CALL_COLUMNS does not select ApiCall.${field} (from ${column})`);
      else if (!new RegExp(`\\b${column}\\b`).test(item.expr))
        problems.push(`api/calls.ts CALL_COLUMNS computes ${field} from "${item.expr}", not from ${column}`);
    }
    for (const alias of aliases)
      if (!(alias in API_SOURCE))
        problems.push(`api/calls.ts ApiCall has no field ${alias}, which CALL_COLUMNS selects`);
    // core type → API: every field is returned or deliberately left out.
    const apiColumns = new Set(Object.values(API_SOURCE));
    for (const [field, column] of fieldColumns)
      if (!apiColumns.has(column) && !(field in NOT_IN_API))
        problems.push(
          `api/calls.ts (ApiCall, CALL_COLUMNS) does not return LlmCall.${field} (column ${column}); add it or list it in NOT_IN_API`,
        );

    expect(problems).toEqual([]);
  });

  it('the serializer keeps every sample value (a dropped field would be stored as a default)', async () => {
    const line = callRow(
      SAMPLE_CALL,
      { inputChars: 1, outputChars: 2, language: 'en', inputSketch: [], outputSketch: [] },
      { types: [], count: 0 },
    );
    const rows = emptyRows();
    rows.llm_calls.push(line);
    await insertTableRows(client, 'llm_calls', recordBlocks(rows).llm_calls.buf);
    const [row] = await queryRows<Record<string, unknown>>(client, 'SELECT * FROM llm_calls');
    for (const [field, value] of Object.entries(SAMPLE_CALL)) {
      const column = columnOfField(field);
      if (field === 'startTimeUnixNano') expect(row![column]).toBe('2025-12-01 00:00:00.123456789');
      else expect(row![column], `LlmCall.${field} → ${column}`).toEqual(value);
    }
  });
});
