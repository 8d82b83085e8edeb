import type { Attributes, DecodedSpan } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { traceRow } from './rows.js';

function span(resource: Attributes, spanId: string): DecodedSpan {
  return {
    traceId: 'a'.repeat(32),
    spanId,
    parentSpanId: '',
    traceState: '',
    name: 'chat',
    kind: 'Client',
    startTimeUnixNano: '1764547200000000000',
    endTimeUnixNano: '1764547201000000000',
    attributes: {},
    resource,
    scopeName: '',
    scopeVersion: '',
    statusCode: 'Unset',
    statusMessage: '',
    events: [],
    links: [],
  };
}

describe('traceRow', () => {
  it("writes each span's own resource when exports follow one another (the field is reused only for the same resource object)", () => {
    const first: Attributes = { 'service.name': 'checkout', 'host.name': 'a' };
    const second: Attributes = { 'service.name': 'checkout', 'host.name': 'b' };
    const rows = [span(first, '1'), span(first, '2'), span(second, '3'), span(first, '4')].map((s) =>
      traceRow('p', s),
    );
    expect(rows.map((r) => r.includes(`'host.name':'a'`))).toEqual([true, true, false, true]);
    expect(rows.map((r) => r.includes(`'host.name':'b'`))).toEqual([false, false, true, false]);
  });
});
