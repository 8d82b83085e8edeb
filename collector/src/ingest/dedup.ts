import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import { isJsonRow, type TableName } from './rows.js';

/**
 * Span-level deduplication before an insert: a sender that retries after a lost 200 posts the
 * same spans again in another request, so they land in another spool segment with another
 * insert_deduplication_token, which ClickHouse cannot recognise. Each row names its span
 * (project, trace, span id) first; rows whose span is already stored in the target table, and
 * repeats inside the batch, are dropped here, so llm_calls, otel_traces and the rollups fed by
 * their materialized views count each span once.
 *
 * The writer inserts one segment at a time, so the check and the insert that follows are not
 * raced by this collector. Collectors that share one database and receive the same span at the
 * same moment can still both store it (docs/operations.md).
 */

/**
 * The leading fields every row serializer (ingest/rows.ts) writes, in this order, as a JSON
 * object or as TabSeparated fields. Project ids are config-validated (letters, digits, `_.-`):
 * neither form escapes them.
 */
const JSON_ROW_KEY =
  /^\{"ProjectId":"([A-Za-z0-9_.-]*)","Timestamp":"(-?\d+)\.\d+","TraceId":"([0-9a-f]*)","SpanId":"([0-9a-f]*)"/;
const TSV_ROW_KEY = /^([A-Za-z0-9_.-]*)\t(-?\d+)\.\d+\t([0-9a-f]*)\t([0-9a-f]*)\t/;

interface Line {
  start: number;
  end: number;
  key: string | undefined;
  project: string;
  seconds: number;
  traceId: string;
}

export interface DedupResult {
  body: Buffer;
  rows: number;
  /** Rows dropped as repeats of a stored span or of an earlier row in the batch. */
  dropped: number;
}

/**
 * `body` (newline-terminated rows, see rows.ts) without the rows of spans `table` already holds and
 * without repeats. pii_findings has several rows per span: there a repeat is an identical row.
 */
export async function dropStoredSpans(
  client: ClickHouseClient,
  table: TableName,
  body: Buffer,
  rows: number,
): Promise<DedupResult> {
  const lines = splitLines(body);
  const keyed = lines.filter((l): l is Line & { key: string } => l.key !== undefined);
  if (keyed.length === 0) return { body, rows, dropped: 0 };

  const stored = await storedSpans(client, table, keyed);
  const seen = new Set<string>();
  const kept: Buffer[] = [];
  let dropped = 0;
  for (const line of lines) {
    const bytes = body.subarray(line.start, line.end);
    if (line.key !== undefined) {
      const repeat = table === 'pii_findings' ? `${line.key}\n${bytes.toString('latin1')}` : line.key;
      if (stored.has(line.key) || seen.has(repeat)) {
        dropped++;
        continue;
      }
      seen.add(repeat);
    }
    kept.push(bytes);
  }
  if (dropped === 0) return { body, rows, dropped: 0 };
  return { body: Buffer.concat(kept), rows: rows - dropped, dropped };
}

function splitLines(body: Buffer): Line[] {
  const lines: Line[] = [];
  for (let start = 0; start < body.length;) {
    const newline = body.indexOf(10, start);
    const end = newline < 0 ? body.length : newline + 1;
    // The key sits in the first few hundred bytes; project ids are short (config-validated).
    const head = body.toString('latin1', start, Math.min(end, start + 512));
    const match = (isJsonRow(body, start) ? JSON_ROW_KEY : TSV_ROW_KEY).exec(head);
    lines.push(
      match
        ? {
            start,
            end,
            key: `${match[1]}\n${match[3]}\n${match[4]}`,
            project: match[1]!,
            seconds: Number(match[2]),
            traceId: match[3] ?? '',
          }
        : { start, end, key: undefined, project: '', seconds: 0, traceId: '' },
    );
    start = end;
  }
  return lines;
}

/** Keys (raw project, trace, span) among `lines` that `table` already stores. */
async function storedSpans(
  client: ClickHouseClient,
  table: TableName,
  lines: readonly Line[],
): Promise<Set<string>> {
  const projects = new Set<string>();
  const traces = new Set<string>();
  let from = Infinity;
  let to = -Infinity;
  for (const line of lines) {
    projects.add(line.project);
    traces.add(line.traceId);
    from = Math.min(from, line.seconds);
    to = Math.max(to, line.seconds);
  }
  // Trace ids are inlined as one string, not bound: thousands of them overflow the URL that
  // carries bound parameters over HTTP, and a list of thousands of literals takes ClickHouse
  // longer to parse than the lookup itself. The row keys admit lowercase hex only: nothing to escape.
  const where = `ProjectId IN {projects:Array(String)}
       AND Timestamp >= toDateTime64({from:Int64}, 9) AND Timestamp < toDateTime64({to:Int64}, 9)
       AND TraceId IN (SELECT arrayJoin(splitByChar(',', '${[...traces].join(',')}')))`;
  const params = { projects: [...projects], from, to: to + 1, source: table };
  type Key = { ProjectId: string; TraceId: string; SpanId: string };
  let found: Key[];
  try {
    // span_keys (migration 003) is sorted by trace id: a lookup, not a scan of the table.
    found = await queryRows<Key>(
      client,
      `SELECT DISTINCT ProjectId, TraceId, SpanId FROM span_keys WHERE Source = {source:String} AND ${where}`,
      params,
    );
  } catch (error) {
    // A data directory migrated before span_keys existed: the table itself answers, slower.
    if ((error as { code?: unknown }).code !== '60') throw error;
    found = await queryRows<Key>(
      client,
      `SELECT DISTINCT ProjectId, TraceId, SpanId FROM ${table} WHERE ${where}`,
      params,
    );
  }
  return new Set(found.map((r) => `${r.ProjectId}\n${r.TraceId}\n${r.SpanId}`));
}
