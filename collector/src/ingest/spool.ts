import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LlmwatchError } from '../errors.js';
import type { Logger } from '../logging.js';
import { isAlive } from '../storage/data-dir.js';
import { ITEM_TABLES, TABLES, type Row, type TableName, type TableRows } from './rows.js';

/**
 * The durable spool: "acknowledged" means "on disk". Every accepted request's rows are appended
 * to the open segment and fdatasync'd before the receiver answers 2xx. Concurrent requests share
 * one write + sync (group commit), so durability costs one sync per burst, not per request.
 *
 * A segment is also the unit of insertion: once sealed (by size or age) it is inserted table by
 * table with `insert_deduplication_token = <segment id>:<table>`, then deleted. A replay after a
 * crash re-inserts the same bytes under the same tokens, so ClickHouse drops what had already
 * landed: exactly once, with no ledger to keep consistent.
 *
 * Record layout: u32 payload length, u32 CRC-32 of the payload, payload = for each table in
 * TABLES order: u32 rows, u32 bytes, the rows as rows.ts writes them. A torn tail (crash
 * mid-write, never acknowledged) fails its length or CRC check and is ignored.
 */
export interface SpoolSegment {
  id: string;
  path: string;
  spans: number;
  bytes: number;
  /**
   * The segment's rows, kept in memory from the appends so the writer need not read the file
   * back; absent for leftovers of a previous run or when the in-memory budget is spent.
   */
  memory?: { tables: Record<TableName, { rows: number; parts: Buffer[] }>; bytes: number };
}

export interface SegmentData {
  tables: Record<TableName, { rows: number; body: Buffer }>;
  spans: number;
  records: number;
  /** Bytes after the last valid record (a torn tail). */
  tornBytes: number;
}

const HEADER = 8;
const SEGMENT_SUFFIX = '.seg';

/** A request's rows per table, each table's rows joined once (rowsBuffer). */
export type RecordBlocks = Record<TableName, { rows: number; buf: Buffer }>;

const EMPTY = Buffer.alloc(0);

export function recordBlocks(rows: TableRows): RecordBlocks {
  const blocks = {} as RecordBlocks;
  for (const table of TABLES) {
    const lines = rows[table];
    blocks[table] = { rows: lines.length, buf: lines.length ? rowsBuffer(lines) : EMPTY };
  }
  return blocks;
}

/**
 * A table's rows in one buffer of their exact size: a text line as UTF-8 with its newline, a
 * RowBinary row as it is (it carries its own length). For lines, the same bytes as
 * `Buffer.from(lines.join('\n') + '\n')`, without first building the joined multi-megabyte
 * string: that copy made spool record encoding cost several times more CPU per span
 * (bench/ingest.ts stage profile).
 */
export function rowsBuffer(rows: readonly Row[]): Buffer {
  const sizes = new Array<number>(rows.length);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const size = typeof row === 'string' ? Buffer.byteLength(row, 'utf8') + 1 : row.length;
    sizes[i] = size;
    total += size;
  }
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (typeof row === 'string') {
      offset += buf.write(row, offset, sizes[i]! - 1, 'utf8');
      buf[offset++] = 0x0a;
    } else offset += row.copy(buf, offset);
  }
  return buf;
}

/** A record as the buffers to write (no concatenation copy; the CRC runs over the parts). */
export function recordParts(blocks: RecordBlocks): Buffer[] {
  const parts: Buffer[] = [Buffer.allocUnsafe(HEADER)];
  let length = 0;
  let crc = 0;
  for (const table of TABLES) {
    const { rows, buf } = blocks[table];
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(rows, 0);
    head.writeUInt32LE(buf.length, 4);
    crc = crc32(head, crc);
    parts.push(head);
    length += 8;
    if (buf.length) {
      crc = crc32(buf, crc);
      parts.push(buf);
      length += buf.length;
    }
  }
  const header = parts[0] as Buffer;
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(crc, 4);
  return parts;
}

export function encodeRecord(rows: TableRows | RecordBlocks): Buffer {
  return Buffer.concat(recordParts(isBlocks(rows) ? rows : recordBlocks(rows)));
}

function isBlocks(rows: TableRows | RecordBlocks): rows is RecordBlocks {
  return !Array.isArray(rows.otel_traces);
}

