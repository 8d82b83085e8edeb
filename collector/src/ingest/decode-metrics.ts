import type { Attributes } from '@llmwatch/core';
import { attributes, clean, idText, intValue, isObj, list, type WalkState } from './decode.js';
import {
  Rejects,
  decodeEnvelope,
  originOf,
  timeOf,
  type DecodedOrigin,
  type ItemsDecodeResult,
} from './decode-logs.js';
import type { IngestLimits } from './limits.js';

/**
 * OTLP metrics (ExportMetricsServiceRequest), protobuf or JSON: one decoded item per data point,
 * of the five OTLP point kinds, each stored in its own table as the OpenTelemetry Collector's
 * ClickHouse exporter does. A point without a usable time is rejected on its own.
 */

export type MetricKind = 'sum' | 'gauge' | 'histogram' | 'exponential_histogram' | 'summary';

export interface Exemplar {
  filteredAttributes: Attributes;
  timeUnixNano: string;
  value: number;
  spanId: string;
  traceId: string;
}

interface PointBase extends DecodedOrigin {
  metricName: string;
  description: string;
  unit: string;
  attributes: Attributes;
  /** Epoch nanoseconds; '0' when the sender gave no start. */
  startTimeUnixNano: string;
  timeUnixNano: string;
  flags: number;
}

/** UInt64 counts: numbers while exact, decimal strings beyond 2^53. */
export type Count = number | string;

export type DecodedDataPoint = PointBase &
  (
    | {
        kind: 'sum';
        value: number;
        exemplars: Exemplar[];
        aggregationTemporality: number;
        isMonotonic: boolean;
      }
    | { kind: 'gauge'; value: number; exemplars: Exemplar[] }
    | {
        kind: 'histogram';
        count: Count;
        sum: number;
        bucketCounts: Count[];
        explicitBounds: number[];
        min: number;
        max: number;
        exemplars: Exemplar[];
        aggregationTemporality: number;
      }
    | {
        kind: 'exponential_histogram';
        count: Count;
        sum: number;
        scale: number;
        zeroCount: Count;
        positiveOffset: number;
        positiveBucketCounts: Count[];
        negativeOffset: number;
        negativeBucketCounts: Count[];
        min: number;
        max: number;
        exemplars: Exemplar[];
        aggregationTemporality: number;
      }
    | { kind: 'summary'; count: Count; sum: number; quantiles: { quantile: number; value: number }[] }
  );

