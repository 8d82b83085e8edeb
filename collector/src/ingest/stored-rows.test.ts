import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { CALL_CONTENT_ATTRIBUTES, seededRandom, type Attributes, type DecodedSpan } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { embeddedClickHouse, LONG_RETENTION, type EmbeddedClickHouse } from '../../test/embedded.js';
import { queryRows } from '../storage/clickhouse.js';
import { defaultStages, runPipeline } from './pipeline.js';
import { BINARY_FLOAT_COLUMNS, binaryInput } from '../storage/migrations/index.js';
import { CSV_COLUMNS, TABLES, TEXT_VECTOR_CALL_COLUMNS, type TableName } from './rows.js';
import { recordBlocks } from './spool.js';
import { insertTableRows, rowFormat } from './writer.js';

/**
 * The stored values do not depend on how rows travel to ClickHouse: the same spans, through the
 * pipeline and the writer's insert, must read back exactly as `fixtures/stored-rows.json` (written
 * with JSONEachRow inserts, before the hot tables moved to text rows). The spans carry what
 * breaks text formats: tabs, newlines, carriage returns, backslashes, both quotes, NUL, `\N`,
 * brackets and braces, non-BMP characters, empty values, PII the policy redacts.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'stored-rows.json');

const NASTY = [
  'tab\there',
  'line\nbreak',
  'carriage\r\nreturn',
  'back\\slash\\',
  "single 'quote'",
  'double "quote"',
  'nul\u0000char',
  '\\N',
  "['not', 'an', 'array']",
  "{'not':'a map'}",
  'émoji 🚀 中文 ünïcødé',
  '',
  'mail me at jane.doe@example.com',
  '\\t literally',
];

function spans(): DecodedSpan[] {
  const rand = seededRandom(21);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: DecodedSpan[] = [];
  for (let i = 0; i < 48; i++) {
    const text = `${pick(NASTY)} ${i} ${pick(NASTY)}`;
    const llm = i % 4 !== 3;
    const attributes: Attributes = llm
      ? {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': pick(['openai', 'anthropic']),
          'gen_ai.request.model': pick(['gpt-4o', 'claude-sonnet-4-5', "we\\ird\tmodel'"]),
          'gen_ai.usage.input_tokens': Math.floor(rand() * 2000),
          ...(i % 5 ? { 'gen_ai.usage.output_tokens': Math.floor(rand() * 500) } : {}),
          'gen_ai.response.finish_reasons': [pick(['stop', 'length', "to'ol\tcalls"])],
          'gen_ai.prompt.name': pick(['answer', "quo'ted\\prompt", '']),
          'gen_ai.prompt.version': String(i % 3),
          'user.id': pick(NASTY),
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: text }] },
          ]),
          'gen_ai.output.messages': JSON.stringify([
            { role: 'assistant', parts: [{ type: 'text', content: pick(NASTY) }], finish_reason: 'stop' },
          ]),
          'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: pick(NASTY) }]),
          'llmwatch.tags': JSON.stringify({ team: pick(NASTY), 'k\tey': 'v' }),
          ratio: rand(),
          flag: i % 2 === 0,
          list: [1, 2.5, -3],
        }
      : { 'http.route': pick(NASTY), 'db.statement': text, count: i };
    const start = 1_764_547_200_000_000_000n + BigInt(i) * 1_234_567_891n;
    out.push({
      traceId: (i % 7).toString(16).padStart(32, '0'),
      spanId: i.toString(16).padStart(16, '0'),
      parentSpanId: i % 7 ? (i - 1).toString(16).padStart(16, '0') : '',
      traceState: i % 9 ? '' : 'vendor=a,other=b',
      name: llm ? `chat ${String(attributes['gen_ai.request.model'])}` : pick(NASTY),
      kind: llm ? 'Client' : 'Internal',
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(Math.floor(rand() * 3e9))).toString(),
      attributes,
      resource: { 'service.name': pick(['svc', "se'rv\tice"]), 'host.name': pick(NASTY) },
      scopeName: pick(['@llmwatch/sdk', '']),
      scopeVersion: '1.0.0',
      statusCode: pick(['Unset', 'Ok', 'Error']),
      statusMessage: pick(NASTY),
      events:
        i % 3
          ? []
          : [
              {
                timeUnixNano: (start + 5n).toString(),
                name: pick(['gen_ai.content.prompt', "ev'ent\n"]),
                attributes: { 'gen_ai.prompt': pick(NASTY), n: i },
              },
            ],
      links:
        i % 5
          ? []
          : [
              {
                traceId: 'f'.repeat(32),
                spanId: 'e'.repeat(16),
                traceState: '',
                attributes: { why: pick(NASTY) },
              },
            ],
    });
  }
  return out;
}

/** Every table's rows in a stable order, as ClickHouse returns them (without the insert time). */
async function storedRows(client: ClickHouseClient): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['otel_traces', 'llm_calls', 'pii_findings'] as const) {
    const columns = await queryRows<{ name: string }>(
      client,
      `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}
         AND default_kind IN ('', 'DEFAULT') AND default_expression NOT LIKE '%now%' ORDER BY position`,
      { table },
    );
    const list = columns.map((c) => `\`${c.name}\``).join(', ');
    out[table] = await queryRows(client, `SELECT ${list} FROM ${table} ORDER BY SpanId, cityHash64(${list})`);
  }
  return out;
}