export function decodeSegment(buf: Buffer): SegmentData {
  const chunks = Object.fromEntries(TABLES.map((t) => [t, []])) as unknown as Record<TableName, Buffer[]>;
  const counts = Object.fromEntries(TABLES.map((t) => [t, 0])) as unknown as Record<TableName, number>;
  let offset = 0;
  let records = 0;
  while (offset + HEADER <= buf.length) {
    const length = buf.readUInt32LE(offset);
    const end = offset + HEADER + length;
    if (end > buf.length) break;
    const payload = buf.subarray(offset + HEADER, end);
    if (crc32(payload) !== buf.readUInt32LE(offset + 4)) break;
    const parsed: [TableName, number, Buffer][] = [];
    let p = 0;
    let ok = true;
    for (const table of TABLES) {
      // A record written before a table was added ends at a table boundary: the rest are empty.
      if (p === payload.length) break;
      if (p + 8 > payload.length) {
        ok = false;
        break;
      }
      const rows = payload.readUInt32LE(p);
      const bytes = payload.readUInt32LE(p + 4);
      if (p + 8 + bytes > payload.length) {
        ok = false;
        break;
      }
      parsed.push([table, rows, payload.subarray(p + 8, p + 8 + bytes)]);
      p += 8 + bytes;
    }
    if (!ok) break;
    for (const [table, rows, body] of parsed) {
      counts[table] += rows;
      if (body.length) chunks[table].push(body);
    }
    records++;
    offset = end;
  }
  const tables = {} as SegmentData['tables'];
  for (const table of TABLES) tables[table] = { rows: counts[table], body: Buffer.concat(chunks[table]) };
  const spans = ITEM_TABLES.reduce((n, t) => n + counts[t], 0);
  return { tables, spans, records, tornBytes: buf.length - offset };
}

export async function readSegment(path: string): Promise<SegmentData> {
  return decodeSegment(await readFile(path));
}

export interface SpoolOptions {
  dir: string;
  /** Seal the open segment at this many spans (= rows per insert). */
  maxSegmentSpans: number;
  /**
   * Seal a non-empty open segment this long after its first record, unless `writerBusy`: then it
   * keeps filling until the writer is free (`sealIfAged`) or it is full.
   */
  maxSegmentAgeMs: number;
  /**
   * The writer has segments to insert. A segment sealed then would only wait behind them, and a
   * larger insert costs the engine less per span (fewer parts to write and merge): under load the
   * inserts grow to what the writer can take, up to `maxSegmentSpans` and `maxSegmentBytes`.
   */
  writerBusy?: () => boolean;
  /**
   * Seal the open segment past this many bytes of rows, whatever its spans: its rows are held in
   * memory while it is open, and each table's are one insert body. @default 128 MiB
   */
  maxSegmentBytes?: number;
  onSealed: (segment: SpoolSegment) => void;
  logger: Logger;
  /** Bytes of sealed segments kept in memory for the writer; beyond it they are read back from disk. @default 256 MiB */
  maxMemoryBytes?: number;
}

interface OpenSegment extends SpoolSegment {
  fh: FileHandle;
  parts: Record<TableName, { rows: number; parts: Buffer[] }>;
  /** Bytes of the rows in `parts`, all tables (text lines and RowBinary rows alike). */
  rowBytes: number;
  createdAt: number;
  /** A write failed: nothing more may be appended behind a possibly torn record. */
  broken: boolean;
}

