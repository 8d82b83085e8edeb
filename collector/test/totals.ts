import { expect } from 'vitest';
import type { RunningCollector } from '../src/server/collector.js';
import { insertTableRows } from '../src/ingest/writer.js';
import { numberedSpans, postSpans, rows, type SimpleSpan } from './ingest-helpers.js';

/**
 * Exactly-once checks shared by the embedded and the server-mode suites: the per-minute rollup
 * must say what the raw tables say, whatever was replayed or posted twice.
 */

/** `count` priced LLM chat spans (openai gpt-4o-mini, 100 + n input tokens, 10 output tokens). */
export function llmSpans(prefix: string, count: number): SimpleSpan[] {
  return numberedSpans(prefix, count).map((span, i) => ({
    ...span,
    name: 'chat gpt-4o-mini',
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-mini' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: String(100 + i) } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: '10' } },
    ],
  }));
}

export interface Totals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Calls, tokens and cost of one project from llm_calls and from the llm_calls_1m rollup. */
export async function totals(
  collector: RunningCollector,
  project: string,
): Promise<{ raw: Totals; rollup: Totals; traces: number }> {
  const [raw] = await rows<Record<string, number>>(
    collector,
    `SELECT toUInt64(count()) AS calls, toUInt64(sum(InputTokens)) AS inputTokens,
       toUInt64(sum(OutputTokens)) AS outputTokens, sum(ifNull(CostUsd, 0)) AS costUsd
     FROM llm_calls WHERE ProjectId = {p:String}`,
    { p: project },
  );
  const [rollup] = await rows<Record<string, number>>(
    collector,
    `SELECT toUInt64(sum(Calls)) AS calls, toUInt64(sum(InputTokens)) AS inputTokens,
       toUInt64(sum(OutputTokens)) AS outputTokens, sum(CostUsd) AS costUsd
     FROM llm_calls_1m WHERE ProjectId = {p:String}`,
    { p: project },
  );
  const [traces] = await rows<{ n: number }>(
    collector,
    'SELECT toUInt32(count()) AS n FROM otel_traces WHERE ProjectId = {p:String}',
    { p: project },
  );
  const asTotals = (r: Record<string, number> | undefined): Totals => ({
    calls: Number(r?.calls ?? 0),
    inputTokens: Number(r?.inputTokens ?? 0),
    outputTokens: Number(r?.outputTokens ?? 0),
    costUsd: Math.round(Number(r?.costUsd ?? 0) * 1e9) / 1e9,
  });
  return { raw: asTotals(raw), rollup: asTotals(rollup), traces: Number(traces?.n ?? 0) };
}

/** The spans of `prefix` posted three times, as a sender retrying after lost answers does. */
export async function postThreeTimes(url: string, spans: SimpleSpan[]): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await postSpans(url, spans)).status).toBe(200);
}

/**
 * The same block inserted twice under the same insert_deduplication_token (a spool replay after
 * a commit whose answer was lost) leaves one row in llm_calls and one call in the rollup.
 */
export async function replaySameToken(collector: RunningCollector, project: string): Promise<void> {
  const row = JSON.stringify({
    ProjectId: project,
    Timestamp: `${Math.floor(Date.now() / 1000) - 120}.000000000`,
    TraceId: 'ee'.repeat(16),
    SpanId: 'ee'.repeat(8),
    Provider: 'openai',
    Model: 'gpt-4o-mini',
    InputTokens: 7,
    OutputTokens: 3,
    CostUsd: 0.5,
  });
  for (let i = 0; i < 2; i++) {
    await insertTableRows(collector.deps.clickhouse.ingest, 'llm_calls', Buffer.from(`${row}\n`), {
      insert_deduplication_token: 'replayed-segment:llm_calls',
      deduplicate_blocks_in_dependent_materialized_views: '1',
    });
  }
}