type StoredRows = Record<string, Array<Record<string, unknown>>>;

/**
 * The one change since the fixture was recorded: an LLM span's messages are stored once, in its
 * llm_calls row, so its otel_traces row no longer repeats the attributes the call holds (the
 * trace views put them back from the call). Every other value is unchanged.
 */
function contentStoredOnce(fixture: StoredRows): StoredRows {
  const out = structuredClone(fixture);
  const calls = new Map(out.llm_calls!.map((c) => [c.SpanId, c]));
  let moved = 0;
  for (const span of out.otel_traces!) {
    const call = calls.get(span.SpanId);
    if (!call) continue;
    const attributes = span.SpanAttributes as Record<string, string>;
    for (const [field, attribute] of CALL_CONTENT_ATTRIBUTES) {
      const column = `${field[0]!.toUpperCase()}${field.slice(1)}`;
      if (call[column] !== '' && attribute in attributes) {
        delete attributes[attribute];
        moved++;
      }
    }
  }
  expect(moved).toBeGreaterThan(60);
  return out;
}

describe('stored rows', () => {
  let db: EmbeddedClickHouse;
  let client: ClickHouseClient;

  beforeAll(async () => {
    // The fixture's spans are from 2025-12-01.
    db = await embeddedClickHouse('stored-rows', LONG_RETENTION);
    client = db.client;
  });

  afterAll(() => db?.close());

  it('are the same values whatever the insert format (regression for the TabSeparated and CSV insert paths)', async () => {
    const { rows } = runPipeline(spans(), 'p-1', defaultStages(parseConfig({}), 'fixture-key'));
    const blocks = recordBlocks(rows);
    expect(rowFormat('otel_traces', blocks.otel_traces.buf).format).toBe('RowBinary');
    expect(rowFormat('llm_calls', blocks.llm_calls.buf).format).toBe('RowBinary');
    for (const table of TABLES)
      if (blocks[table].rows) await insertTableRows(client, table, blocks[table].buf);
    const stored = await storedRows(client);
    expect(stored.llm_calls!.length).toBe(36);
    expect(stored.pii_findings!.length).toBeGreaterThan(0);
    expect(stored).toEqual(contentStoredOnce(JSON.parse(readFileSync(FIXTURE, 'utf8')) as StoredRows));
  });

  it('spool segments of the CSV versions (llm_calls vectors as base64 of their bytes) still insert the same values', async () => {
    const expected = await storedRows(client);
    for (const table of ['otel_traces', 'llm_calls'] as const) {
      // The vectors as those versions wrote them: base64 of their little-endian float32 bytes.
      const columns = CSV_COLUMNS[table]!.map((column) => {
        const vector = BINARY_FLOAT_COLUMNS.find((v) => binaryInput(v) === column);
        return vector ? `base64Encode(reinterpret(${vector}, 'String'))` : `\`${column}\``;
      });
      const csv = await (
        await client.query({ query: `SELECT ${columns.join(', ')} FROM ${table}`, format: 'CSV' })
      ).text();
      await client.command({ query: `TRUNCATE TABLE ${table}` });
      const body = Buffer.from(csv);
      expect(rowFormat(table, body)).toEqual({ format: 'CSV', columns: CSV_COLUMNS[table] });
      await insertTableRows(client, table, body);
    }
    expect(await storedRows(client)).toEqual(expected);
  });

  it('spool segments of the TabSeparated versions still insert the same values', async () => {
    const expected = await storedRows(client);
    for (const table of ['otel_traces', 'llm_calls'] as const) {
      const written = table === 'llm_calls' ? TEXT_VECTOR_CALL_COLUMNS : CSV_COLUMNS[table]!;
      const columns = written.map((c) => `\`${c}\``).join(', ');
      const tsv = await (
        await client.query({ query: `SELECT ${columns} FROM ${table}`, format: 'TabSeparated' })
      ).text();
      await client.command({ query: `TRUNCATE TABLE ${table}` });
      const body = Buffer.from(tsv);
      expect(rowFormat(table, body).format).toBe('TabSeparated');
      await insertTableRows(client, table, body);
    }
    expect(await storedRows(client)).toEqual(expected);
  });

  it('spool segments from before migration 12 (llm_calls vectors as text in CSV) still insert the same values', async () => {
    const expected = await storedRows(client);
    const columns = TEXT_VECTOR_CALL_COLUMNS.map((c) => `\`${c}\``).join(', ');
    const text = await (
      await client.query({ query: `SELECT ${columns} FROM llm_calls`, format: 'CSV' })
    ).text();
    await client.command({ query: 'TRUNCATE TABLE llm_calls' });
    const body = Buffer.from(text);
    expect(body.subarray(-3).toString()).toBe(']"\n');
    expect(rowFormat('llm_calls', body)).toEqual({ format: 'CSV', columns: TEXT_VECTOR_CALL_COLUMNS });
    await insertTableRows(client, 'llm_calls', body);
    expect(await storedRows(client)).toEqual(expected);
  });

  it('reads a vector written as bytes as the same float32 values as its text (migration 12)', async () => {
    const random = seededRandom(12);
    const rows: string[] = [];
    for (let r = 0; r < 2_000; r++) {
      const scale = 10 ** Math.floor(random() * 40 - 9);
      const vector = Array.from({ length: 1 + Math.floor(random() * 64) }, () => (random() - 0.5) * scale);
      // The text rows.ts wrote before: each value rounded to 7 decimals, non-finite as 0.
      const asText = vector.map((x) => String(Math.round(x * 1e7) / 1e7 || 0)).join(',');
      const asBytes = Buffer.from(Float32Array.from(vector, (x) => Math.round(x * 1e7) / 1e7 || 0).buffer);
      rows.push(`"[${asText}]","${asBytes.toString('base64')}"`);
    }
    const read = await queryRows<{ rows: string; differ: string }>(
      client,
      `SELECT toString(count()) AS rows,
              toString(countIf(arrayMap(x -> reinterpretAsUInt32(x), text)
                != arrayMap(x -> reinterpretAsUInt32(x), reinterpret(base64Decode(bytes), 'Array(Float32)')))) AS differ
       FROM format(CSV, 'text Array(Float32), bytes String', {rows:String})`,
      { rows: `${rows.join('\n')}\n` },
    );
    expect(read).toEqual([{ rows: '2000', differ: '0' }]);
  });

  it('spool segments from before text rows (JSONEachRow lines in every table) still insert the same values', async () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<
      string,
      Array<Record<string, unknown>>
    >;
    for (const [table, rows] of Object.entries(fixture)) {
      await client.command({ query: `TRUNCATE TABLE ${table}` });
      const body = Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
      expect(rowFormat(table as TableName, body).format).toBe('JSONEachRow');
      await insertTableRows(client, table as TableName, body);
    }
    expect(await storedRows(client)).toEqual(fixture);
  });
});