interface PendingAppend {
  parts: Buffer[];
  bytes: number;
  blocks: RecordBlocks;
  spans: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Spool {
  private readonly opts: SpoolOptions;
  private current: OpenSegment | undefined;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private sealRequested = false;
  private closed = false;
  private locked = false;
  private counter = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes in segments on disk (open + sealed, not yet deleted). */
  bytesOnDisk = 0;
  /** Bytes of sealed segments held in memory for the writer. */
  bytesInMemory = 0;

  constructor(opts: SpoolOptions) {
    this.opts = opts;
  }

  /** Creates the directory and returns the segments a previous run left behind, oldest first. */
  async start(): Promise<SpoolSegment[]> {
    await mkdir(join(this.opts.dir, 'failed'), { recursive: true });
    await this.lock();
    const names = (await readdir(this.opts.dir)).filter((n) => n.endsWith(SEGMENT_SUFFIX)).sort();
    const leftovers: SpoolSegment[] = [];
    for (const name of names) {
      const path = join(this.opts.dir, name);
      const data = await readSegment(path);
      const bytes = (await stat(path)).size;
      this.bytesOnDisk += bytes;
      leftovers.push({ id: name.slice(0, -SEGMENT_SUFFIX.length), path, spans: data.spans, bytes });
    }
    const interval = Math.max(10, Math.floor(this.opts.maxSegmentAgeMs / 4));
    this.timer = setInterval(() => this.checkAge(), interval);
    this.timer.unref();
    return leftovers;
  }

  /** Resolves once the rows are durable on disk; only then may the request be acknowledged. */
  append(rows: TableRows): Promise<void> {
    return this.appendBlocks(recordBlocks(rows));
  }

  /** Same, for rows already serialized per table. */
  appendBlocks(blocks: RecordBlocks): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    const parts = recordParts(blocks);
    const bytes = parts.reduce((n, b) => n + b.length, 0);
    const spans = ITEM_TABLES.reduce((n, t) => n + blocks[t].rows, 0);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ parts, bytes, blocks, spans, resolve, reject });
      this.kick();
    });
  }

  /** The writer is done with a segment's in-memory rows. */
  releaseMemory(segment: SpoolSegment): void {
    if (!segment.memory) return;
    this.bytesInMemory -= segment.memory.bytes;
    delete segment.memory;
  }

  /** Deletes an inserted segment. */
  async remove(segment: SpoolSegment): Promise<void> {
    await unlink(segment.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.bytesOnDisk -= segment.bytes;
  }

  /** Moves a segment ClickHouse keeps refusing aside, so it cannot block the ones behind it. */
  async quarantine(segment: SpoolSegment): Promise<string> {
    const target = join(this.opts.dir, 'failed', `${segment.id}${SEGMENT_SUFFIX}`);
    await rename(segment.path, target);
    this.bytesOnDisk -= segment.bytes;
    return target;
  }

  /** Flushes pending appends, seals the open segment and refuses new appends. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.sealRequested = true;
    this.kick();
    while (this.flushing) await this.flushing;
  }

  /**
   * One process per spool directory: another collector would replay (and delete) segments this
   * one is still writing. The lock file names its owner (see lockHeld); a lock whose owner is
   * gone is taken over, so a restart after kill -9 replays by itself.
   */
  private async lock(): Promise<void> {
    const file = join(this.opts.dir, 'LOCK');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(file, lockText(), { flag: 'wx' });
        this.locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = parseLock(await readFile(file, 'utf8').catch(() => ''));
      if (owner && lockHeld(owner)) {
        throw new LlmwatchError(
          'config',
          `ingest.spoolDir ${this.opts.dir} is in use by process ${owner.pid}; give each collector its own spool directory`,
        );
      }
      this.opts.logger.warn({ owner: owner?.pid }, 'taking over the spool lock of a process that is gone');
      await unlink(file).catch(() => undefined);
    }
    throw new LlmwatchError('config', `cannot lock ingest.spoolDir ${this.opts.dir}`);
  }

  /** Releases the directory (after the writer is done with it). */
  async unlock(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await unlink(join(this.opts.dir, 'LOCK')).catch(() => undefined);
  }

  /** Seals the open segment now (after pending appends are on disk). */
  async sealNow(): Promise<void> {
    this.sealRequested = true;
    this.kick();
    while (this.flushing) await this.flushing;
  }

  /** Seals the open segment if it is past its age: the writer calls it when it runs out of work. */
  sealIfAged(): void {
    const seg = this.current;
    if (seg && seg.spans > 0 && Date.now() - seg.createdAt >= this.opts.maxSegmentAgeMs) {
      this.sealRequested = true;
      this.kick();
    }
  }

  private checkAge(): void {
    if (!this.opts.writerBusy?.()) this.sealIfAged();
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      // Work that arrived while the loop was finishing.
      if (this.pending.length || (this.sealRequested && this.current)) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length || (this.sealRequested && this.current)) {
      if (this.pending.length) await this.writeBatch(this.pending.splice(0));
      if (this.sealRequested) {
        this.sealRequested = false;
        await this.seal();
      }
    }
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let seg: OpenSegment | undefined;
    try {
      seg = await this.openSegment();
      const buffers = batch.flatMap((p) => p.parts);
      const total = batch.reduce((n, p) => n + p.bytes, 0);
      const { bytesWritten } = await seg.fh.writev(buffers);
      if (bytesWritten !== total) throw new Error(`short write to spool (${bytesWritten} of ${total} bytes)`);
      await seg.fh.datasync();
      seg.bytes += total;
      this.bytesOnDisk += total;
      for (const p of batch) {
        seg.spans += p.spans;
        for (const table of TABLES) {
          const block = p.blocks[table];
          if (!block.rows) continue;
          seg.parts[table].rows += block.rows;
          seg.parts[table].parts.push(block.buf);
          seg.rowBytes += block.buf.length;
        }
      }
    } catch (error) {
      this.opts.logger.error({ err: errorSummary(error) }, 'spool write failed; requests not acknowledged');
      if (seg) seg.broken = true;
      this.sealRequested = true;
      for (const p of batch) p.reject(error);
      return;
    }
    for (const p of batch) p.resolve();
    if (
      seg.spans >= this.opts.maxSegmentSpans ||
      seg.rowBytes >= (this.opts.maxSegmentBytes ?? 128 * 2 ** 20)
    )
      this.sealRequested = true;
  }

  private async openSegment(): Promise<OpenSegment> {
    if (this.current && !this.current.broken) return this.current;
    if (this.current) await this.seal();
    // Sortable by creation time; unique across processes and restarts.
    const id = `seg-${String(Date.now()).padStart(15, '0')}-${process.pid}-${String(this.counter++).padStart(6, '0')}`;
    const path = join(this.opts.dir, `${id}${SEGMENT_SUFFIX}`);
    const fh = await open(path, 'wx');
    // The new directory entry must survive a crash too.
    const dir = await open(this.opts.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.current = {
      id,
      path,
      spans: 0,
      bytes: 0,
      fh,
      createdAt: Date.now(),
      broken: false,
      parts: Object.fromEntries(
        TABLES.map((t) => [t, { rows: 0, parts: [] }]),
      ) as unknown as OpenSegment['parts'],
      rowBytes: 0,
    };
    return this.current;
  }

  private async seal(): Promise<void> {
    const seg = this.current;
    if (!seg) return;
    this.current = undefined;
    await seg.fh.close().catch(() => undefined);
    if (seg.spans === 0) {
      await this.remove(seg).catch(() => undefined);
      return;
    }
    const sealed: SpoolSegment = { id: seg.id, path: seg.path, spans: seg.spans, bytes: seg.bytes };
    // A broken segment may hold appends that were refused: only its file (CRC-checked) is truth.
    if (!seg.broken && this.bytesInMemory + seg.rowBytes <= (this.opts.maxMemoryBytes ?? 256 * 2 ** 20)) {
      sealed.memory = { tables: seg.parts, bytes: seg.rowBytes };
      this.bytesInMemory += seg.rowBytes;
    }
    this.opts.onSealed(sealed);
  }
}

