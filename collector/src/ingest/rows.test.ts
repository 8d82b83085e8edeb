import type { Attributes } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../../packages/core/test/decoded-span.js';
import { traceRow } from './rows.js';

describe('traceRow', () => {
  it("writes each span's own resource when exports follow one another (the field is reused only for the same resource object)", () => {
    const first: Attributes = { 'service.name': 'checkout', 'host.name': 'a' };
    const second: Attributes = { 'service.name': 'checkout', 'host.name': 'b' };
    const rows = [first, first, second, first].map((resource, i) =>
      traceRow('p', decodedSpan({ spanId: String(i).padStart(16, '0'), resource })),
    );
    // RowBinary: each string is its length, then its bytes.
    const entry = (value: string) => Buffer.from(`\x09host.name\x01${value}`, 'latin1');
    expect(rows.map((r) => r.includes(entry('a')))).toEqual([true, true, false, true]);
    expect(rows.map((r) => r.includes(entry('b')))).toEqual([false, false, true, false]);
  });
});
