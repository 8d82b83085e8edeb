import { crc32 } from 'node:zlib';
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import { IDS_CHECKSUM, IDS_CHECKSUM_COLUMN } from '../storage/migrations/index.js';
import { binaryRowEnd, ROW_HEAD_BYTES } from './rowbinary.js';
import { lineFormat, type TableName } from './rows.js';

/**
 * Span-level deduplication before an insert: a sender that retries after a lost 200 posts the
 * same spans again in another request, so they land in another spool segment with another
 * insert_deduplication_token, which ClickHouse cannot recognise. Each row names its span
 * (project, start time, trace, span id) first; rows whose span is already stored in the target
 * table, and repeats inside the batch, are dropped here, so llm_calls, otel_traces and the
 * rollups fed by their materialized views count each span once.
 *
 * The writer inserts one segment at a time, so the check and the insert that follows are not
 * raced by this collector. Collectors that share one database and receive the same span at the
 * same moment can still both store it (docs/operations.md).
 */

/**
 * The leading fields every row serializer (ingest/rows.ts) writes, in this order, as a JSON
 * object, as RowBinary (binaryLine) or (older spools) as CSV or TabSeparated fields. Project ids
 * are config-validated (letters, digits, `_.-`): no form escapes them. In text, timestamps are
 * `seconds.nanoseconds` (rows.ts nanosToDateTime64).
 */
const JSON_ROW_KEY =
  /^\{"ProjectId":"([A-Za-z0-9_.-]*)","Timestamp":"(\d+)\.(\d{9})","TraceId":"([0-9a-f]*)","SpanId":"([0-9a-f]*)"/;
const TSV_ROW_KEY = /^([A-Za-z0-9_.-]*)\t(\d+)\.(\d{9})\t([0-9a-f]*)\t([0-9a-f]*)\t/;
const CSV_ROW_KEY = /^"([A-Za-z0-9_.-]*)",(\d+)\.(\d{9}),"([0-9a-f]*)","([0-9a-f]*)",/;
const ROW_KEY = { JSONEachRow: JSON_ROW_KEY, CSV: CSV_ROW_KEY, TabSeparated: TSV_ROW_KEY } as const;

interface Line {
  start: number;
  end: number;
  key: string | undefined;
  project: string;
  /** CRC-32 of trace id + span id, as ClickHouse's CRC32 computes it (see storedAmong). */
  idsCrc: number;
  seconds: number;
  /** The start time in epoch nanoseconds, as decimal digits. */
  nanos: string;
}

export interface DedupResult {
  body: Buffer;
  rows: number;
  /** Rows dropped as repeats of a stored span or of an earlier row in the batch. */
  dropped: number;
  /** What this call's lookup learned, for the segment's next tables (see dropStoredSpans). */
  lookup?: SpanLookup;
}

/** What a lookup learned about a segment's spans. */
export interface SpanLookup {
  /** The segment's spans that each looked-up table already stores (keys as spanKey writes them). */
  stored: ReadonlyMap<TableName, ReadonlySet<string>>;
  /** Whether the looked-up rows hold a span twice. */
  repeats: boolean;
}

/**
 * The tables one lookup answers for. A segment's llm_calls rows are of spans its otel_traces rows
 * hold (ingest/pipeline.ts writes a trace row for every span it writes a call row for), so the
 * lookup for its otel_traces rows answers for its llm_calls rows too, and when neither a stored call
 * nor a repeat turned up, the llm_calls body goes in untouched: splitting and keying its ~2.5 KB
 * rows cost as much as the lookup itself. pii_findings rows also come from log records: they are
 * looked up on their own.
 */
const LOOKED_UP_TOGETHER: Partial<Record<TableName, readonly TableName[]>> = {
  otel_traces: ['otel_traces', 'llm_calls'],
};

/**
 * `body` (newline-terminated rows, see rows.ts) without the rows of spans `table` already holds and
 * without repeats. pii_findings has several rows per span: there a repeat is an identical row.
 * `earlier` is the lookup made for the same segment's otel_traces rows, which answers for its
 * llm_calls rows (LOOKED_UP_TOGETHER) without another query.
 */
export async function dropStoredSpans(
  client: ClickHouseClient,
  table: TableName,
  body: Buffer,
  rows: number,
  earlier?: SpanLookup,
): Promise<DedupResult> {
  const known = earlier?.stored.get(table);
  if (known && known.size === 0 && !earlier!.repeats) return { body, rows, dropped: 0 };
  const lines = splitLines(body);
  const keyed = lines.filter((l): l is Line & { key: string } => l.key !== undefined);
  if (keyed.length === 0) return { body, rows, dropped: 0 };

  const found = known ? undefined : await storedSpans(client, LOOKED_UP_TOGETHER[table] ?? [table], keyed);
  const stored = known ?? found?.get(table) ?? new Set<string>();
  const seen = new Set<string>();
  let repeats = false;
  // The lines kept, gathered only from the first dropped one on: usually none is dropped.
  let kept: Buffer[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.key !== undefined) {
      const repeat =
        table === 'pii_findings' ? `${line.key}\n${body.toString('latin1', line.start, line.end)}` : line.key;
      const again = seen.has(repeat);
      repeats ||= again;
      if (again || stored.has(line.key)) {
        kept ??= lines.slice(0, i).map((l) => body.subarray(l.start, l.end));
        continue;
      }
      seen.add(repeat);
    }
    kept?.push(body.subarray(line.start, line.end));
  }
  const lookup = found && { stored: found, repeats };
  if (!kept) return { body, rows, dropped: 0, lookup };
  const dropped = lines.length - kept.length;
  return { body: Buffer.concat(kept), rows: rows - dropped, dropped, lookup };
}

