import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { protobufExport } from '../../test/ingest-helpers.js';
import { llmSpans } from '../../test/totals.js';
import { parseConfig } from '../config/index.js';
import { LlmwatchError } from '../errors.js';
import { silentLogger } from '../logging.js';
import { queryRows } from '../storage/clickhouse.js';
import { dataDirLayout } from '../storage/data-dir.js';
import { decodeProtobuf } from './decode.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';
import type { IngestMetrics } from './metrics.js';
import { defaultStages, runPipeline } from './pipeline.js';
import type { TableRows } from './rows.js';
import { Spool, type SpoolSegment } from './spool.js';
import { IngestWriter, clickhouseErrorSummary } from './writer.js';

let ch: EmbeddedClickHouse;
beforeAll(async () => {
  ch = await embeddedClickHouse('writer');
});
afterAll(() => ch.close());

const stages = defaultStages(parseConfig({}), 'writer-test-key');

/** The rows of `count` priced LLM spans, as the ingest worker hands them to the spool. */
function rowsOf(prefix: string, count: number): TableRows {
  const { spans } = decodeProtobuf(protobufExport(llmSpans(prefix, count)), DEFAULT_INGEST_LIMITS);
  return runPipeline(spans, 'default', stages).rows;
}

interface Counted {
  metrics: IngestMetrics;
  /** Spans counted as dropped. */
  dropped: { value: number };
  /** Rows counted as repeats of stored spans. */
  deduplicated: { value: number };
  /** Inserts that failed. */
  insertErrors: { value: number };
}

function countingMetrics(): Counted {
  const dropped = { value: 0 };
  const deduplicated = { value: 0 };
  const insertErrors = { value: 0 };
  const none = { inc: () => undefined, set: () => undefined, observe: () => undefined };
  const metrics: IngestMetrics = {
    requests: none,
    requestsRefused: none,
    spansAccepted: none,
    spansRejected: none,
    spansDropped: { inc: (_labels: unknown, value?: number) => void (dropped.value += value ?? 0) },
    attributesDropped: none,
    stageErrors: none,
    llmCalls: none,
    rowsInserted: none,
    rowsDeduplicated: { inc: (_labels: unknown, value?: number) => void (deduplicated.value += value ?? 0) },
    insertErrors: { inc: () => void insertErrors.value++ },
    insertDuration: none,
    queueCapacity: none,
    queueSpans: none,
    spoolBytes: none,
    bodyBytes: none,
    storageUp: none,
  };
  return { metrics, dropped, deduplicated, insertErrors };
}

/** A spool whose segments wait, sealed, until the test hands them to a writer. */
async function spoolOf(segmentSpans: number): Promise<{ spool: Spool; sealed: SpoolSegment[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-writer-'));
  const sealed: SpoolSegment[] = [];
  const spool = new Spool({
    dir,
    maxSegmentSpans: segmentSpans,
    maxSegmentAgeMs: 60_000,
    onSealed: (segment) => sealed.push(segment),
    logger: silentLogger,
  });
  await spool.start();
  return { spool, sealed, dir };
}

/**
 * A RowBinary row followed by bytes the engine reads as the next row's head and a ~4 GiB project
 * id, which it refuses; the row's own head counts them, so the spool's readers still step over it.
 */
function unparsable(row: Buffer): Buffer {
  const out = Buffer.concat([row, Buffer.alloc(8, 0xff), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]);
  out.writeUInt32LE(row.readUInt32LE(1) + 13, 1);
  return out;
}

async function callsOf(prefix: string, table = 'llm_calls'): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    ch.client,
    `SELECT toUInt32(count()) AS n FROM ${table} WHERE startsWith(TraceId, {p:String})`,
    { p: prefix },
  );
  return Number(row?.n ?? 0);
}

function writerOf(spool: Spool, counted: Counted, attempts = 5): IngestWriter {
  return new IngestWriter({
    client: ch.client,
    spool,
    metrics: counted.metrics,
    logger: silentLogger,
    queueMaxSpans: 1_000,
    initialBackoffMs: 1,
    maxBackoffMs: 1,
    maxAttemptsWhenReachable: attempts,
  });
}

