import type { AttributeValue } from '@llmwatch/core';
import type { DecodedLogRecord } from './decode-logs.js';
import type { DecodedDataPoint } from './decode-metrics.js';
import type { PipelineResult, PipelineStages } from './pipeline.js';
import { METRIC_TABLES, genaiEventRow, logRow, metricRow } from './rows-otel.js';
import { emptyRows, piiRow } from './rows.js';

/**
 * Logs and metrics, the signals besides traces. Every log record goes through the PII policy
 * before it is serialized (a GenAI event's body is a prompt or a completion); a GenAI event tied
 * to a span is also kept in genai_events, where ingest/event-join.ts merges it into that span's
 * llm_calls row whichever of the two arrives first.
 */

/** Events named `gen_ai.*` (per-message events, gen_ai.choice, the inference details event). */
export function isGenAiEvent(record: Pick<DecodedLogRecord, 'eventName' | 'traceId' | 'spanId'>): boolean {
  return record.eventName.startsWith('gen_ai.') && record.traceId !== '' && record.spanId !== '';
}

/**
 * The event as a span event's attributes: the record's attributes plus, for a structured body
 * (`{content, tool_calls}`, `{message, finish_reason}`), its fields, which is where span events
 * of the same name carry them.
 */
export function eventAttributes(
  body: AttributeValue,
  attributes: Record<string, AttributeValue>,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = { ...attributes };
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body)) out[k] ??= v;
  } else if (body !== null && body !== '') out.content ??= body;
  return out;
}

export function runLogsPipeline(
  records: readonly DecodedLogRecord[],
  projectId: string,
  stages: Pick<PipelineStages, 'applyPiiPolicyToRecord'>,
): PipelineResult & { genaiEvents: number } {
  const rows = emptyRows();
  let stageErrors = 0;
  let genaiEvents = 0;
  for (const decoded of records) {
    let record: DecodedLogRecord;
    try {
      const policed = stages.applyPiiPolicyToRecord(decoded);
      record = { ...decoded, body: policed.body, attributes: policed.attributes };
      for (const finding of policed.findings) {
        rows.pii_findings.push(
          piiRow(projectId, { ...record, startTimeUnixNano: record.timeUnixNano }, null, finding),
        );
      }
      if (isGenAiEvent(record)) {
        rows.genai_events.push(
          genaiEventRow(projectId, record, eventAttributes(record.body, record.attributes)),
        );
        genaiEvents++;
      }
    } catch {
      // A record the policy could not process is not stored at all: it may hold raw content.
      stageErrors++;
      continue;
    }
    rows.otel_logs.push(logRow(projectId, record));
  }
  return { rows, llmCalls: 0, stageErrors, genaiEvents };
}

export function runMetricsPipeline(points: readonly DecodedDataPoint[], projectId: string): PipelineResult {
  const rows = emptyRows();
  for (const point of points) rows[METRIC_TABLES[point.kind]].push(metricRow(projectId, point));
  return { rows, llmCalls: 0, stageErrors: 0 };
}
