/**
 * Rows in ClickHouse's RowBinary format, for the rows the writer inserts most (one otel_traces and
 * one llm_calls row per LLM span). The engine reads RowBinary with about half the CPU of CSV, the
 * cheapest text format (`pnpm bench insert-formats`), and the writer needs no escaping: a string
 * is its UTF-8 length as a LEB128 varint, then its bytes.
 *
 * In the spool each row starts with a head of its own: a 0 byte, which no text line of the spool
 * starts with (rows.ts lineFormat), then the row's length after the head (u32 LE), which lets the
 * spool's readers step from row to row without the column types (ingest/dedup.ts). The engine
 * gets the rows without their heads (`stripHeads`): an EPHEMERAL column to carry them cost it ~5
 * µs of its ~25 µs per LLM span (a throwaway measurement, 10,000 spans, eight interleaved rounds).
 */

/** Bytes of a row's head. */
export const ROW_HEAD_BYTES = 5;

/** Whether the row at `start` of `body` is a RowBinary row (its head's first byte is 0). */
export function isBinaryRow(body: Uint8Array, start: number): boolean {
  return body[start] === 0;
}

/** The end of the RowBinary row at `start` of `body`. */
export function binaryRowEnd(body: Buffer, start: number): number {
  return start + ROW_HEAD_BYTES + body.readUInt32LE(start + 1);
}

/**
 * The rows of `body` (RowBinary rows, heads included) as the engine reads them, without their
 * heads, written into `out` (at least as long as `body`); returns the bytes written.
 */
export function stripHeads(body: Buffer, out: Buffer): number {
  let written = 0;
  for (let start = 0; start < body.length;) {
    const end = Math.min(binaryRowEnd(body, start), body.length);
    written += body.copy(out, written, start + ROW_HEAD_BYTES, end);
    start = end;
  }
  return written;
}

/** Float32Array uses the host's byte order; RowBinary is little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;
const TWO_32 = 2 ** 32;
/** Bytes of the slabs rows are written into (see RowWriter). */
const SLAB_BYTES = 1024 * 1024;

/**
 * Writes a row's values one after the other, straight into bytes (no intermediate strings);
 * `row()` hands the finished row out. One writer serves every row of a thread.
 */
export class RowWriter {
  /** Rows are written one after the other into this slab, which is never written over. */
  private buf = Buffer.allocUnsafe(SLAB_BYTES);
  private pos = 0;
  private rowStart = 0;
  private floats = new Float32Array(256);

  /** Starts a row: reserves its head. */
  begin(): void {
    this.rowStart = this.pos;
    this.room(ROW_HEAD_BYTES);
    this.pos += ROW_HEAD_BYTES;
  }

  /**
   * The row begun last, head filled in: a view of the slab, which later rows never overwrite (a
   * full slab is left to the rows that view it), so a row costs no copy and no allocation of its
   * own.
   */
  row(): Buffer {
    const start = this.rowStart;
    this.buf[start] = 0;
    this.buf.writeUInt32LE(this.pos - start - ROW_HEAD_BYTES, start + 1);
    return this.buf.subarray(start, this.pos);
  }