const KIND_FIELDS: readonly [MetricKind, string][] = [
  ['sum', 'sum'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['exponential_histogram', 'exponentialHistogram'],
  ['summary', 'summary'],
];

const TEMPORALITY: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

function double(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

function int(v: unknown): number {
  const n = intValue(v);
  return typeof n === 'number' ? n : 0;
}

function count(v: unknown): Count {
  const n = intValue(v ?? 0);
  if (typeof n === 'string') return n.startsWith('-') ? 0 : n;
  return n === undefined || n < 0 ? 0 : n;
}

/** NumberDataPoint / Exemplar value: `asDouble` or `asInt` (int64). */
function pointValue(p: Record<string, unknown>): number {
  if (p.asDouble != null) return double(p.asDouble);
  if (p.asInt != null) {
    const n = intValue(p.asInt);
    return typeof n === 'number' ? n : Number(n ?? 0);
  }
  return 0;
}

function temporality(v: unknown): number {
  if (typeof v === 'string') return TEMPORALITY[v] ?? 0;
  return int(v);
}

function exemplars(v: unknown, st: WalkState): Exemplar[] {
  const out: Exemplar[] = [];
  for (const e of list(v)) {
    if (!isObj(e)) continue;
    const time = timeOf(e.timeUnixNano);
    const traceId = idText(e.traceId);
    const spanId = idText(e.spanId);
    out.push({
      filteredAttributes: attributes(e.filteredAttributes, st, 0),
      timeUnixNano: time === undefined || time === 'bad' ? '0' : time,
      value: pointValue(e),
      traceId: typeof traceId === 'string' && /^[0-9a-f]{32}$/.test(traceId) ? traceId : '',
      spanId: typeof spanId === 'string' && /^[0-9a-f]{16}$/.test(spanId) ? spanId : '',
    });
  }
  return out;
}

export function decodeMetrics(
  encoding: 'protobuf' | 'json',
  body: Uint8Array,
  limits: IngestLimits,
): ItemsDecodeResult<DecodedDataPoint> {
  const message = decodeEnvelope('ExportMetricsServiceRequest', encoding, body);
  const out = new Rejects<DecodedDataPoint>('data point');
  const st: WalkState = { limits, stats: out.result.stats, budget: 0 };
  const resourceMetrics = isObj(message) ? list(message.resourceMetrics) : [];
  for (const [ri, rm] of resourceMetrics.entries()) {
    if (!isObj(rm)) continue;
    for (const [si, sm] of list(rm.scopeMetrics).entries()) {
      if (!isObj(sm)) continue;
      st.budget = limits.maxValuesPerSpan;
      const origin = originOf(rm, sm, st);
      for (const [mi, metric] of list(sm.metrics).entries()) {
        if (!isObj(metric)) continue;
        const str = (v: unknown): string => (typeof v === 'string' ? clean(v, st) : '');
        const named = {
          ...origin,
          metricName: str(metric.name),
          description: str(metric.description),
          unit: str(metric.unit),
        };
        for (const [kind, field] of KIND_FIELDS) {
          const data = metric[field];
          if (!isObj(data)) continue;
          for (const [pi, p] of list(data.dataPoints).entries()) {
            const where = `resourceMetrics[${ri}].scopeMetrics[${si}].metrics[${mi}].${field}.dataPoints[${pi}]`;
            if (!isObj(p)) {
              out.reject('invalid_field', `${where}: not an object`);
              continue;
            }
            const time = timeOf(p.timeUnixNano);
            const start = timeOf(p.startTimeUnixNano);
            if (time === undefined || time === 'bad' || start === 'bad') {
              out.reject('invalid_time', `${where}.timeUnixNano: must be nanoseconds before 2262-04-11`);
              continue;
            }
            st.budget = limits.maxValuesPerSpan;
            const base = {
              ...named,
              attributes: attributes(p.attributes, st, 0),
              startTimeUnixNano: start ?? '0',
              timeUnixNano: time,
              flags: int(p.flags),
            };
            out.result.items.push(pointOf(kind, base, p, data, st));
          }
        }
      }
    }
  }
  return out.done();
}

function pointOf(
  kind: MetricKind,
  base: PointBase,
  p: Record<string, unknown>,
  data: Record<string, unknown>,
  st: WalkState,
): DecodedDataPoint {
  switch (kind) {
    case 'sum':
      return {
        ...base,
        kind,
        value: pointValue(p),
        exemplars: exemplars(p.exemplars, st),
        aggregationTemporality: temporality(data.aggregationTemporality),
        isMonotonic: data.isMonotonic === true,
      };
    case 'gauge':
      return { ...base, kind, value: pointValue(p), exemplars: exemplars(p.exemplars, st) };
    case 'histogram':
      return {
        ...base,
        kind,
        count: count(p.count),
        sum: double(p.sum),
        bucketCounts: list(p.bucketCounts).map(count),
        explicitBounds: list(p.explicitBounds).map(double),
        min: double(p.min),
        max: double(p.max),
        exemplars: exemplars(p.exemplars, st),
        aggregationTemporality: temporality(data.aggregationTemporality),
      };
    case 'exponential_histogram': {
      const positive = isObj(p.positive) ? p.positive : {};
      const negative = isObj(p.negative) ? p.negative : {};
      return {
        ...base,
        kind,
        count: count(p.count),
        sum: double(p.sum),
        scale: int(p.scale),
        zeroCount: count(p.zeroCount),
        positiveOffset: int(positive.offset),
        positiveBucketCounts: list(positive.bucketCounts).map(count),
        negativeOffset: int(negative.offset),
        negativeBucketCounts: list(negative.bucketCounts).map(count),
        min: double(p.min),
        max: double(p.max),
        exemplars: exemplars(p.exemplars, st),
        aggregationTemporality: temporality(data.aggregationTemporality),
      };
    }
    case 'summary':
      return {
        ...base,
        kind,
        count: count(p.count),
        sum: double(p.sum),
        quantiles: list(p.quantileValues)
          .filter(isObj)
          .map((q) => ({ quantile: double(q.quantile), value: double(q.value) })),
      };
  }
}
