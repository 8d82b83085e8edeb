import type { ClickHouseClient } from '@clickhouse/client';
import { LlmwatchError } from '../errors.js';
import type { Logger } from '../logging.js';
import { insertRows, type RowFormat } from '../storage/clickhouse.js';
import { dropStoredSpans, type SpanLookup } from './dedup.js';
import { stripHeads } from './rowbinary.js';
import type { IngestMetrics } from './metrics.js';
import { TABLES, lineColumns, lineFormat, type TableName } from './rows.js';
import { readSegment, type Spool, type SpoolSegment } from './spool.js';

/**
 * Inserts sealed spool segments into ClickHouse, with opentelemetry-js BatchSpanProcessor
 * manners: a bounded queue (admission is refused, with 429/503, instead of growing), flushes
 * by size or by an unref'd timer (the spool seals segments by both), one insert in flight on the
 * ingest connection, every refusal and drop counted, a shutdown that drains and is safe to call
 * twice. Failed inserts are retried with backoff under the same deduplication token; the data
 * waits on disk meanwhile.
 */
export interface WriterOptions {
  client: ClickHouseClient;
  spool: Spool;
  metrics: IngestMetrics;
  logger: Logger;
  /** Acknowledged-but-not-inserted spans above which new exports are refused. */
  queueMaxSpans: number;
  /** Resolves when the schema is in place; nothing is inserted before. */
  ready?: Promise<void>;
  /** @default 200 */
  initialBackoffMs?: number;
  /** @default 10000 */
  maxBackoffMs?: number;
  /** Attempts against a reachable server before a segment is moved aside. @default 5 */
  maxAttemptsWhenReachable?: number;
}

export type Admission = 'ok' | 'overloaded' | 'unavailable';

/** Tables with one row per span (pii_findings: a few), deduplicated by span before insert. */
const SPAN_TABLES: ReadonlySet<TableName> = new Set(['otel_traces', 'llm_calls', 'pii_findings']);

export class IngestWriter {
  private readonly opts: WriterOptions;
  private readonly queue: SpoolSegment[] = [];
  private readonly joined = new JoinBuffer();
  private reserved = 0;
  private running: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private stopping = false;
  /** Shut down (drain timed out, or storage never became ready): the loop never runs again. */
  private halted = false;
  private wake: (() => void) | undefined;
  private storageOk = true;
  /** The schema is in place (migrations ran): until then nothing can be inserted. */
  private schemaReady = false;
  private loggedFirstRefusal = false;

  constructor(opts: WriterOptions) {
    this.opts = opts;
    opts.metrics.queueCapacity.set(opts.queueMaxSpans);
    // Down until the schema is in place: a server unreachable at start-up is not "up".
    opts.metrics.storageUp.set(opts.ready ? 0 : 1);
    if (opts.ready) {
      opts.ready.then(
        () => {
          this.schemaReady = true;
          this.setStorage(this.storageOk);
        },
        () => undefined,
      );
    } else this.schemaReady = true;
  }

  /** Spans acknowledged (or being made durable) and not yet inserted. */
  get queuedSpans(): number {
    return this.reserved;
  }

  get storageHealthy(): boolean {
    return this.storageOk && this.schemaReady;
  }

  /** Segments are waiting to be inserted, or one is being inserted. */
  get busy(): boolean {
    return this.queue.length > 0;
  }

  /** No room for another export: refuse before reading its body. */
  get full(): boolean {
    return this.stopping || this.reserved >= this.opts.queueMaxSpans;
  }

  get overloaded(): boolean {
    return this.reserved >= this.opts.queueMaxSpans * 0.9;
  }

  /**
   * Reserves room for a request's spans before it is spooled. Refusing here, before any work,
   * is what keeps memory and disk bounded under overload.
   */
  reserve(spans: number): Admission {
    if (this.stopping) return 'unavailable';
    if (this.reserved > 0 && this.reserved + spans > this.opts.queueMaxSpans) {
      if (!this.loggedFirstRefusal) {
        this.loggedFirstRefusal = true;
        this.opts.logger.warn(
          { queued: this.reserved, capacity: this.opts.queueMaxSpans },
          'ingest queue full; refusing exports',
        );
      }
      return this.storageOk ? 'overloaded' : 'unavailable';
    }
    this.reserved += spans;
    this.opts.metrics.queueSpans.set(this.reserved);
    return 'ok';
  }

  /** Gives back a reservation whose spool append failed. */
  release(spans: number): void {
    this.reserved = Math.max(0, this.reserved - spans);
    this.opts.metrics.queueSpans.set(this.reserved);
  }

  /** A sealed segment from this run (already reserved). */
  enqueue(segment: SpoolSegment): void {
    this.queue.push(segment);
    this.start();
  }