describe('IngestWriter', () => {
  it('a segment the server refuses is moved aside after its attempts; the segments queued behind it are stored', async () => {
    const { spool, sealed, dir } = await spoolOf(30);
    await spool.append(rowsOf('b0', 30));
    // Rows ClickHouse cannot parse (a spool written by something else, a disk that lied):
    // the server is up and refuses them on every attempt.
    const bad = rowsOf('b1', 30);
    bad.llm_calls = bad.llm_calls.map((row) => unparsable(row as Buffer));
    await spool.append(bad);
    await spool.append(rowsOf('b2', 30));
    await spool.sealNow();
    expect(sealed).toHaveLength(3);

    const counted = countingMetrics();
    const writer = writerOf(spool, counted, 2);
    for (const segment of sealed) writer.enqueueLeftover(segment);
    await writer.drain();

    expect(await callsOf('b0')).toBe(30);
    expect(await callsOf('b2')).toBe(30);
    expect(await callsOf('b1')).toBe(0);
    expect(counted.dropped.value).toBe(30);
    expect(readdirSync(join(dir, 'failed'))).toHaveLength(1);
    expect(writer.queuedSpans).toBe(0);
    await writer.shutdown();
  });

  it('retries a segment whose insert body cannot be written (a full disk) instead of moving it aside (regression: counted as refused by the engine)', async () => {
    const insertDir = dataDirLayout(ch.dataDir).insert;
    rmSync(insertDir, { recursive: true, force: true });
    writeFileSync(insertDir, 'a file where the directory should be');
    try {
      const { spool, sealed, dir } = await spoolOf(30);
      await spool.append(rowsOf('f0', 30));
      await spool.sealNow();
      const counted = countingMetrics();
      const writer = writerOf(spool, counted, 2);
      writer.enqueueLeftover(sealed[0]!);
      const deadline = Date.now() + 10_000;
      while (counted.insertErrors.value < 5 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      // More failures than the attempts a refused segment gets, and it is still queued.
      expect(counted.insertErrors.value).toBeGreaterThanOrEqual(5);
      expect(readdirSync(join(dir, 'failed'))).toHaveLength(0);
      expect(counted.dropped.value).toBe(0);
      rmSync(insertDir, { force: true });
      await writer.drain();
      expect(await callsOf('f0')).toBe(30);
      await writer.shutdown();
    } finally {
      rmSync(insertDir, { recursive: true, force: true });
    }
  });

  it('inserts each table of each segment exactly, a smaller body after a bigger one included', async () => {
    // The writer joins a table's parts in a buffer it reuses: a body must never carry bytes of
    // the body before it (another table's rows, or more rows of a bigger segment).
    const { spool, sealed } = await spoolOf(1_000);
    for (let i = 0; i < 3; i++) await spool.append(rowsOf(`c${i}`, 20));
    await spool.sealNow();
    for (let i = 0; i < 2; i++) await spool.append(rowsOf(`d${i}`, 4));
    await spool.sealNow();
    expect(sealed.map((s) => s.spans)).toEqual([60, 8]);
    expect(sealed.every((s) => s.memory)).toBe(true);

    const counted = countingMetrics();
    const writer = writerOf(spool, counted);
    for (const segment of sealed) writer.enqueueLeftover(segment);
    await writer.drain();

    for (const table of ['llm_calls', 'otel_traces']) {
      expect(await callsOf('c', table)).toBe(60);
      expect(await callsOf('d', table)).toBe(8);
    }
    expect(counted.deduplicated.value).toBe(0);
    expect(counted.dropped.value).toBe(0);
    await writer.shutdown();
  });
});

describe('IngestWriter under load', () => {
  it('inserts what arrived during a slow insert as one segment, sealed when the insert ends', async () => {
    // The spool's age check runs only when the test advances it; the writer's first lookup waits
    // for a gate.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let restore = () => undefined as unknown;
    try {
      let openGate = () => undefined as void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      // (Not a proxy: the embedded insert path knows the client object itself.)
      const query = ch.client.query.bind(ch.client);
      ch.client.query = (async (...args: Parameters<typeof query>) => {
        await gate;
        return query(...args);
      }) as typeof query;
      restore = () => (ch.client.query = query as typeof ch.client.query);
      const sealed: SpoolSegment[] = [];
      const waiting: { count: number; resolve: () => void }[] = [];
      const sealedCount = (count: number) =>
        new Promise<void>((resolve) => {
          if (sealed.length >= count) resolve();
          else waiting.push({ count, resolve });
        });
      const holder: { writer?: IngestWriter } = {};
      const spool = new Spool({
        dir: mkdtempSync(join(tmpdir(), 'llmwatch-writer-')),
        maxSegmentSpans: 1_000,
        // Every segment is past its age at once: only the writer's state decides when it is sealed.
        maxSegmentAgeMs: 0,
        writerBusy: () => holder.writer?.busy ?? false,
        onSealed: (segment) => {
          sealed.push(segment);
          holder.writer?.enqueue(segment);
          for (const w of waiting) if (sealed.length >= w.count) w.resolve();
        },
        logger: silentLogger,
      });
      const writer = new IngestWriter({
        client: ch.client,
        spool,
        metrics: countingMetrics().metrics,
        logger: silentLogger,
        queueMaxSpans: 1_000,
      });
      holder.writer = writer;
      /** The spool's age check runs. */
      const ageCheck = () => vi.advanceTimersByTime(10);
      await spool.start();
      await spool.append(rowsOf('e0', 10));
      ageCheck();
      await sealedCount(1);
      // The writer is held in its first insert; exports keep coming, each past the age.
      for (let i = 1; i <= 4; i++) {
        await spool.append(rowsOf(`e${i}`, 10));
        ageCheck();
      }
      expect(sealed).toHaveLength(1);
      openGate();
      await sealedCount(2);
      expect(sealed.map((s) => s.spans)).toEqual([10, 40]);
      await writer.drain();
      expect(await callsOf('e')).toBe(50);
      await writer.shutdown();
    } finally {
      restore();
      vi.useRealTimers();
    }
  });
});

describe('clickhouseErrorSummary', () => {
  it("keeps the collector's own message and drops ClickHouse's, which can quote a row", () => {
    const parse = Object.assign(new Error('Cannot parse input: "jane@example.com"'), {
      code: '27',
      type: 'CANNOT_PARSE_INPUT',
    });
    expect(clickhouseErrorSummary(parse)).toEqual({ type: 'CANNOT_PARSE_INPUT', code: '27' });
    const tooOld = new LlmwatchError(
      'config',
      'migration 12 (binary-floats) needs ClickHouse 25.7 or later; this server runs 24.8.1.1',
    );
    expect(clickhouseErrorSummary(tooOld)).toEqual({
      type: 'LlmwatchError',
      code: 'config',
      message: tooOld.message,
    });
  });
});