  /** A String (also LowCardinality(String)): varint byte length, then UTF-8. */
  string(s: string): void {
    const n = s.length;
    // At most 3 bytes per UTF-16 unit: under 43 units the length fits the varint's first byte.
    if (n < 43) {
      this.room(1 + n * 3);
      const buf = this.buf;
      const start = this.pos + 1;
      // Most short strings (ids, names, attribute keys) are ASCII: a byte per character, copied
      // here, costs less than a call into Buffer.write (rows 12.0 → 10.3 µs per span, fastest of
      // 25 rounds, a throwaway harness).
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      const written = i === n ? n : i + buf.write(s.slice(i), start + i, 'utf8');
      buf[this.pos] = written;
      this.pos = start + written;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.room(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  /** An array or map's length, or a string's byte length. */
  varint(n: number): void {
    this.room(10);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  uint8(n: number): void {
    this.room(1);
    this.buf[this.pos++] = n;
  }

  bool(b: boolean): void {
    this.uint8(b ? 1 : 0);
  }

  uint16(n: number): void {
    this.room(2);
    this.pos = this.buf.writeUInt16LE(n, this.pos);
  }

  uint32(n: number): void {
    this.room(4);
    this.pos = this.buf.writeUInt32LE(n, this.pos);
  }

  /** A UInt64 or Int64 from decimal digits (nanoseconds: beyond a double's exact integers). */
  int64(digits: string): void {
    this.room(8);
    // Up to 15 digits is exact as a double: no BigInt for the usual durations.
    if (digits.length <= 15) {
      const n = Number(digits);
      this.buf.writeUInt32LE(n % TWO_32, this.pos);
      this.buf.writeUInt32LE(Math.floor(n / TWO_32), this.pos + 4);
      this.pos += 8;
      return;
    }
    this.pos = this.buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(digits)), this.pos);
  }

  float64(n: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(n, this.pos);
  }

  /** Nullable(Float64): a null flag byte, then the value when there is one. */
  nullableFloat64(n: number | null): void {
    if (n === null) return this.uint8(1);
    this.uint8(0);
    this.float64(n);
  }

  /**
   * Array(Float32) of `values`, each first rounded to 7 decimals (non-finite as 0): the values the
   * text rows of earlier versions held, so stored vectors did not change with the format.
   */
  float32s(values: readonly number[]): void {
    const n = values.length;
    this.varint(n);
    if (this.floats.length < n) this.floats = new Float32Array(n);
    const floats = this.floats;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      const rounded = Number.isFinite(x) ? Math.round(x * 1e7) : 0;
      // `rounded === 0` also for -0, which the text wrote as `0`.
      floats[i] = rounded === 0 ? 0 : rounded / 1e7;
    }
    const bytes = new Uint8Array(floats.buffer, 0, n * 4);
    this.room(n * 4);
    this.buf.set(bytes, this.pos);
    if (!HOST_LITTLE_ENDIAN) this.buf.subarray(this.pos, this.pos + n * 4).swap32();
    this.pos += n * 4;
  }

  /** Array(String) (also Array(LowCardinality(String))). */
  strings(values: readonly string[]): void {
    this.varint(values.length);
    for (const value of values) this.string(value);
  }

  /** Map(String, String) of `m`, each value as text by `text`, without the keys in `omit`. */
  map<V>(m: Readonly<Record<string, V>>, text: (value: V) => string, omit: readonly string[] = []): void {
    let n = 0;
    for (const key in m) if (omit.length === 0 || !omit.includes(key)) n++;
    this.varint(n);
    for (const key in m) {
      if (omit.length > 0 && omit.includes(key)) continue;
      this.string(key);
      this.string(text(m[key]!));
    }
  }

  /** Where the row in progress is: to copy a field of it for later rows (see `since`). */
  get position(): number {
    return this.pos - this.rowStart;
  }

  /** The bytes the row in progress got since `position` was `from`, copied out (for `bytes`). */
  since(from: number): Buffer {
    return Buffer.from(this.buf.subarray(this.rowStart + from, this.pos));
  }

  /** Appends bytes written before (a field cached by `since`). */
  bytes(b: Buffer): void {
    this.room(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  /** Room for `n` more bytes of the row in progress: a new slab when this one is full. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const rowBytes = this.pos - this.rowStart;
    const slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (rowBytes + n)));
    this.buf.copy(slab, 0, this.rowStart, this.pos);
    this.buf = slab;
    this.rowStart = 0;
    this.pos = rowBytes;
  }
}

/**
 * A table's RowBinary rows: each column next to the function that writes it, so the column list
 * sent with the insert and the fields of a row cannot disagree.
 */
export interface BinaryTable<T> {
  columns: readonly string[];
  /** The row of `value`, its head first. */
  row(value: T): Buffer;
}

export function binaryTable<T>(
  spec: ReadonlyArray<readonly [column: string, write: (w: RowWriter, value: T) => void]>,
  writer: RowWriter,
): BinaryTable<T> {
  const writers = spec.map(([, write]) => write);
  return {
    columns: spec.map(([column]) => column),
    row(value: T): Buffer {
      writer.begin();
      for (let i = 0; i < writers.length; i++) writers[i]!(writer, value);
      return writer.row();
    },
  };
}
