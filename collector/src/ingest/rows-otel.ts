import type { AttributeValue } from '@llmwatch/core';
import type { DecodedLogRecord } from './decode-logs.js';
import type { DecodedDataPoint, Exemplar } from './decode-metrics.js';
import { nanosToDateTime64, serviceNameOf, stringMap, type TableName } from './rows.js';

/**
 * Log and metric rows, column for column as the OpenTelemetry Collector ClickHouse exporter
 * writes them (so its Grafana dashboards and queries work on them), with ProjectId added.
 */

/** pcommon `AsString` of a log body: strings as-is, empty as '', everything else as JSON. */
export function bodyText(body: AttributeValue): string {
  return typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body);
}

export function logRow(projectId: string, r: DecodedLogRecord): string {
  return JSON.stringify({
    ProjectId: projectId,
    Timestamp: nanosToDateTime64(r.timeUnixNano),
    TraceId: r.traceId,
    SpanId: r.spanId,
    TraceFlags: r.traceFlags,
    SeverityText: r.severityText,
    SeverityNumber: r.severityNumber,
    ServiceName: serviceNameOf(r.resource),
    Body: bodyText(r.body),
    ResourceSchemaUrl: r.resourceSchemaUrl,
    ResourceAttributes: stringMap(r.resource),
    ScopeSchemaUrl: r.scopeSchemaUrl,
    ScopeName: r.scopeName,
    ScopeVersion: r.scopeVersion,
    ScopeAttributes: stringMap(r.scopeAttributes),
    LogAttributes: stringMap(r.attributes),
    EventName: r.eventName,
  });
}

export const METRIC_TABLES = {
  sum: 'otel_metrics_sum',
  gauge: 'otel_metrics_gauge',
  histogram: 'otel_metrics_histogram',
  exponential_histogram: 'otel_metrics_exponential_histogram',
  summary: 'otel_metrics_summary',
} as const satisfies Record<DecodedDataPoint['kind'], TableName>;

function exemplarColumns(exemplars: readonly Exemplar[]): Record<string, unknown[]> {
  return {
    'Exemplars.FilteredAttributes': exemplars.map((e) => stringMap(e.filteredAttributes)),
    'Exemplars.TimeUnix': exemplars.map((e) => nanosToDateTime64(e.timeUnixNano)),
    'Exemplars.Value': exemplars.map((e) => e.value),
    'Exemplars.SpanId': exemplars.map((e) => e.spanId),
    'Exemplars.TraceId': exemplars.map((e) => e.traceId),
  };
}

export function metricRow(projectId: string, p: DecodedDataPoint): string {
  const common = {
    ProjectId: projectId,
    ResourceAttributes: stringMap(p.resource),
    ResourceSchemaUrl: p.resourceSchemaUrl,
    ScopeName: p.scopeName,
    ScopeVersion: p.scopeVersion,
    ScopeAttributes: stringMap(p.scopeAttributes),
    ScopeDroppedAttrCount: p.scopeDroppedAttrCount,
    ScopeSchemaUrl: p.scopeSchemaUrl,
    ServiceName: serviceNameOf(p.resource),
    MetricName: p.metricName,
    MetricDescription: p.description,
    MetricUnit: p.unit,
    Attributes: stringMap(p.attributes),
    StartTimeUnix: nanosToDateTime64(p.startTimeUnixNano),
    TimeUnix: nanosToDateTime64(p.timeUnixNano),
    Flags: p.flags,
  };
  switch (p.kind) {
    case 'sum':
      return JSON.stringify({
        ...common,
        Value: p.value,
        ...exemplarColumns(p.exemplars),
        AggregationTemporality: p.aggregationTemporality,
        IsMonotonic: p.isMonotonic,
      });
    case 'gauge':
      return JSON.stringify({ ...common, Value: p.value, ...exemplarColumns(p.exemplars) });
    case 'histogram':
      return JSON.stringify({
        ...common,
        Count: p.count,
        Sum: p.sum,
        BucketCounts: p.bucketCounts,
        ExplicitBounds: p.explicitBounds,
        ...exemplarColumns(p.exemplars),
        Min: p.min,
        Max: p.max,
        AggregationTemporality: p.aggregationTemporality,
      });
    case 'exponential_histogram':
      return JSON.stringify({
        ...common,
        Count: p.count,
        Sum: p.sum,
        Scale: p.scale,
        ZeroCount: p.zeroCount,
        PositiveOffset: p.positiveOffset,
        PositiveBucketCounts: p.positiveBucketCounts,
        NegativeOffset: p.negativeOffset,
        NegativeBucketCounts: p.negativeBucketCounts,
        ...exemplarColumns(p.exemplars),
        Min: p.min,
        Max: p.max,
        AggregationTemporality: p.aggregationTemporality,
      });
    case 'summary':
      return JSON.stringify({
        ...common,
        Count: p.count,
        Sum: p.sum,
        'ValueAtQuantiles.Quantile': p.quantiles.map((q) => q.quantile),
        'ValueAtQuantiles.Value': p.quantiles.map((q) => q.value),
      });
  }
}

/**
 * A GenAI event waiting to be joined to its span's llm_calls row (see ingest/event-join.ts):
 * the event as a span event (name, time, attributes with the body's fields merged in), already
 * through the PII policy.
 */
export function genaiEventRow(
  projectId: string,
  r: DecodedLogRecord,
  eventAttributes: Record<string, AttributeValue>,
): string {
  return JSON.stringify({
    ProjectId: projectId,
    Timestamp: nanosToDateTime64(r.timeUnixNano),
    TraceId: r.traceId,
    SpanId: r.spanId,
    EventName: r.eventName,
    Attributes: JSON.stringify(eventAttributes),
  });
}
