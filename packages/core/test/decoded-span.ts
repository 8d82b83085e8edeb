import type { DecodedSpan } from '../src/span.js';

/** A decoded span as ingest/decode.ts hands it on: an empty one-second client span, with `fields` over it. */
export function decodedSpan(fields: Partial<DecodedSpan> = {}): DecodedSpan {
  return {
    traceId: '0'.repeat(31) + '1',
    spanId: '0'.repeat(15) + '1',
    parentSpanId: '',
    traceState: '',
    name: 'chat',
    kind: 'Client',
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001000000000',
    attributes: {},
    resource: { 'service.name': 'svc' },
    scopeName: '',
    scopeVersion: '',
    statusCode: 'Unset',
    statusMessage: '',
    events: [],
    links: [],
    ...fields,
  };
}
