import type { AttributeValue, Attributes } from '@llmwatch/core';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import {
  anyValue,
  attributes,
  clean,
  errorText,
  idText,
  intValue,
  isObj,
  list,
  nanosInRange,
  nanosText,
  type DecodeStats,
  type RejectReason,
  type WalkState,
} from './decode.js';
import type { IngestLimits } from './limits.js';
import { ExportLogsServiceRequest, ExportMetricsServiceRequest, decodeLogEventNames } from './otlp-proto.js';

/**
 * OTLP logs (ExportLogsServiceRequest), protobuf or JSON, through the same value walker and the
 * same per-item limits as spans: a record with a malformed id or time is rejected on its own
 * (partial_success), its neighbours are kept.
 */

/** What every signal's envelope shares: resource and scope, as stored next to each item. */
export interface DecodedOrigin {
  resource: Attributes;
  resourceSchemaUrl: string;
  scopeName: string;
  scopeVersion: string;
  scopeAttributes: Attributes;
  scopeDroppedAttrCount: number;
  scopeSchemaUrl: string;
}

export interface DecodedLogRecord extends DecodedOrigin {
  /** Epoch nanoseconds: the record's time, else its observed time, else receipt time. */
  timeUnixNano: string;
  /** Lower-case hex, or '' when the record is not tied to a span. */
  traceId: string;
  spanId: string;
  traceFlags: number;
  severityText: string;
  severityNumber: number;
  /** The LogRecord `event_name` field, else the older `event.name` attribute. */
  eventName: string;
  body: AttributeValue;
  attributes: Attributes;
}

