import { describe, expect, it } from 'vitest';
import { decodeJson, decodeProtobuf } from './decode.js';
import { DEFAULT_INGEST_LIMITS } from './limits.js';
import { ExportTraceServiceRequest, SpanMessage } from './otlp-proto.js';

interface Encoder {
  fromObject(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
}
const encode = (type: unknown, object: unknown): Buffer => {
  const encoder = type as Encoder;
  return Buffer.from(encoder.encode(encoder.fromObject(object)).finish());
};

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
const field = (number: number, bytes: Buffer): Buffer =>
  Buffer.concat([Buffer.from([(number << 3) | 2, ...varint(bytes.length)]), bytes]);

/**
 * An AnyValue of `depth` nested array_values around "x", written outside-in into one buffer
 * (wrapping level by level would copy the growing value `depth` times).
 */
function deepAnyValue(depth: number): Buffer {
  const inner = Buffer.from([0x0a, 0x01, 0x78]); // string_value "x"
  const anySize = [inner.length];
  const arraySize = [0];
  for (let i = 1; i <= depth; i++) {
    arraySize[i] = 1 + varint(anySize[i - 1]!).length + anySize[i - 1]!;
    anySize[i] = 1 + varint(arraySize[i]!).length + arraySize[i]!;
  }
  const out = Buffer.alloc(anySize[depth]!);
  let pos = 0;
  for (let i = depth; i >= 1; i--) {
    // AnyValue.array_value (5) → ArrayValue.values (1) → the next AnyValue.
    for (const b of [0x2a, ...varint(arraySize[i]!), 0x0a, ...varint(anySize[i - 1]!)]) out[pos++] = b;
  }
  inner.copy(out, pos);
  return out;
}

const NOW = BigInt(Date.now()) * 1_000_000n;
const span = (n: number) => ({
  traceId: Buffer.from(n.toString(16).padStart(32, '0'), 'hex'),
  spanId: Buffer.from(n.toString(16).padStart(16, '0'), 'hex'),
  name: `span ${n}`,
  startTimeUnixNano: String(NOW),
  endTimeUnixNano: String(NOW + 1_000n),
});

describe('decodeProtobuf', () => {
  it('a 100k-deep value rejects only its span, not the request with a stack overflow', () => {
    const good = encode(ExportTraceServiceRequest, {
      resourceSpans: [{ scopeSpans: [{ spans: [span(1), span(2)] }] }],
    });
    // Span 3 carries attribute "deep" = 100 000 nested arrays (Span.attributes is field 9).
    const deepSpan = Buffer.concat([
      encode(SpanMessage, span(3)),
      field(9, Buffer.concat([field(1, Buffer.from('deep')), field(2, deepAnyValue(100_000))])),
    ]);
    // Concatenated messages merge: a second resource_spans entry in the same export.
    const body = Buffer.concat([
      good,
      field(1, field(2, field(2, deepSpan))),
      field(1, field(2, field(2, encode(SpanMessage, span(4))))),
    ]);
    expect(() => ExportTraceServiceRequest.decode(body)).toThrow(RangeError);

    const result = decodeProtobuf(body, DEFAULT_INGEST_LIMITS);
    expect(result.spans.map((s) => s.name)).toEqual(['span 1', 'span 2', 'span 4']);
    expect(result.rejected).toBe(1);
    expect(result.rejectedByReason).toEqual({ invalid_field: 1 });
    expect(result.errorMessage).toMatch(
      /^resourceSpans\[1\]\.scopeSpans\[0\]\.spans\[0\]: cannot be decoded/,
    );
    expect(result.errorMessage).not.toMatch(/at /);
  });
});

describe('span validation', () => {
  const good = {
    traceId: '0AF7651916CD43DD8448EB211C80319C',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    name: 'chat',
    kind: 'SPAN_KIND_CLIENT',
    startTimeUnixNano: String(NOW),
    endTimeUnixNano: String(NOW + 1_000n),
    status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
  };
  const decodeSpans = (spans: unknown[]) =>
    decodeJson(
      Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] })),
      DEFAULT_INGEST_LIMITS,
    );

  it('keeps a valid span with its ids in lower case and its enums by name', () => {
    const result = decodeSpans([good, { ...good, kind: 2, status: { code: 1 } }]);
    expect(result.rejected).toBe(0);
    expect(result.spans.map((s) => [s.traceId, s.kind, s.statusCode, s.statusMessage])).toEqual([
      ['0af7651916cd43dd8448eb211c80319c', 'Client', 'Error', 'boom'],
      ['0af7651916cd43dd8448eb211c80319c', 'Server', 'Ok', ''],
    ]);
  });

  it.each([
    ['traceId', { traceId: 'abc' }, 'invalid_trace_id', 'must be 16 bytes (32 hex chars)'],
    ['traceId', { traceId: '0'.repeat(32) }, 'invalid_trace_id', 'must not be all zero'],
    ['traceId', { traceId: 42 }, 'invalid_trace_id', 'must be 16 bytes of hex, not number'],
    ['spanId', { spanId: 'xyz0000000000000' }, 'invalid_span_id', 'must be 8 bytes (16 hex chars)'],
    ['parentSpanId', { parentSpanId: '0'.repeat(16) }, 'invalid_span_id', 'must not be all zero'],
    ['name', { name: 7 }, 'invalid_field', 'must be a string, not number'],
    ['traceState', { traceState: ['a'] }, 'invalid_field', 'must be a string, not an array'],
    ['kind', { kind: 'SPAN_KIND_BOGUS' }, 'invalid_field', 'must be an integer from 0 to 5'],
    ['kind', { kind: 6 }, 'invalid_field', 'must be an integer from 0 to 5'],
    [
      'startTimeUnixNano',
      { startTimeUnixNano: '-5' },
      'invalid_time',
      'must be a positive integer of nanoseconds',
    ],
    [
      'endTimeUnixNano',
      { endTimeUnixNano: '9223372036854775808' },
      'invalid_time',
      'must be before 2262-04-11',
    ],
    ['statusCode', { status: { code: 3 } }, 'invalid_field', 'must be an integer from 0 to 2'],
    ['statusMessage', { status: { message: null, code: 0 }, name: 'ok' }, undefined, undefined],
  ])('%s: %j', (field, change, reason, message) => {
    const result = decodeSpans([{ ...good, ...change }, good]);
    expect(result.spans).toHaveLength(reason ? 1 : 2);
    if (!reason) return;
    expect(result.rejectedByReason).toEqual({ [reason]: 1 });
    expect(result.errorMessage).toBe(
      `1 span(s) rejected: resourceSpans[0].scopeSpans[0].spans[0].${field}: ${message}`,
    );
  });

  it('names the first bad field of a span, and the span that is not an object', () => {
    const result = decodeSpans([{ ...good, spanId: '', endTimeUnixNano: 'x' }, 'not a span']);
    expect(result.rejectedByReason).toEqual({ invalid_span_id: 1, invalid_field: 1 });
    expect(result.errorMessage).toBe(
      '2 span(s) rejected: resourceSpans[0].scopeSpans[0].spans[0].spanId: must be 8 bytes (16 hex chars); ' +
        'resourceSpans[0].scopeSpans[0].spans[1]: not an object',
    );
  });
});
