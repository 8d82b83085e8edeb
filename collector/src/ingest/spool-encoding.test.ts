import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../../packages/core/test/decoded-span.js';
import { emptyRows, traceRow, type Row, type TableRows } from './rows.js';
import { decodeSegment, encodeRecord, recordBlocks } from './spool.js';

/** What the spool wrote before rows went straight into the buffer: lines joined in one string, encoded. */
function joinedBytes(rows: readonly Row[]): Buffer {
  const lines = rows as readonly string[];
  return lines.length ? Buffer.from(`${lines.join('\n')}\n`, 'utf8') : Buffer.alloc(0);
}

const content = [
  'plain ASCII prompt',
  'accents: café, naïve, Øresund',
  'CJK: 请总结这份报告 — 日本語のテキスト',
  'emoji: 👩‍💻🚀 and a flag 🇫🇷',
  // Lone surrogates are not valid UTF-16: both encodings must replace them the same way.
  'lone surrogates: \ud800 and \udfff end',
  'escapes: \\n \\t \\" quotes "inside"',
  '',
];

function rowsWith(lines: string[]): TableRows {
  return {
    ...emptyRows(),
    otel_traces: lines,
    llm_calls: lines.map((text, i) => JSON.stringify({ SpanId: String(i), InputContent: text })),
  };
}

describe('spool record encoding', () => {
  it('writes the same bytes as the joined-string encoding, non-ASCII and lone surrogates included', () => {
    const rows = rowsWith(content.map((text, i) => JSON.stringify({ TraceId: String(i), Content: text })));
    const blocks = recordBlocks(rows);
    expect(blocks.otel_traces.rows).toBe(content.length);
    expect(blocks.otel_traces.buf.equals(joinedBytes(rows.otel_traces))).toBe(true);
    expect(blocks.llm_calls.buf.equals(joinedBytes(rows.llm_calls))).toBe(true);
    expect(blocks.pii_findings).toEqual({ rows: 0, buf: Buffer.alloc(0) });
  });

  it('writes the same bytes for a single short line and for multi-megabyte blocks', () => {
    const short = rowsWith(['{"a":1}']);
    expect(recordBlocks(short).otel_traces.buf.equals(joinedBytes(short.otel_traces))).toBe(true);

    const big = rowsWith(
      Array.from({ length: 2_000 }, (_, i) =>
        JSON.stringify({ i, Content: `${content[i % content.length]} `.repeat(40) }),
      ),
    );
    const buf = recordBlocks(big).otel_traces.buf;
    expect(buf.equals(joinedBytes(big.otel_traces))).toBe(true);
    // A block owns its memory, so a worker thread can transfer it instead of copying it.
    expect(buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength).toBe(true);
  });

  it('writes RowBinary rows as they are, without a newline', () => {
    const binary = content.map((text, i) =>
      traceRow('p', decodedSpan({ name: text, spanId: String(i).padStart(16, '0') })),
    );
    const blocks = recordBlocks({ ...emptyRows(), otel_traces: binary });
    expect(blocks.otel_traces.rows).toBe(content.length);
    expect(blocks.otel_traces.buf.equals(Buffer.concat(binary))).toBe(true);
  });

  it('replays the rows it wrote', () => {
    const rows = rowsWith(content);
    const data = decodeSegment(Buffer.concat([encodeRecord(rows), encodeRecord(rows)]));
    expect(data.records).toBe(2);
    expect(data.tables.otel_traces.rows).toBe(2 * content.length);
    expect(data.tables.otel_traces.body.toString('utf8').split('\n').slice(0, -1)).toEqual(
      // Decoded UTF-8: lone surrogates come back as U+FFFD.
      [...content, ...content].map((line) => Buffer.from(line, 'utf8').toString('utf8')),
    );
  });
});