/** This process, as opposed to an earlier one that had the same pid (PID 1 in a container). */
const PROCESS_TOKEN = randomUUID();

interface LockOwner {
  pid: number;
  /** PROCESS_TOKEN of the owner; absent in locks written before it existed. */
  token?: string;
  /** The owner's start time in clock ticks since boot (Linux /proc), to tell a reused pid. */
  startTime?: string;
}

/** `pid`, process token and start time, one per line. */
function lockText(): string {
  return `${process.pid}\n${PROCESS_TOKEN}\n${processStartTime(process.pid) ?? ''}\n`;
}

export function parseLock(text: string): LockOwner | undefined {
  const [pid, token, startTime] = text.split('\n').map((l) => l.trim());
  const owner = Number(pid);
  if (!Number.isInteger(owner) || owner <= 0) return undefined;
  return { pid: owner, ...(token ? { token } : {}), ...(startTime ? { startTime } : {}) };
}

/**
 * Whether the lock's owner still runs. Our own pid is ours only with our token: a container's
 * collector is PID 1 on every start, and after kill -9 its lock names PID 1 again. Another pid
 * is held only while that process is alive and, where /proc tells, started when the owner did.
 */
export function lockHeld(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return owner.token === PROCESS_TOKEN;
  if (!isAlive(owner.pid)) return false;
  const startTime = owner.startTime && processStartTime(owner.pid);
  return !startTime || startTime === owner.startTime;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function errorSummary(error: unknown): { type: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      type: error.name,
      message: error.message.slice(0, 300),
      ...(code !== undefined ? { code: String(code) } : {}),
    };
  }
  return { type: typeof error, message: String(error).slice(0, 300) };
}
