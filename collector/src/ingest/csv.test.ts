import { seededRandom } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { roundedFloats } from './csv.js';

describe('roundedFloats', () => {
  it('writes the numbers Math.round(x * 1e7) / 1e7 denotes, at every magnitude', () => {
    const random = seededRandom(7);
    const values: number[] = [0, -0, 1, -1, 0.99999995, -0.99999995, 5e-8, -5e-8, 4e-8, 1e-7, 123.4567891];
    for (let i = 0; i < 20_000; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 16 - 10));
    const text = roundedFloats(values);
    expect(text.startsWith('"[') && text.endsWith(']"')).toBe(true);
    const written = text.slice(2, -2).split(',').map(Number);
    expect(written).toEqual(values.map((x) => Math.round(x * 1e7) / 1e7 || 0));
  });

  it('writes no trailing zeros (they only cost the engine parsing)', () => {
    expect(roundedFloats([0.1, -0.25, 0.0421, 1e-7, -0.99999994])).toBe(
      '"[0.1,-0.25,0.0421,0.0000001,-0.9999999]"',
    );
  });

  it('writes non-finite values as 0 and an empty vector as []', () => {
    expect(roundedFloats([Number.NaN, Infinity, -Infinity])).toBe('"[0,0,0]"');
    expect(roundedFloats([])).toBe('"[]"');
  });
});
