import type {
  AttributeValue,
  Attributes,
  DecodedSpan,
  DecodedSpanEvent,
  DecodedSpanLink,
  SpanKindName,
  SpanStatusName,
} from '@llmwatch/core';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import type { IngestLimits } from './limits.js';
import protobuf from 'protobufjs';
import {
  ExportTraceServiceRequest,
  ResourceMessage,
  ScopeMessage,
  SpanMessage,
  type ProtoMessageType,
} from './otlp-proto.js';

/**
 * OTLP decoding: protobuf (generated protobufjs decoders) and OTLP/JSON share one walker over
 * the message tree, so both wire formats produce the same `DecodedSpan`s and the same rejects.
 * A span is validated on its own: one bad span is counted in `partial_success`, its neighbours
 * are kept. Only a body that cannot be decoded at all is a 400.
 */

/** Why a span was rejected; low-cardinality, used as a metric label. */
export type RejectReason = 'invalid_trace_id' | 'invalid_span_id' | 'invalid_time' | 'invalid_field';

export interface DecodeStats {
  /** Attributes dropped over a limit or for a malformed value. */
  droppedAttributes: number;
  /** String values cut at maxAttributeValueLength. */
  truncatedValues: number;
  droppedEvents: number;
  droppedLinks: number;
}

export interface DecodeResult {
  spans: DecodedSpan[];
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Human-readable summary of the first few rejects, '' when none. */
  errorMessage: string;
  stats: DecodeStats;
}

export function decodeProtobuf(body: Uint8Array, limits: IngestLimits): DecodeResult {
  let message: unknown;
  // protobufjs decodes strings of a Buffer with Node's decoder (invalid UTF-8 → U+FFFD); for a
  // plain Uint8Array (e.g. after crossing to a worker) it uses its own, which mangles them.
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    message = ExportTraceServiceRequest.decode(buf);
  } catch (cause) {
    // The generated decoders recurse once per nesting level: a value nested ~100k deep overflows
    // the stack. Decoded one span at a time, only the spans holding such a value are lost.
    if (cause instanceof RangeError) return decodeSpanBySpan(buf, limits);
    throw new LlmwatchError(
      'bad_request',
      `body is not an OTLP ExportTraceServiceRequest: ${errorText(cause)}`,
      {
        cause,
      },
    );
  }
  return walkExport(message, limits);
}

/**
 * The export's envelope (resource spans → scope spans → spans) read by hand, iteratively, and
 * each resource, scope and span decoded on its own: one that cannot be decoded is rejected with
 * the spans it covers, the rest go through the usual walker.
 */
function decodeSpanBySpan(buf: Buffer, limits: IngestLimits): DecodeResult {
  const undecodable: string[] = [];
  let lost = 0;
  const decodeOne = (type: ProtoMessageType<unknown>, bytes: Uint8Array, where: string, spans: number) => {
    try {
      return type.decode(bytes);
    } catch (cause) {
      lost += spans;
      undecodable.push(`${where}: cannot be decoded (${errorText(cause)})`);
      return undefined;
    }
  };
  const resourceSpans: unknown[] = [];
  let ri = 0;
  try {
    for (const [field, rsBytes] of lenFields(buf)) {
      if (field !== 1) continue;
      const where = `resourceSpans[${ri++}]`;
      const fields = lenFields(rsBytes);
      const scopeFields = fields.filter(([f]) => f === 2).map(([, b]) => lenFields(b));
      const spanCount = (scope: [number, Uint8Array][]) => scope.filter(([f]) => f === 2).length;
      const resourceBytes = fields.find(([f]) => f === 1)?.[1];
      const resource = resourceBytes
        ? decodeOne(
            ResourceMessage,
            resourceBytes,
            `${where}.resource`,
            scopeFields.reduce((n, s) => n + spanCount(s), 0),
          )
        : {};
      if (resource === undefined) continue;
      const scopeSpans = scopeFields.map((scope, si) => {
        const scopeBytes = scope.find(([f]) => f === 1)?.[1];
        const decodedScope = scopeBytes
          ? decodeOne(ScopeMessage, scopeBytes, `${where}.scopeSpans[${si}].scope`, spanCount(scope))
          : {};
        if (decodedScope === undefined) return { spans: [] };
        const spans = scope
          .filter(([f]) => f === 2)
          .map(([, b], pi) => decodeOne(SpanMessage, b, `${where}.scopeSpans[${si}].spans[${pi}]`, 1))
          .filter((span) => span !== undefined);
        return { scope: decodedScope, spans };
      });
      resourceSpans.push({ resource, scopeSpans });
    }
  } catch (cause) {
    throw new LlmwatchError(
      'bad_request',
      `body is not an OTLP ExportTraceServiceRequest: ${errorText(cause)}`,
      {
        cause,
      },
    );
  }
  const result = walkExport({ resourceSpans }, limits);
  result.rejected += lost;
  result.rejectedByReason.invalid_field = (result.rejectedByReason.invalid_field ?? 0) + lost;
  result.errorMessage = [...undecodable.slice(0, 5), result.errorMessage].filter(Boolean).join('; ');
  return result;
}

