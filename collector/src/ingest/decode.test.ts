import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from './decode.js';
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