function splitLines(body: Buffer): Line[] {
  const lines: Line[] = [];
  for (let start = 0; start < body.length;) {
    const format = lineFormat(body, start);
    if (format === 'RowBinary') {
      const end = Math.min(binaryRowEnd(body, start), body.length);
      lines.push(binaryLine(body, start, end));
      start = end;
      continue;
    }
    const newline = body.indexOf(10, start);
    const end = newline < 0 ? body.length : newline + 1;
    lines.push(csvLine(body, start, end) ?? matchedLine(body, start, end, format));
    start = end;
  }
  return lines;
}

/**
 * The key of a RowBinary row: after its head, the project id, the start time (DateTime64(9): epoch
 * nanoseconds as Int64) and the trace and span ids (rows.ts writes every binary table's rows so).
 */
function binaryLine(body: Buffer, start: number, end: number): Line {
  let at = start + ROW_HEAD_BYTES;
  const field = (): string => {
    // Keys are short: their lengths fit one varint byte.
    const length = body[at]!;
    const from = at + 1;
    at = from + length;
    return length < 0x80 && at <= end ? body.toString('latin1', from, at) : '';
  };
  const project = field();
  if (at + 8 > end) return unkeyedLine(start, end);
  const nanos = body.readBigInt64LE(at).toString();
  at += 8;
  const traceId = field();
  const spanId = field();
  const seconds = nanos.length > 9 ? Number(nanos.slice(0, -9)) : 0;
  return keyedLine(start, end, project, seconds, nanos, traceId, spanId);
}

/** A text line's key by ROW_KEY: any text form the spool has held. */
function matchedLine(body: Buffer, start: number, end: number, format: keyof typeof ROW_KEY): Line {
  // The key fits in ~190 bytes of the longest form (JSON, a 64-character project id).
  const head = body.toString('latin1', start, Math.min(end, start + 256));
  const match = ROW_KEY[format].exec(head);
  if (!match) return unkeyedLine(start, end);
  const nanos = `${match[2]}${match[3]}`.replace(LEADING_ZEROS, '');
  return keyedLine(start, end, match[1]!, Number(match[2]), nanos, match[4]!, match[5]!);
}

/** A line without a span key: kept as it is, never dropped. */
function unkeyedLine(start: number, end: number): Line {
  return { start, end, key: undefined, project: '', idsCrc: 0, seconds: 0, nanos: '' };
}