  /** A segment left by a previous run: counted in the queue, inserted first. */
  enqueueLeftover(segment: SpoolSegment): void {
    this.reserved += segment.spans;
    this.opts.metrics.queueSpans.set(this.reserved);
    this.enqueue(segment);
  }

  /** Resolves when every segment queued so far is inserted (or the writer stops). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Seals the open segment and waits until everything acknowledged so far is inserted. */
  async flush(): Promise<void> {
    await this.opts.spool.sealNow();
    await this.drain();
  }

  /** Stops admission, seals the spool, inserts what is queued. Safe to call twice. */
  shutdown(timeoutMs = 30_000): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.stopping = true;
      await this.opts.spool.close();
      const drained = this.drain();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      const outcome = await Promise.race([drained.then(() => 'drained' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.opts.logger.warn(
          { queued: this.reserved, segments: this.queue.length },
          'shutdown before the queue drained; the spool keeps it for the next start',
        );
        // Stop retrying; what is left stays on disk and is replayed on start-up.
        this.halted = true;
        this.queue.length = 0;
        this.wake?.();
      }
    })();
    return this.shutdownPromise;
  }

  private start(): void {
    if (this.running || this.halted) return;
    this.running = this.loop()
      .catch((error: unknown) => {
        this.opts.logger.error({ err: clickhouseErrorSummary(error) }, 'writer loop failed; will restart');
      })
      .finally(() => {
        this.running = undefined;
        // Not when halted: a loop that returns at once (schema never ready) would otherwise be
        // restarted on the microtask queue forever and starve the shutdown timer.
        if (this.queue.length && !this.halted) this.start();
      });
  }

  private async loop(): Promise<void> {
    try {
      await this.opts.ready;
    } catch {
      // Stopped before the schema was in place: the segments stay in the spool for next time.
      this.halted = true;
      return;
    }
    let backoff = this.opts.initialBackoffMs ?? 200;
    let attempts = 0;
    while (this.queue.length && !this.halted) {
      const segment = this.queue[0];
      if (!segment) break;
      try {
        await this.insertSegment(segment);
        this.queue.shift();
        this.opts.spool.releaseMemory(segment);
        await this.opts.spool.remove(segment);
        this.release(segment.spans);
        this.opts.metrics.spoolBytes.set(this.opts.spool.bytesOnDisk);
        this.setStorage(true);
        backoff = this.opts.initialBackoffMs ?? 200;
        attempts = 0;
        // The open segment may have aged while this insert ran (see SpoolOptions.writerBusy).
        if (!this.queue.length) this.opts.spool.sealIfAged();
      } catch (error) {
        // `unavailable`: storage could not be given the rows (embedded, a full disk), which no
        // number of attempts makes the segment's fault.
        const unavailable = error instanceof LlmwatchError && error.code === 'unavailable';
        const reachable = !unavailable && (await this.ping());
        this.setStorage(reachable);
        if (reachable) attempts++;
        this.opts.logger.error(
          { err: clickhouseErrorSummary(error), segment: segment.id, attempts, reachable },
          'insert failed; retrying from the spool',
        );
        if (reachable && attempts >= (this.opts.maxAttemptsWhenReachable ?? 5)) {
          // The server is up but refuses this data: move it aside so it does not block the rest.
          this.queue.shift();
          this.opts.spool.releaseMemory(segment);
          const target = await this.opts.spool.quarantine(segment).catch(() => segment.path);
          this.release(segment.spans);
          this.opts.metrics.spansDropped.inc({ reason: 'insert_refused' }, segment.spans);
          this.opts.logger.error(
            { segment: segment.id, spans: segment.spans, target },
            'segment quarantined',
          );
          attempts = 0;
          continue;
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 10_000);
      }
    }
  }

  private async insertSegment(segment: SpoolSegment): Promise<void> {
    const memory = segment.memory;
    const fromFile = memory ? undefined : (await readSegment(segment.path)).tables;
    // The lookup made for the segment's otel_traces rows, which answers for its llm_calls rows.
    let lookup: SpanLookup | undefined;
    for (const table of TABLES) {
      // One table's rows at a time: a body joined from memory lives only until the next table's.
      let { rows, body } = fromFile?.[table] ?? this.joined.of(memory!.tables[table]);
      if (rows === 0) continue;
      const started = performance.now();
      try {
        if (SPAN_TABLES.has(table)) {
          const unique = await dropStoredSpans(this.opts.client, table, body, rows, lookup);
          lookup ??= unique.lookup;
          if (unique.dropped) this.opts.metrics.rowsDeduplicated.inc({ table }, unique.dropped);
          ({ rows, body } = unique);
          if (rows === 0) continue;
        }
        // Pre-serialized bytes: several times faster than object values through the client.
        // The token makes a replay of this segment a no-op for blocks already stored, in the
        // table and in the rollups its materialized views feed; settings are per statement.
        await insertTableRows(this.opts.client, table, body, {
          insert_deduplication_token: `${segment.id}:${table}`,
          deduplicate_blocks_in_dependent_materialized_views: '1',
        });
      } catch (error) {
        this.opts.metrics.insertErrors.inc({ table });
        throw error;
      }
      this.opts.metrics.insertDuration.observe({ table }, (performance.now() - started) / 1000);
      this.opts.metrics.rowsInserted.inc({ table }, rows);
    }
  }

  private async ping(): Promise<boolean> {
    try {
      const result = await this.opts.client.ping();
      return result.success;
    } catch {
      return false;
    }
  }

  private setStorage(ok: boolean): void {
    this.storageOk = ok;
    this.opts.metrics.storageUp.set(ok ? 1 : 0);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** A buffer for the engine's RowBinary rows, kept from insert to insert (see insertTableRows). */
let spareEngineRows: Buffer | undefined;

/**
 * Inserts one table's rows as the spool holds them (see rows.ts). RowBinary rows go without their
 * heads (rowbinary.ts), copied into a buffer kept for the next insert: a fresh one per insert
 * would be 10–20 MB of new pages to fault in each time (see JoinBuffer). Concurrent inserts each
 * get one.
 */
export async function insertTableRows(
  client: ClickHouseClient,
  table: TableName,
  body: Buffer,
  settings: Record<string, string> = {},
): Promise<void> {
  const format = rowFormat(table, body);
  if (format.format !== 'RowBinary') return insertRows(client, table, body, format, settings);
  const spare = spareEngineRows;
  spareEngineRows = undefined;
  const out =
    spare && spare.length >= body.length
      ? spare
      : Buffer.allocUnsafe(Math.ceil(body.length / JOIN_BUFFER_STEP) * JOIN_BUFFER_STEP);
  try {
    await insertRows(client, table, out.subarray(0, stripHeads(body, out)), format, settings);
  } finally {
    keepEngineRows(out);
  }
}

/** Keeps `buffer` for the next insert, unless a larger one is kept already or it is past the cap. */
function keepEngineRows(buffer: Buffer): void {
  if (buffer.length <= JOIN_BUFFER_MAX_BYTES && buffer.length >= (spareEngineRows?.length ?? 0))
    spareEngineRows = buffer;
}

/** RowBinary for the tables rows.ts writes so, unless the rows are from an older spool (rows.ts lineFormat). */
export function rowFormat(table: TableName, body: Buffer): RowFormat {
  const format = lineFormat(body);
  if (format === 'JSONEachRow') return { format };
  const columns = lineColumns(table, body, format);
  return columns ? { format, columns } : { format: 'JSONEachRow' };
}

/** A body past this is joined into a buffer of its own, so one burst does not pin its size. */
const JOIN_BUFFER_MAX_BYTES = 64 * 1024 * 1024;
const JOIN_BUFFER_STEP = 4 * 1024 * 1024;

/**
 * Joins a table's in-memory parts (one per export) into the one body an insert takes, in a buffer
 * kept from insert to insert and grown to the largest body up to JOIN_BUFFER_MAX_BYTES. A fresh
 * 10–20 MB buffer per insert cost the main thread more than the copy itself: new pages to fault
 * in and zero, then garbage. The body is valid until the next join; the writer is done with it by
 * then (one insert at a time).
 */
class JoinBuffer {
  private buf = Buffer.alloc(0);

  of(table: { rows: number; parts: Buffer[] }): { rows: number; body: Buffer } {
    const { rows, parts } = table;
    if (parts.length === 1) return { rows, body: parts[0]! };
    let size = 0;
    for (const part of parts) size += part.length;
    if (size > JOIN_BUFFER_MAX_BYTES) return { rows, body: Buffer.concat(parts, size) };
    // Grown in steps, not to each new largest size: segments differ by a few rows.
    if (this.buf.length < size)
      this.buf = Buffer.allocUnsafe(
        Math.min(JOIN_BUFFER_MAX_BYTES, Math.ceil(size / JOIN_BUFFER_STEP) * JOIN_BUFFER_STEP),
      );
    let at = 0;
    for (const part of parts) {
      this.buf.set(part, at);
      at += part.length;
    }
    return { rows, body: this.buf.subarray(0, size) };
  }
}

/**
 * Code and type only: ClickHouse parse errors quote the offending row, which is user content. The
 * collector's own errors keep their message (a migration that needs a newer server says which).
 */
export function clickhouseErrorSummary(error: unknown): { type: string; code?: string; message?: string } {
  if (error instanceof LlmwatchError) return { type: error.name, code: error.code, message: error.message };
  if (error instanceof Error) {
    const { code, type } = error as { code?: unknown; type?: unknown };
    return {
      type: typeof type === 'string' ? type : error.name,
      ...(code !== undefined ? { code: String(code) } : {}),
    };
  }
  return { type: typeof error };
}
