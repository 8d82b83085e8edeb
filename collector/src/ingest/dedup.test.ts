import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, selectedRows, type EmbeddedClickHouse } from '../../test/embedded.js';
import { queryRows } from '../storage/clickhouse.js';
import { decodedSpan } from '../../../packages/core/test/decoded-span.js';
import { dropStoredSpans, SPANS_PER_QUERY } from './dedup.js';
import { traceRow } from './rows.js';

const STORED = 1_600_000;
const NOW_S = Math.floor(Date.now() / 1000);

let ch: EmbeddedClickHouse;

type Key = { seconds: number; nanos: number; traceId: string; spanId: string };

/** The epoch nanoseconds of a key, as a decoded span holds them. */
function nanosOf(key: Key): string {
  return BigInt(`${key.seconds}${String(key.nanos).padStart(9, '0')}`).toString();
}

/** A span's otel_traces row as the spool holds it (ingest/rows.ts): RowBinary, the span key first. */
function keyRow(project: string, startNanos: string, traceId: string, spanId: string): Buffer {
  return traceRow(
    project,
    decodedSpan({ traceId, spanId, startTimeUnixNano: startNanos, endTimeUnixNano: startNanos }),
  );
}

/** The rows of spans with these keys, as the spool holds them. */
function rowsOf(keys: readonly Key[]): Buffer {
  return Buffer.concat(keys.map((key) => keyRow('default', nanosOf(key), key.traceId, key.spanId)));
}

/** A row of a spool segment written by the CSV versions. */
function csvRow(key: Key): string {
  return `"default",${key.seconds}.${String(key.nanos).padStart(9, '0')},"${key.traceId}","${key.spanId}","chat"\n`;
}

/** A row of a spool segment written by the TabSeparated versions. */
function tsvRow(key: Key): string {
  return `default\t${key.seconds}.${String(key.nanos).padStart(9, '0')}\t${key.traceId}\t${key.spanId}\tchat\n`;
}

function freshKey(): Key {
  return {
    seconds: NOW_S - Math.floor(Math.random() * 60),
    nanos: Math.floor(Math.random() * 1e9),
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
  };
}

/** Keys of stored spans, in `order`. */
async function storedKeys(order: string, limit: number): Promise<Key[]> {
  const rows = await queryRows<{ S: string; N: string; T: string; I: string }>(
    ch.client,
    `SELECT toString(toUnixTimestamp(Timestamp)) AS S, toString(toUnixTimestamp64Nano(Timestamp) % 1000000000) AS N,
       TraceId AS T, SpanId AS I FROM stored_spans ORDER BY ${order} LIMIT {limit:UInt32}`,
    { limit },
  );
  return rows.map((r) => ({ seconds: Number(r.S), nanos: Number(r.N), traceId: r.T, spanId: r.I }));
}

