import { seededRandom } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { float32Base64 } from './csv.js';

/** The float32 values of a `float32Base64` field. */
function decoded(field: string): number[] {
  expect(field.startsWith('"') && field.endsWith('"')).toBe(true);
  const bytes = Buffer.from(field.slice(1, -1), 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

describe('float32Base64', () => {
  it('writes the float32 of Math.round(x * 1e7) / 1e7, at every magnitude', () => {
    const random = seededRandom(7);
    const values: number[] = [0, 1, -1, 0.99999995, -0.99999995, 5e-8, -5e-8, 4e-8, 1e-7, 123.4567891, 3e38];
    for (let i = 0; i < 20_000; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 16 - 10));
    expect(decoded(float32Base64(values))).toEqual(
      values.map((x) => Math.fround(Math.round(x * 1e7) / 1e7) || 0),
    );
  });

  it('writes non-finite values and values that round to zero as +0, and an empty vector as ""', () => {
    const field = float32Base64([Number.NaN, Infinity, -Infinity, -0, -4e-8]);
    expect(Buffer.from(field.slice(1, -1), 'base64')).toEqual(Buffer.alloc(20));
    expect(float32Base64([])).toBe('""');
  });

  it('writes a shorter vector after a longer one without its tail', () => {
    float32Base64(Array.from({ length: 2000 }, () => 0.5));
    expect(decoded(float32Base64([0.25]))).toEqual([0.25]);
  });
});
