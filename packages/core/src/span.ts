/**
 * A span as the collector sees it after OTLP decoding, before normalization. Independent of the
 * wire format (protobuf or JSON) so normalization, PII scanning and storage share one shape.
 */
export type AttributeValue =
  string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;
export type Attributes = Record<string, AttributeValue>;

/** OTLP span kinds, by their ClickHouse-exporter names. */
export type SpanKindName = 'Unspecified' | 'Internal' | 'Server' | 'Client' | 'Producer' | 'Consumer';
export type SpanStatusName = 'Unset' | 'Ok' | 'Error';

export interface DecodedSpanEvent {
  name: string;
  timeUnixNano: string;
  attributes: Attributes;
}

export interface DecodedSpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

export interface DecodedSpan {
  /** Lower-case hex, 32 chars. */
  traceId: string;
  /** Lower-case hex, 16 chars. */
  spanId: string;
  /** Lower-case hex or '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: SpanKindName;
  /** Epoch nanoseconds as decimal strings: exact, unlike a JS number. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attributes;
  resource: Attributes;
  scopeName: string;
  scopeVersion: string;
  statusCode: SpanStatusName;
  statusMessage: string;
  events: DecodedSpanEvent[];
  links: DecodedSpanLink[];
}
