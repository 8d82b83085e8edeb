import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { protobufExport } from '../../test/ingest-helpers.js';
import { llmSpans } from '../../test/totals.js';
import { parseConfig } from '../config/index.js';
import { silentLogger } from '../logging.js';
import { queryRows } from '../storage/clickhouse.js';
import { decodeProtobuf } from './decode.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';
import type { IngestMetrics } from './metrics.js';
import { defaultStages, runPipeline } from './pipeline.js';
import type { TableRows } from './rows.js';
import { Spool, type SpoolSegment } from './spool.js';
import { IngestWriter } from './writer.js';

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
}

function countingMetrics(): Counted {
  const dropped = { value: 0 };
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
    rowsDeduplicated: none,
    insertErrors: none,
    insertDuration: none,
    queueCapacity: none,
    queueSpans: none,
    spoolBytes: none,
    storageUp: none,
  };
  return { metrics, dropped };
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

async function callsOf(prefix: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    ch.client,
    'SELECT toUInt32(count()) AS n FROM llm_calls WHERE startsWith(TraceId, {p:String})',
    { p: prefix },
  );
  return Number(row?.n ?? 0);
}

describe('IngestWriter', () => {
  it('a segment the server refuses is moved aside after its attempts; the segments queued behind it are stored', async () => {
    const { spool, sealed, dir } = await spoolOf(30);
    await spool.append(rowsOf('b0', 30));
    // Rows ClickHouse cannot parse (a spool written by something else, a disk that lied):
    // the server is up and refuses them on every attempt.
    const bad = rowsOf('b1', 30);
    bad.llm_calls = bad.llm_calls.map((line) => line.replace(/^("[^"]*"),[^,]*,/, '$1,"not a time",'));
    await spool.append(bad);
    await spool.append(rowsOf('b2', 30));
    await spool.sealNow();
    expect(sealed).toHaveLength(3);

    const counted = countingMetrics();
    const writer = new IngestWriter({
      client: ch.client,
      spool,
      metrics: counted.metrics,
      logger: silentLogger,
      queueMaxSpans: 1_000,
      initialBackoffMs: 1,
      maxBackoffMs: 1,
      maxAttemptsWhenReachable: 2,
    });
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
});