function keyedLine(
  start: number,
  end: number,
  project: string,
  seconds: number,
  nanos: string,
  traceId: string,
  spanId: string,
): Line {
  const key = spanKey(project, traceId, spanId, nanos);
  return { start, end, key, project, idsCrc: crc32(`${traceId}${spanId}`), seconds, nanos };
}

const LEADING_ZEROS = /^0+(?=\d)/;
const QUOTE = 0x22;
const COMMA = 0x2c;
const DOT = 0x2e;

/**
 * The key of a CSV line (CSV_ROW_KEY) read from its bytes, or undefined when the line is not one
 * (matchedLine then decides, the same way). The writer reads the key of every otel_traces row on
 * the main thread; a 256-byte string and a regex match per line took two to three times as long.
 */
function csvLine(body: Buffer, start: number, end: number): Line | undefined {
  if (body[start] !== QUOTE) return undefined;
  const projectEnd = run(body, start + 1, end, PROJECT_BYTE);
  if (body[projectEnd] !== QUOTE || body[projectEnd + 1] !== COMMA) return undefined;
  const secondsStart = projectEnd + 2;
  const secondsEnd = run(body, secondsStart, end, DIGIT_BYTE);
  const fractionEnd = run(body, secondsEnd + 1, end, DIGIT_BYTE);
  if (secondsEnd === secondsStart || body[secondsEnd] !== DOT || fractionEnd !== secondsEnd + 10)
    return undefined;
  const traceStart = fractionEnd + 2;
  if (body[fractionEnd] !== COMMA || body[fractionEnd + 1] !== QUOTE) return undefined;
  const traceEnd = run(body, traceStart, end, HEX_BYTE);
  const spanStart = traceEnd + 3;
  if (body[traceEnd] !== QUOTE || body[traceEnd + 1] !== COMMA || body[traceEnd + 2] !== QUOTE)
    return undefined;
  const spanEnd = run(body, spanStart, end, HEX_BYTE);
  if (body[spanEnd] !== QUOTE || body[spanEnd + 1] !== COMMA) return undefined;
  const nanos =
    body.toString('latin1', secondsStart, secondsEnd) + body.toString('latin1', secondsEnd + 1, fractionEnd);
  return keyedLine(
    start,
    end,
    body.toString('latin1', start + 1, projectEnd),
    Number(body.toString('latin1', secondsStart, secondsEnd)),
    // Epoch nanoseconds without leading zeros, as spanKey and the lookup's answers write them.
    nanos.charCodeAt(0) === 0x30 ? nanos.replace(LEADING_ZEROS, '') : nanos,
    body.toString('latin1', traceStart, traceEnd),
    body.toString('latin1', spanStart, spanEnd),
  );
}

/** Where the run of bytes `at` accepts, from `from` (not past `end`), ends. */
function run(body: Buffer, from: number, end: number, at: Uint8Array): number {
  let i = from;
  while (i < end && at[body[i]!] === 1) i++;
  return i;
}

function byteClass(accepts: (c: string) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 128; c++) table[c] = accepts(String.fromCharCode(c)) ? 1 : 0;
  return table;
}
const PROJECT_BYTE = byteClass((c) => /[A-Za-z0-9_.-]/.test(c));
const DIGIT_BYTE = byteClass((c) => /[0-9]/.test(c));
const HEX_BYTE = byteClass((c) => /[0-9a-f]/.test(c));

/** A span as the lookup compares it: project, trace, span and start time (epoch ns, no leading zeros). */
function spanKey(project: string, traceId: string, spanId: string, nanos: string): string {
  return `${project}\n${traceId}\n${spanId}\n${nanos}`;
}

/**
 * Spans per lookup query. Their start times and id checksums are inlined (a bound parameter rides
 * in the URL over HTTP, and thousands overflow it) as base64 of their little-endian bytes: 16
 * characters a span, so 15,000 of them stay under ClickHouse's 256 KiB `max_query_size` and a
 * segment takes one query, not two. Written as lists of numbers, they made a query on an empty
 * table take 15 ms per 7,000 spans, not 9 (a throwaway measurement).
 */