beforeAll(async () => {
  ch = await embeddedClickHouse('dedup');
  // Two hours of keys of one busy project, inserted in time order in 16 parts as a live stream is.
  const parts = 16;
  for (let p = 0; p < parts; p++) {
    const first = (p * STORED) / parts;
    await ch.client.command({
      query: `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId)
        SELECT 'default', 'otel_traces',
          fromUnixTimestamp64Nano(toInt64((${NOW_S - 7200} + (${first} + number) * 7200 / ${STORED}) * 1e9)),
          lower(hex(randomString(16))), lower(hex(randomString(8)))
        FROM numbers(${STORED / parts})`,
    });
  }
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

describe('dropStoredSpans', () => {
  it('looks up as many spans as one query holds: their start times and checksums stay under max_query_size', async () => {
    const retried = await storedKeys('cityHash64(SpanId)', SPANS_PER_QUERY - 1);
    const fresh = freshKey();
    const body = rowsOf([...retried, fresh]);
    const result = await dropStoredSpans(ch.client, 'otel_traces', body, SPANS_PER_QUERY);
    expect(result.dropped).toBe(retried.length);
    expect(result.body).toEqual(rowsOf([fresh]));
  });

  it('finds stored spans by start time: a lookup reads a sliver of the keys, not all of them (regression: keyed by trace id, every lookup read the day)', async () => {
    const retried = await storedKeys('cityHash64(TraceId)', 10);
    const fresh = Array.from({ length: 2_000 }, freshKey);
    const body = rowsOf([...fresh, ...retried]);

    const before = await selectedRows(ch.client);
    const result = await dropStoredSpans(ch.client, 'otel_traces', body, fresh.length + retried.length);
    const read = (await selectedRows(ch.client)) - before;

    expect(result.dropped).toBe(retried.length);
    expect(result.rows).toBe(fresh.length);
    expect(result.body).toEqual(rowsOf(fresh));
    // 10 retried spans spread over two hours (a granule each) and 2,000 from the last minute
    // (that minute's granules): ~25k keys. A lookup by trace id reads all 1.6 M.
    expect(read).toBeLessThan(STORED / 32);
  });

  it('keys spans by their start time too, and drops repeats inside the batch', async () => {
    const [retry] = (await storedKeys('Timestamp', 1)) as [Key];
    const sameIdsOtherTime = { ...retry, nanos: (retry.nanos + 1) % 1e9 };
    const fresh = freshKey();
    const rows = [retry, sameIdsOtherTime, fresh, fresh];
    const result = await dropStoredSpans(ch.client, 'otel_traces', rowsOf(rows), 4);
    expect(result.dropped).toBe(2);
    expect(result.body).toEqual(rowsOf([sameIdsOtherTime, fresh]));
  });

  it('looks up a segment too big for one query in parts (regression: 8,000 spans overflowed max_query_size)', async () => {
    const retried = await storedKeys('Timestamp DESC', 3);
    const rows = [retried[0]!, ...Array.from({ length: 20_000 }, freshKey), retried[1]!, retried[2]!];
    const result = await dropStoredSpans(ch.client, 'otel_traces', rowsOf(rows), rows.length);
    expect(result.dropped).toBe(3);
    expect(result.rows).toBe(20_000);
  });

  it("returns only the repeats when stored spans share the batch's start times and span ids (regression: from millisecond clocks, every stored span of those instants came back)", async () => {
    // A sender whose clock ticks in milliseconds and that numbers span ids per trace: 20,000
    // stored spans on 500 instants, 40 each, with span ids 1 to 8.
    const spanId = (n: number) => n.toString(16).padStart(16, '0');
    const instants = Array.from({ length: 500 }, (_, i) => ({ seconds: NOW_S - 30, nanos: i * 1_000_000 }));
    await ch.client.command({
      query: `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId)
        SELECT 'default', 'otel_traces', fromUnixTimestamp64Nano(toInt64(${NOW_S - 30}e9 + (number % 500) * 1e6)),
          lower(hex(randomString(16))), leftPad(hex(1 + intDiv(number, 500) % 8), 16, '0')
        FROM numbers(20000)`,
    });
    const retried = (await storedKeys('Timestamp DESC', 20_000))
      .filter((k) => k.seconds === NOW_S - 30)
      .slice(0, 5);
    const fresh = instants.flatMap((at, i) => [
      { ...freshKey(), ...at, spanId: spanId(1 + (i % 8)) },
      { ...freshKey(), ...at, spanId: spanId(1 + ((i + 3) % 8)) },
    ]);
    let returned = 0;
    const counting = {
      query: async (params: Parameters<ClickHouseClient['query']>[0]) => {
        const result = await ch.client.query(params);
        return {
          json: async () => {
            const rows = (await result.json()) as unknown[];
            returned += rows.length;
            return rows;
          },
        };
      },
    } as unknown as ClickHouseClient;
    const body = rowsOf([...fresh, ...retried]);
    const result = await dropStoredSpans(counting, 'otel_traces', body, fresh.length + retried.length);
    expect(retried.length).toBe(5);
    expect(result.dropped).toBe(5);
    expect(result.rows).toBe(fresh.length);
    expect(returned).toBe(5);
  });

  it("answers for a segment's llm_calls rows with the lookup made for its otel_traces rows, and leaves a clean llm_calls body untouched", async () => {
    const [storedCall, storedTrace] = Array.from({ length: 2 }, freshKey) as [Key, Key];
    await ch.client.command({
      query: `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId) VALUES
        ('default', 'llm_calls', fromUnixTimestamp64Nano(${storedCall.seconds}${String(storedCall.nanos).padStart(9, '0')}), '${storedCall.traceId}', '${storedCall.spanId}'),
        ('default', 'otel_traces', fromUnixTimestamp64Nano(${storedTrace.seconds}${String(storedTrace.nanos).padStart(9, '0')}), '${storedTrace.traceId}', '${storedTrace.spanId}')`,
    });
    let queries = 0;
    const counting = {
      query: (params: Parameters<ClickHouseClient['query']>[0]) => {
        queries++;
        return ch.client.query(params);
      },
    } as unknown as ClickHouseClient;
    const fresh = Array.from({ length: 50 }, freshKey);
    const segment = async (keys: Key[]) => {
      const traces = await dropStoredSpans(counting, 'otel_traces', rowsOf(keys), keys.length);
      const callBody = rowsOf(keys);
      const calls = await dropStoredSpans(counting, 'llm_calls', callBody, keys.length, traces.lookup);
      return { traces, calls, callBody };
    };

    // Nothing stored, no repeat: one query for both tables, and the llm_calls body as it came.
    const clean = await segment(fresh);
    expect(queries).toBe(1);
    expect(clean.calls.body).toBe(clean.callBody);
    expect(clean.calls.dropped).toBe(0);

    // A span stored in llm_calls only (its trace row was stored by another segment's insert that
    // failed half-way): dropped from llm_calls, kept in otel_traces; still one query.
    const mixed = await segment([...fresh.slice(0, 5), storedCall, storedTrace]);
    expect(queries).toBe(2);
    expect(mixed.traces.body).toEqual(rowsOf([...fresh.slice(0, 5), storedCall]));
    expect(mixed.calls.body).toEqual(rowsOf([...fresh.slice(0, 5), storedTrace]));

    // A repeat inside the segment is dropped from both tables.
    const repeated = await segment([fresh[0]!, fresh[1]!, fresh[0]!]);
    expect(queries).toBe(3);
    expect(repeated.traces.dropped).toBe(1);
    expect(repeated.calls.dropped).toBe(1);
    expect(repeated.calls.body).toEqual(rowsOf([fresh[0]!, fresh[1]!]));
  });

  it('drops only identical pii_findings rows of a span: a span has one row per finding', async () => {
    const key = freshKey();
    const finding = (type: string) =>
      `${JSON.stringify({ ProjectId: 'default', Timestamp: `${key.seconds}.${String(key.nanos).padStart(9, '0')}`, TraceId: key.traceId, SpanId: key.spanId, Type: type })}\n`;
    const rows = [finding('email'), finding('phone'), finding('email')];
    const result = await dropStoredSpans(ch.client, 'pii_findings', Buffer.from(rows.join('')), 3);
    expect(result.dropped).toBe(1);
    expect(result.body.toString()).toBe(finding('email') + finding('phone'));
  });

  it.each([
    ['CSV', csvRow],
    ['TabSeparated', tsvRow],
  ])('reads the key of %s rows from older spool segments', async (_format, row) => {
    const [retry] = (await storedKeys('Timestamp', 1)) as [Key];
    const fresh = freshKey();
    const result = await dropStoredSpans(ch.client, 'otel_traces', Buffer.from(row(retry) + row(fresh)), 2);
    expect(result.dropped).toBe(1);
    expect(result.body.toString()).toBe(row(fresh));
  });

  it('reads the same key from a RowBinary row as from its CSV and TabSeparated twins, whatever the project id and start time', async () => {
    const keys: { project: string; time: string }[] = [
      { project: 'default', time: `${NOW_S}.000000001` },
      { project: 'a.b-c_1', time: '0000000001.000000005' },
      { project: '', time: '0000000000.000000000' },
      { project: 'p', time: '0000000000.000000042' },
    ];
    const ids = keys.map(() => [randomBytes(16).toString('hex'), randomBytes(8).toString('hex')] as const);
    const csv = keys.map((k, i) => `"${k.project}",${k.time},"${ids[i]![0]}","${ids[i]![1]}","chat"\n`);
    const tsv = keys.map((k, i) => `${k.project}\t${k.time}\t${ids[i]![0]}\t${ids[i]![1]}\tchat\n`);
    const binary = keys.map((k, i) =>
      keyRow(k.project, BigInt(k.time.replace('.', '')).toString(), ids[i]![0], ids[i]![1]),
    );
    // Nothing stored, every line checked for repeats: only lines whose keys match are dropped.
    const known = { stored: new Map([['otel_traces' as const, new Set<string>()]]), repeats: true };
    const drop = (lines: Array<string | Buffer>) =>
      dropStoredSpans(
        ch.client,
        'otel_traces',
        Buffer.concat(lines.map((l) => (typeof l === 'string' ? Buffer.from(l) : l))),
        lines.length,
        known,
      );
    const result = await drop([...csv, ...tsv]);
    expect(result.dropped).toBe(4);
    expect(result.body.toString()).toBe(csv.join(''));
    const fromBinary = await drop([...binary, ...csv]);
    expect(fromBinary.dropped).toBe(4);
    expect(fromBinary.body).toEqual(Buffer.concat(binary));
    // Not a key (an 8-digit fraction, an upper-case id): such lines are kept, repeated or not.
    const odd = [`"p",${NOW_S}.00000001,"ab","cd","x"\n`, `"p",${NOW_S}.000000001,"AB","cd","x"\n`];
    const kept = await drop([...odd, ...odd]);
    expect(kept.dropped).toBe(0);
  });

  it('reads the key of JSON rows from older spool segments', async () => {
    const [stored] = await queryRows<{ Ts: string; T: string; I: string }>(
      ch.client,
      `SELECT concat(toString(toUnixTimestamp(Timestamp)), '.', leftPad(toString(toUnixTimestamp64Nano(Timestamp) % 1000000000), 9, '0')) AS Ts,
         TraceId AS T, SpanId AS I FROM stored_spans LIMIT 1`,
    );
    const json = (ts: string, traceId: string, spanId: string) =>
      `${JSON.stringify({ ProjectId: 'default', Timestamp: ts, TraceId: traceId, SpanId: spanId, SpanName: 'chat' })}\n`;
    const fresh = freshKey();
    const body = Buffer.from(
      json(stored!.Ts, stored!.T, stored!.I) +
        json(`${fresh.seconds}.${String(fresh.nanos).padStart(9, '0')}`, fresh.traceId, fresh.spanId),
    );
    const result = await dropStoredSpans(ch.client, 'otel_traces', body, 2);
    expect(result.dropped).toBe(1);
    expect(result.rows).toBe(1);
  });
});
