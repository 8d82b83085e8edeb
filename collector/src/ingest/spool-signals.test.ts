import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TABLES, emptyRows } from './rows.js';
import { decodeSegment, encodeRecord } from './spool.js';

/** A record in the layout of a spool written before logs and metrics existed: three tables. */
function threeTableRecord(tables: [rows: number, lines: string][]): Buffer {
  const parts = tables.map(([rows, lines]) => {
    const body = Buffer.from(lines, 'utf8');
    const head = Buffer.alloc(8);
    head.writeUInt32LE(rows, 0);
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  });
  const payload = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

describe('spool records across signals', () => {
  it('replays a segment written before the logs and metrics tables existed (regression guard for upgrades)', () => {
    const old = threeTableRecord([
      [1, '{"span":1}\n'],
      [1, '{"call":1}\n'],
      [0, ''],
    ]);
    const data = decodeSegment(old);
    expect(data.records).toBe(1);
    expect(data.tornBytes).toBe(0);
    expect(data.spans).toBe(1);
    expect(data.tables.otel_traces.rows).toBe(1);
    expect(data.tables.llm_calls.body.toString()).toBe('{"call":1}\n');
    for (const table of TABLES.slice(3)) expect(data.tables[table].rows).toBe(0);
  });

  it('counts log records and data points as items, like spans', () => {
    const rows = emptyRows();
    rows.otel_logs.push('{"log":1}', '{"log":2}');
    rows.otel_metrics_sum.push('{"point":1}');
    rows.genai_events.push('{"event":1}');
    const data = decodeSegment(
      Buffer.concat([
        encodeRecord(rows),
        threeTableRecord([
          [1, '{"span":1}\n'],
          [0, ''],
          [0, ''],
        ]),
      ]),
    );
    expect(data.records).toBe(2);
    // genai_events rows are derived from log records: not counted twice.
    expect(data.spans).toBe(4);
    expect(data.tables.otel_logs.rows).toBe(2);
    expect(data.tables.genai_events.rows).toBe(1);
  });
});