/** The length-delimited fields of a message as (field number, bytes); other wire types skipped. */
function lenFields(bytes: Uint8Array): [number, Uint8Array][] {
  const reader = protobuf.Reader.create(bytes);
  const out: [number, Uint8Array][] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if ((tag & 7) === 2) out.push([tag >>> 3, reader.bytes()]);
    else reader.skipType(tag & 7);
  }
  return out;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

const envelopeSchema = z.object({ resourceSpans: z.array(z.unknown()).nullish() });

export function decodeJson(body: Uint8Array, limits: IngestLimits): DecodeResult {
  let parsed: unknown;
  try {
    // Invalid UTF-8 becomes U+FFFD here rather than failing the request.
    parsed = JSON.parse(textDecoder.decode(body));
  } catch (cause) {
    throw new LlmwatchError('bad_request', `body is not valid JSON: ${errorText(cause)}`, { cause });
  }
  const envelope = envelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    throw new LlmwatchError(
      'bad_request',
      `body is not an OTLP/JSON ExportTraceServiceRequest: ${envelope.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return walkExport(parsed, limits);
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// ---- per-span validation over ids/times already brought to their text form ----

/** DateTime64(9) ends at 2262-04-11 (int64 nanoseconds). */
const MAX_NANOS = '9223372036854775807';
export function nanosInRange(s: string): boolean {
  return s.length < 19 || (s.length === 19 && s <= MAX_NANOS);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;
const NANOS = /^[1-9][0-9]{0,18}$/;

/** A span's fields checked before it is kept, in the order a reject names the first bad one. */
interface SpanCore {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  statusCode: number;
  statusMessage: string;
}

/** Why `value` is not a valid trace or span id ('' when it is): the check's message of a reject. */
function idProblem(value: unknown, pattern: RegExp, bytes: number): string {
  if (typeof value !== 'string') return `must be ${bytes} bytes of hex, not ${typeName(value)}`;
  if (!pattern.test(value)) return `must be ${bytes} bytes (${bytes * 2} hex chars)`;
  return ALL_ZERO.test(value) ? 'must not be all zero' : '';
}

function nanosProblem(value: unknown): string {
  if (typeof value !== 'string' || !NANOS.test(value)) return 'must be a positive integer of nanoseconds';
  return nanosInRange(value) ? '' : 'must be before 2262-04-11';
}

function enumProblem(value: unknown, max: number): string {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
    ? ''
    : `must be an integer from 0 to ${max}`;
}

function textProblem(value: unknown): string {
  return typeof value === 'string' ? '' : `must be a string, not ${typeName(value)}`;
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** The first field of `core` that is not valid, and why; undefined when the span can be kept. */
function spanCoreProblem(
  core: Record<keyof SpanCore, unknown>,
): { field: keyof SpanCore; message: string } | undefined {
  let message: string;
  if ((message = idProblem(core.traceId, TRACE_ID, 16))) return { field: 'traceId', message };
  if ((message = idProblem(core.spanId, SPAN_ID, 8))) return { field: 'spanId', message };
  if (core.parentSpanId !== '' && (message = idProblem(core.parentSpanId, SPAN_ID, 8)))
    return { field: 'parentSpanId', message };
  if ((message = textProblem(core.traceState))) return { field: 'traceState', message };
  if ((message = textProblem(core.name))) return { field: 'name', message };
  if ((message = enumProblem(core.kind, 5))) return { field: 'kind', message };
  if ((message = nanosProblem(core.startTimeUnixNano))) return { field: 'startTimeUnixNano', message };
  if ((message = nanosProblem(core.endTimeUnixNano))) return { field: 'endTimeUnixNano', message };
  if ((message = enumProblem(core.statusCode, 2))) return { field: 'statusCode', message };
  if ((message = textProblem(core.statusMessage))) return { field: 'statusMessage', message };
  return undefined;
}

const REASON_BY_FIELD: Partial<Record<keyof SpanCore, RejectReason>> = {
  traceId: 'invalid_trace_id',
  spanId: 'invalid_span_id',
  parentSpanId: 'invalid_span_id',
  startTimeUnixNano: 'invalid_time',
  endTimeUnixNano: 'invalid_time',
};

const KIND_NAMES: readonly SpanKindName[] = [
  'Unspecified',
  'Internal',
  'Server',
  'Client',
  'Producer',
  'Consumer',
];
const STATUS_NAMES: readonly SpanStatusName[] = ['Unset', 'Ok', 'Error'];
const KIND_ENUM: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_ENUM: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

// ---- the walker ----

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export interface WalkState {
  limits: IngestLimits;
  stats: DecodeStats;
  /** Values left in the current span's walk budget. */
  budget: number;
}

function walkExport(message: unknown, limits: IngestLimits): DecodeResult {
  const result: DecodeResult = {
    spans: [],
    rejected: 0,
    rejectedByReason: {},
    errorMessage: '',
    stats: { droppedAttributes: 0, truncatedValues: 0, droppedEvents: 0, droppedLinks: 0 },
  };
  const st: WalkState = { limits, stats: result.stats, budget: 0 };
  const messages: string[] = [];
  const reject = (reason: RejectReason, count: number, text: string): void => {
    result.rejected += count;
    result.rejectedByReason[reason] = (result.rejectedByReason[reason] ?? 0) + count;
    if (messages.length < 5) messages.push(text);
  };

  const resourceSpans = isObj(message) ? list(message.resourceSpans) : [];
  for (const [ri, rs] of resourceSpans.entries()) {
    if (!isObj(rs)) continue;
    const scopeSpans = list(rs.scopeSpans ?? rs.instrumentationLibrarySpans);
    st.budget = limits.maxValuesPerSpan;
    const resource = attributes(isObj(rs.resource) ? rs.resource.attributes : undefined, st, 0);
    for (const [si, ss] of scopeSpans.entries()) {
      if (!isObj(ss)) continue;
      const scope = isObj(ss.scope)
        ? ss.scope
        : isObj(ss.instrumentationLibrary)
          ? ss.instrumentationLibrary
          : {};
      const scopeName = typeof scope.name === 'string' ? clean(scope.name, st) : '';
      const scopeVersion = typeof scope.version === 'string' ? clean(scope.version, st) : '';
      const spans = list(ss.spans);
      for (let pi = 0; pi < spans.length; pi++) {
        const raw = spans[pi];
        if (!isObj(raw)) {
          reject('invalid_field', 1, `${spanPath(ri, si, pi)}: not an object`);
          continue;
        }
        const status = isObj(raw.status) ? raw.status : {};
        const core = {
          traceId: idText(raw.traceId),
          spanId: idText(raw.spanId),
          parentSpanId: idText(raw.parentSpanId),
          traceState: raw.traceState ?? '',
          name: raw.name ?? '',
          kind: enumValue(raw.kind, KIND_ENUM),
          startTimeUnixNano: nanosText(raw.startTimeUnixNano),
          endTimeUnixNano: nanosText(raw.endTimeUnixNano),
          statusCode: enumValue(status.code, STATUS_ENUM),
          statusMessage: status.message ?? '',
        };
        const problem = spanCoreProblem(core);
        if (problem) {
          reject(
            REASON_BY_FIELD[problem.field] ?? 'invalid_field',
            1,
            `${spanPath(ri, si, pi)}.${problem.field}: ${problem.message}`,
          );
          continue;
        }
        const c = core as SpanCore;
        st.budget = limits.maxValuesPerSpan;
        result.spans.push({
          traceId: c.traceId,
          spanId: c.spanId,
          parentSpanId: c.parentSpanId,
          traceState: clean(c.traceState, st),
          name: clean(c.name, st),
          kind: KIND_NAMES[c.kind] ?? 'Unspecified',
          startTimeUnixNano: c.startTimeUnixNano,
          endTimeUnixNano: c.endTimeUnixNano,
          attributes: attributes(raw.attributes, st, 0),
          resource,
          scopeName,
          scopeVersion,
          statusCode: STATUS_NAMES[c.statusCode] ?? 'Unset',
          statusMessage: clean(c.statusMessage, st),
          events: events(raw.events, st),
          links: links(raw.links, st),
        });
      }
    }
  }
  if (result.rejected > 0) {
    const more = result.rejected > messages.length ? ` (and ${result.rejected - messages.length} more)` : '';
    result.errorMessage = `${result.rejected} span(s) rejected: ${messages.join('; ')}${more}`;
  }
  return result;
}

function spanPath(ri: number, si: number, pi: number): string {
  return `resourceSpans[${ri}].scopeSpans[${si}].spans[${pi}]`;
}

function events(v: unknown, st: WalkState): DecodedSpanEvent[] {
  const out: DecodedSpanEvent[] = [];
  for (const e of list(v)) {
    if (!isObj(e)) continue;
    if (out.length >= st.limits.maxEventsPerSpan) {
      st.stats.droppedEvents++;
      continue;
    }
    const time = nanosText(e.timeUnixNano);
    out.push({
      name: typeof e.name === 'string' ? clean(e.name, st) : '',
      timeUnixNano: typeof time === 'string' && /^[0-9]{1,19}$/.test(time) && nanosInRange(time) ? time : '0',
      attributes: attributes(e.attributes, st, 0),
    });
  }
  return out;
}

function links(v: unknown, st: WalkState): DecodedSpanLink[] {
  const out: DecodedSpanLink[] = [];
  for (const l of list(v)) {
    if (!isObj(l)) continue;
    const traceId = idText(l.traceId);
    const spanId = idText(l.spanId);
    if (
      out.length >= st.limits.maxLinksPerSpan ||
      typeof traceId !== 'string' ||
      typeof spanId !== 'string'
    ) {
      st.stats.droppedLinks++;
      continue;
    }
    out.push({
      traceId: /^[0-9a-f]{32}$/.test(traceId) ? traceId : '',
      spanId: /^[0-9a-f]{16}$/.test(spanId) ? spanId : '',
      traceState: typeof l.traceState === 'string' ? clean(l.traceState, st) : '',
      attributes: attributes(l.attributes, st, 0),
    });
  }
  return out;
}

/** OTLP KeyValue list → attributes. Null-prototype object: a `__proto__` key is just a key. */
export function attributes(v: unknown, st: WalkState, depth: number): Attributes {
  const out = Object.create(null) as Attributes;
  let kept = 0;
  for (const kv of list(v)) {
    if (!isObj(kv) || typeof kv.key !== 'string' || kv.key === '') {
      st.stats.droppedAttributes++;
      continue;
    }
    if (kept >= st.limits.maxAttributesPerSpan || st.budget <= 0) {
      st.stats.droppedAttributes++;
      continue;
    }
    const value = anyValue(kv.value, st, depth);
    if (value === undefined) {
      st.stats.droppedAttributes++;
      continue;
    }
    const key = clean(kv.key, st);
    if (!(key in out)) kept++;
    out[key] = value;
  }
  return out;
}

/** OTLP AnyValue → AttributeValue; undefined when malformed or over a limit (the caller drops it). */
export function anyValue(v: unknown, st: WalkState, depth: number): AttributeValue | undefined {
  if (--st.budget < 0) return undefined;
  if (v === null || v === undefined) return null;
  if (!isObj(v)) return undefined;
  if (v.stringValue != null) return typeof v.stringValue === 'string' ? clean(v.stringValue, st) : undefined;
  if (v.boolValue != null) return typeof v.boolValue === 'boolean' ? v.boolValue : undefined;
  if (v.intValue != null) return intValue(v.intValue);
  if (v.doubleValue != null) {
    const d = v.doubleValue;
    if (typeof d === 'number') return Number.isFinite(d) ? d : String(d);
    // OTLP/JSON writes non-finite doubles as strings.
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return d;
    if (typeof d === 'string' && d.trim() !== '' && Number.isFinite(Number(d))) return Number(d);
    return undefined;
  }
  if (v.arrayValue != null || v.kvlistValue != null) {
    if (depth >= st.limits.maxAttributeDepth) return undefined;
    if (v.arrayValue != null) {
      if (!isObj(v.arrayValue)) return undefined;
      const out: AttributeValue[] = [];
      for (const item of list(v.arrayValue.values)) {
        const value = anyValue(item, st, depth + 1);
        if (value === undefined) st.stats.droppedAttributes++;
        else out.push(value);
      }
      return out;
    }
    if (!isObj(v.kvlistValue)) return undefined;
    return attributes(v.kvlistValue.values, st, depth + 1);
  }
  if (v.bytesValue != null) {
    const b = v.bytesValue;
    if (b instanceof Uint8Array)
      return clean(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'), st);
    return typeof b === 'string' ? clean(b, st) : undefined;
  }
  // An empty AnyValue is a valid "no value".
  return null;
}

export function intValue(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string') {
    if (!/^-?[0-9]{1,20}$/.test(v)) return undefined;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (isLong(v)) {
    const text = v.toString();
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  return undefined;
}

function isLong(v: unknown): v is { low: number; high: number; toString(): string } {
  return isObj(v) && typeof v.low === 'number' && typeof v.high === 'number';
}

/** Ids: protobuf bytes → lower-case hex; OTLP/JSON hex text → lower case. Others pass to the span check as they are. */
export function idText(v: unknown): unknown {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (typeof v === 'string') return v.toLowerCase();
  return v;
}

export function nanosText(v: unknown): unknown {
  if (v === null || v === undefined) return '0';
  if (typeof v === 'string') return v;
  // protobufjs Long: its generic toString is slow on the hot path.
  if (isLong(v)) return ((BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)).toString();
  // JSON numbers above 2^53 have already lost precision in JSON.parse; keep what is left.
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? BigInt(v).toString() : v;
  return v;
}

export function enumValue(v: unknown, names: Record<string, number>): unknown {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return names[v] ?? v;
  return v;
}

/** Strings as stored: well-formed UTF-16 (lone surrogates replaced) and length-capped. */
export function clean(s: string, st: WalkState): string {
  let out = s;
  const max = st.limits.maxAttributeValueLength;
  if (out.length > max) {
    st.stats.truncatedValues++;
    out = out.slice(0, max);
  }
  return wellFormed(out);
}

// String.prototype.isWellFormed/toWellFormed exist in Node 20 but not in the ES2023 lib typings.
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };
export function wellFormed(s: string): string {
  const w = s as unknown as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}
