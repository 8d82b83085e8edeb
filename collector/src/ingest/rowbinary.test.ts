import { seededRandom } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import {
  binaryRowEnd,
  binaryTable,
  isBinaryRow,
  ROW_HEAD_BYTES,
  RowWriter,
  stripHeads,
} from './rowbinary.js';

const writer = new RowWriter();

/** A RowBinary reader for what the tests write. */
class Reader {
  at = ROW_HEAD_BYTES;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.at++]!;
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      shift *= 128;
    }
  }
  string(): string {
    const length = this.varint();
    this.at += length;
    return this.buf.toString('utf8', this.at - length, this.at);
  }
  float32s(): number[] {
    return Array.from({ length: this.varint() }, () => {
      this.at += 4;
      return this.buf.readFloatLE(this.at - 4);
    });
  }
  int64(): bigint {
    this.at += 8;
    return this.buf.readBigInt64LE(this.at - 8);
  }
}

function row(write: (w: RowWriter) => void): Reader {
  const table = binaryTable<null>([['value', (w) => write(w)]], writer);
  const bytes = table.row(null);
  expect(isBinaryRow(bytes, 0)).toBe(true);
  expect(binaryRowEnd(bytes, 0)).toBe(bytes.length);
  return new Reader(bytes);
}

describe('RowWriter', () => {
  it('writes strings of every length as their UTF-8 byte length and bytes, around the one-byte varint boundary', () => {
    const random = seededRandom(3);
    const units = ['a', 'é', '中', '🚀', '\u0000', '"', '\n', '\ud800'];
    const strings: string[] = [];
    for (let length = 0; length < 300; length++)
      for (let k = 0; k < 3; k++)
        strings.push(
          Array.from({ length }, () => units[Math.floor(random() * (k === 0 ? 1 : units.length))]).join(''),
        );
    const reader = row((w) => strings.forEach((s) => w.string(s)));
    for (const s of strings) expect(reader.string()).toBe(Buffer.from(s, 'utf8').toString('utf8'));
    expect(reader.at).toBe(reader.buf.length);
  });

  it('writes the float32 of Math.round(x * 1e7) / 1e7, at every magnitude', () => {
    const random = seededRandom(7);
    const values: number[] = [0, 1, -1, 0.99999995, -0.99999995, 5e-8, -5e-8, 4e-8, 1e-7, 123.4567891, 3e38];
    for (let i = 0; i < 20_000; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 16 - 10));
    expect(row((w) => w.float32s(values)).float32s()).toEqual(
      values.map((x) => Math.fround(Math.round(x * 1e7) / 1e7) || 0),
    );
  });

  it('writes non-finite values and values that round to zero as +0, and a shorter vector after a longer one without its tail', () => {
    const reader = row((w) => {
      w.float32s([Number.NaN, Infinity, -Infinity, -0, -4e-8]);
      w.float32s(Array.from({ length: 2000 }, () => 0.5));
      w.float32s([0.25]);
      w.float32s([]);
    });
    const zeros = reader.buf.subarray(reader.at + 1, reader.at + 21);
    expect(reader.float32s()).toEqual([0, 0, 0, 0, 0]);
    expect(zeros).toEqual(Buffer.alloc(20));
    expect(reader.float32s()).toHaveLength(2000);
    expect(reader.float32s()).toEqual([0.25]);
    expect(reader.float32s()).toEqual([]);
  });

  it('writes 64-bit integers from their decimal digits exactly, short or long', () => {
    const values = [
      '0',
      '1',
      '4294967295',
      '4294967296',
      '999999999999999',
      '1000000000000000',
      '1764547200123456789',
      '9223372036854775807',
    ];
    const reader = row((w) => values.forEach((v) => w.int64(v)));
    for (const v of values) expect(reader.int64()).toBe(BigInt(v));
  });

  it('hands out rows that later rows never overwrite, across slabs and past a slab', () => {
    const texts = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(i * 20_000));
    const rows = texts.map((text) => row((w) => w.string(text)));
    rows.forEach((reader, i) => expect(reader.string()).toBe(texts[i]));
  });

  it('hands the engine its rows without their heads', () => {
    const rows = ['a', '', 'é'.repeat(300)].map((text) => row((w) => w.string(text)).buf);
    const out = Buffer.alloc(rows.reduce((n, r) => n + r.length, 0));
    const written = stripHeads(Buffer.concat(rows), out);
    expect(out.subarray(0, written)).toEqual(Buffer.concat(rows.map((r) => r.subarray(ROW_HEAD_BYTES))));
  });
});