export interface ItemsDecodeResult<T> {
  items: T[];
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  errorMessage: string;
  stats: DecodeStats;
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** protobufjs decodes strings of a Buffer with Node's decoder; a plain Uint8Array mangles them. */
function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

type RequestName = 'ExportLogsServiceRequest' | 'ExportMetricsServiceRequest';
const DECODERS = {
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
} as const;
const ENVELOPE_KEYS: Record<RequestName, string> = {
  ExportLogsServiceRequest: 'resourceLogs',
  ExportMetricsServiceRequest: 'resourceMetrics',
};

/** The body as a message tree (protobufjs object or parsed OTLP/JSON); 400 when undecodable. */
export function decodeEnvelope(
  request: RequestName,
  encoding: 'protobuf' | 'json',
  body: Uint8Array,
): unknown {
  if (encoding === 'protobuf') {
    try {
      return DECODERS[request].decode(asBuffer(body));
    } catch (cause) {
      throw new LlmwatchError('bad_request', `body is not an OTLP ${request}: ${errorText(cause)}`, {
        cause,
      });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(textDecoder.decode(body));
  } catch (cause) {
    throw new LlmwatchError('bad_request', `body is not valid JSON: ${errorText(cause)}`, { cause });
  }
  const key = ENVELOPE_KEYS[request];
  const envelope = z.object({ [key]: z.array(z.unknown()).nullish() }).safeParse(parsed);
  if (!envelope.success) {
    throw new LlmwatchError(
      'bad_request',
      `body is not an OTLP/JSON ${request}: ${envelope.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed;
}

/** Counts rejects and keeps the first few messages for partial_success. */
export class Rejects<T> {
  readonly result: ItemsDecodeResult<T>;
  private readonly messages: string[] = [];

  constructor(private readonly noun: string) {
    this.result = {
      items: [],
      rejected: 0,
      rejectedByReason: {},
      errorMessage: '',
      stats: { droppedAttributes: 0, truncatedValues: 0, droppedEvents: 0, droppedLinks: 0 },
    };
  }

  reject(reason: RejectReason, text: string): void {
    this.result.rejected++;
    this.result.rejectedByReason[reason] = (this.result.rejectedByReason[reason] ?? 0) + 1;
    if (this.messages.length < 5) this.messages.push(text);
  }

  done(): ItemsDecodeResult<T> {
    const r = this.result;
    if (r.rejected > 0) {
      const more =
        r.rejected > this.messages.length ? ` (and ${r.rejected - this.messages.length} more)` : '';
      r.errorMessage = `${r.rejected} ${this.noun}(s) rejected: ${this.messages.join('; ')}${more}`;
    }
    return r;
  }
}

/** Resource and scope of one resource/scope block, walked under the first item's budget. */
export function originOf(
  rs: Record<string, unknown>,
  ss: Record<string, unknown>,
  st: WalkState,
): DecodedOrigin {
  const resource = isObj(rs.resource) ? rs.resource : {};
  const scope = isObj(ss.scope) ? ss.scope : {};
  const str = (v: unknown): string => (typeof v === 'string' ? clean(v, st) : '');
  const dropped = intValue(scope.droppedAttributesCount);
  return {
    resource: attributes(resource.attributes, st, 0),
    resourceSchemaUrl: str(rs.schemaUrl),
    scopeName: str(scope.name),
    scopeVersion: str(scope.version),
    scopeAttributes: attributes(scope.attributes, st, 0),
    scopeDroppedAttrCount: typeof dropped === 'number' && dropped > 0 ? Math.min(dropped, 0xffff_ffff) : 0,
    scopeSchemaUrl: str(ss.schemaUrl),
  };
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const NANOS = /^[0-9]{1,19}$/;

/** A time field in range, or undefined when absent/zero; 'bad' when present but unusable. */
export function timeOf(v: unknown): string | undefined | 'bad' {
  const t = nanosText(v);
  if (t === '0' || t === '') return undefined;
  return typeof t === 'string' && NANOS.test(t) && nanosInRange(t) ? t.replace(/^0+(?=.)/, '') : 'bad';
}

export function decodeLogs(encoding: 'protobuf' | 'json', body: Uint8Array, limits: IngestLimits) {
  const message = decodeEnvelope('ExportLogsServiceRequest', encoding, body);
  const eventNames = encoding === 'protobuf' ? decodeLogEventNames(asBuffer(body)) : undefined;
  const out = new Rejects<DecodedLogRecord>('log record');
  const st: WalkState = { limits, stats: out.result.stats, budget: 0 };
  const receivedAt = `${Date.now()}000000`;
  const resourceLogs = isObj(message) ? list(message.resourceLogs) : [];
  for (const [ri, rl] of resourceLogs.entries()) {
    if (!isObj(rl)) continue;
    for (const [si, sl] of list(rl.scopeLogs).entries()) {
      if (!isObj(sl)) continue;
      st.budget = limits.maxValuesPerSpan;
      const origin = originOf(rl, sl, st);
      for (const [li, raw] of list(sl.logRecords).entries()) {
        const where = `resourceLogs[${ri}].scopeLogs[${si}].logRecords[${li}]`;
        if (!isObj(raw)) {
          out.reject('invalid_field', `${where}: not an object`);
          continue;
        }
        const traceId = idText(raw.traceId);
        const spanId = idText(raw.spanId);
        if (
          typeof traceId !== 'string' ||
          (traceId !== '' && (!HEX32.test(traceId) || /^0+$/.test(traceId)))
        ) {
          out.reject('invalid_trace_id', `${where}.traceId: must be 16 bytes (32 hex chars) or empty`);
          continue;
        }
        if (typeof spanId !== 'string' || (spanId !== '' && (!HEX16.test(spanId) || /^0+$/.test(spanId)))) {
          out.reject('invalid_span_id', `${where}.spanId: must be 8 bytes (16 hex chars) or empty`);
          continue;
        }
        const time = timeOf(raw.timeUnixNano);
        const observed = timeOf(raw.observedTimeUnixNano);
        if (time === 'bad' || observed === 'bad') {
          out.reject('invalid_time', `${where}.timeUnixNano: must be nanoseconds before 2262-04-11`);
          continue;
        }
        const severity = intValue(raw.severityNumber ?? 0);
        st.budget = limits.maxValuesPerSpan;
        const attrs = attributes(raw.attributes, st, 0);
        const eventName = eventNames?.[ri]?.[si]?.[li] ?? raw.eventName;
        const eventField = typeof eventName === 'string' ? clean(eventName, st) : '';
        const eventAttr = attrs['event.name'];
        const bodyValue = anyValue(raw.body, st, 0);
        out.result.items.push({
          ...origin,
          timeUnixNano: time ?? observed ?? receivedAt,
          traceId,
          spanId,
          traceFlags: typeof raw.flags === 'number' ? raw.flags & 0xff : 0,
          severityText: typeof raw.severityText === 'string' ? clean(raw.severityText, st) : '',
          severityNumber: typeof severity === 'number' ? Math.max(0, Math.min(severity, 255)) : 0,
          eventName: eventField || (typeof eventAttr === 'string' ? eventAttr : ''),
          body: bodyValue === undefined ? null : bodyValue,
          attributes: attrs,
        });
      }
    }
  }
  return out.done();
}