export const SPANS_PER_QUERY = 15_000;

/**
 * Keys among `lines` that each of `tables` already stores. stored_spans (migration 8) is sorted by
 * start time: asking for the exact start times of the batch reads only the granules holding them,
 * so a lookup costs the same after a day of ingest as on the first batch. A checksum of the ids
 * filters what those granules hold: from a sender whose clock ticks in milliseconds, thousands of
 * stored spans share the batch's start times (and some senders number span ids per trace), and
 * returning them all made the lookup most of the collector's main-thread work and garbage.
 */
async function storedSpans(
  client: ClickHouseClient,
  tables: readonly TableName[],
  lines: readonly Line[],
): Promise<Map<TableName, Set<string>>> {
  const found = new Map(tables.map((t) => [t, new Set<string>()]));
  for (let i = 0; i < lines.length; i += SPANS_PER_QUERY)
    for (const r of await storedAmong(client, tables, lines.slice(i, i + SPANS_PER_QUERY)))
      found.get(r.Source)?.add(spanKey(r.ProjectId, r.TraceId, r.SpanId, r.Nanos));
  return found;
}

/** An Array(`type`) from its values' little-endian bytes, as a query's text. */
function inlined(bytes: Buffer, type: 'Int64' | 'UInt32'): string {
  return `reinterpret(base64Decode('${bytes.toString('base64')}'), 'Array(${type})')`;
}

type StoredKey = { Source: TableName; ProjectId: string; TraceId: string; SpanId: string; Nanos: string };

async function storedAmong(
  client: ClickHouseClient,
  tables: readonly TableName[],
  lines: readonly Line[],
): Promise<StoredKey[]> {
  // Start times and checksums go as they come: a repeat in the list changes no answer, and
  // de-duplicating them cost more than it saved.
  const projects = new Set<string>();
  const instants = Buffer.allocUnsafe(lines.length * 8);
  const checksums = Buffer.allocUnsafe(lines.length * 4);
  let from = Infinity;
  let to = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    projects.add(line.project);
    instants.writeBigInt64LE(BigInt(line.nanos), i * 8);
    checksums.writeUInt32LE(line.idsCrc, i * 4);
    if (line.seconds < from) from = line.seconds;
    if (line.seconds > to) to = line.seconds;
  }
  const startTimes = inlined(instants, 'Int64');
  const idsChecksums = inlined(checksums, 'UInt32');
  // stored_spans keeps the checksum (migration 13); the tables themselves compute it.
  const where = (checksum: string) => `ProjectId IN {projects:Array(String)}
       AND Timestamp >= toDateTime64({from:Int64}, 9) AND Timestamp < toDateTime64({to:Int64}, 9)
       AND Timestamp IN (SELECT fromUnixTimestamp64Nano(arrayJoin(${startTimes})))
       AND ${checksum} IN (SELECT arrayJoin(${idsChecksums}))`;
  const params = { projects: [...projects], from, to: to + 1, sources: tables };
  const columns = 'ProjectId, TraceId, SpanId, toString(toUnixTimestamp64Nano(Timestamp)) AS Nanos';
  try {
    return await queryRows<StoredKey>(
      client,
      `SELECT DISTINCT Source, ${columns} FROM stored_spans WHERE Source IN {sources:Array(String)} AND ${where(IDS_CHECKSUM_COLUMN)}`,
      params,
    );
  } catch (error) {
    // Storage whose schema predates stored_spans: the tables themselves answer, slower.
    if ((error as { code?: unknown }).code !== '60') throw error;
    const out: StoredKey[] = [];
    for (const table of tables)
      out.push(
        ...(await queryRows<StoredKey>(
          client,
          `SELECT DISTINCT '${table}' AS Source, ${columns} FROM ${table} WHERE ${where(IDS_CHECKSUM)}`,
          params,
        )),
      );
    return out;
  }
}
