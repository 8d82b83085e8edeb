import { queryRows, type RunningCollector } from '@llmwatch/collector';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

type ExportResult = Parameters<Parameters<LogRecordExporter['export']>[1]>[0];

/**
 * Helpers for the logs/metrics tests: exporters that record every export's result (an app's SDK
 * only logs failures), and polling a table until rows arrive.
 */

export interface ExportLog {
  /** ExportResultCode per export: 0 success, 1 failed. */
  codes: number[];
  errors: string[];
}

function record(log: ExportLog, result: ExportResult): void {
  log.codes.push(result.code);
  if (result.error) log.errors.push(result.error.message);
}

export function recordingLogExporter(inner: LogRecordExporter, log: ExportLog): LogRecordExporter {
  return {
    export: (logs: ReadableLogRecord[], done: (result: ExportResult) => void) =>
      inner.export(logs, (result) => {
        record(log, result);
        done(result);
      }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

export function recordingMetricExporter(inner: PushMetricExporter, log: ExportLog): PushMetricExporter {
  return {
    export: (metrics: ResourceMetrics, done: (result: ExportResult) => void) =>
      inner.export(metrics, (result) => {
        record(log, result);
        done(result);
      }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
    ...(inner.selectAggregationTemporality
      ? { selectAggregationTemporality: inner.selectAggregationTemporality.bind(inner) }
      : {}),
    ...(inner.selectAggregation ? { selectAggregation: inner.selectAggregation.bind(inner) } : {}),
  };
}

/** Polls `sql` until it returns at least `n` rows (or `timeoutMs` passed), then returns them. */
export async function waitForRows<T>(
  collector: RunningCollector,
  sql: string,
  params: Record<string, unknown>,
  n: number,
  timeoutMs = 15_000,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await queryRows<T>(collector.deps.clickhouse.query, sql, params);
    if (rows.length >= n || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}
