import { withCallContent, type LlmCall } from '@llmwatch/core';
import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { queryRows } from '../storage/clickhouse.js';
import { parseInput } from './query-params.js';

const MAX_SPANS = 5_000;

const traceParamsSchema = z
  .object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex characters') })
  .strict();

/** The LLM call a span is, when it is one. */
export interface TraceSpanCall {
  model: string;
  provider: string;
  operation: string;
  /** Null when the provider reported no usage. */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  ttftMs: number | null;
  status: string;
  promptName: string;
  promptVersion: string;
}

export interface TraceSpan {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  service: string;
  /** Start relative to the trace's first span. */
  offsetMs: number;
  durationMs: number;
  startUnixNano: string;
  status: string;
  statusMessage: string;
  /** Depth in the tree (0 = a root, or a span whose parent was not received). */
  depth: number;
  attributes: Record<string, string>;
  call: TraceSpanCall | null;
  /** Cost of this span's LLM call plus every descendant's. */
  subtreeCostUsd: number;
}

type CallContent = Pick<LlmCall, 'inputContent' | 'outputContent' | 'systemContent'>;
const NO_CONTENT: CallContent = { inputContent: '', outputContent: '', systemContent: '' };

interface SpanRow {
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  service: string;
  startNanos: string;
  durationNanos: string;
  status: string;
  statusMessage: string;
  attributes: Record<string, string>;
}

/**
 * Spans in tree order (depth first, siblings by start time) with depth: a waterfall draws them
 * top to bottom as they come. Spans whose parent is missing become roots rather than vanish.
 */
export function treeOrder<T extends { spanId: string; parentSpanId: string; startNanos: bigint }>(
  spans: T[],
): Array<T & { depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const byStart = (a: T, b: T) => (a.startNanos < b.startNanos ? -1 : a.startNanos > b.startNanos ? 1 : 0);
  const out: Array<T & { depth: number }> = [];
  const seen = new Set<string>();
  const stack: Array<[T, number]> = roots
    .sort(byStart)
    .reverse()
    .map((s) => [s, 0]);
  while (stack.length) {
    const [span, depth] = stack.pop()!;
    if (seen.has(span.spanId)) continue;
    seen.add(span.spanId);
    out.push({ ...span, depth });
    const kids = (children.get(span.spanId) ?? []).sort(byStart);
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
  }
  return out;
}

/**
 * `GET /api/traces/:traceId` → `{traceId, startTime, durationMs, costUsd, spans}`: every span of
 * the trace in the key's project (from otel_traces), in tree order, each with its LLM call (from
 * llm_calls) and the cost of its subtree. 404 when the project has no span of that trace.
 */
export function createTracesRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/traces/:traceId', async (req, res) => {
    const { traceId } = parseInput(traceParamsSchema, req.params);
    const project = projectOf(res);
    const client = deps.clickhouse.query;
    // The trace-id → time index narrows both tables to the partitions that hold the trace.
    const [bounds] = await queryRows<{ start: string | null; end: string | null }>(
      client,
      `SELECT toString(min(Start)) AS start, toString(max(End)) AS end FROM otel_traces_trace_id_ts
       WHERE TraceId = {traceId:String} HAVING count() > 0`,
      { traceId },
    );
    const timeWhere = bounds
      ? `AND Timestamp >= toDateTime({start:String}) - INTERVAL 1 MINUTE AND Timestamp <= toDateTime({end:String}) + INTERVAL 1 MINUTE`
      : '';
    const params = { project, traceId, start: bounds?.start ?? '', end: bounds?.end ?? '', limit: MAX_SPANS };
    const [spanRows, callRows] = await Promise.all([
      queryRows<SpanRow>(
        client,
        `SELECT SpanId AS spanId, ParentSpanId AS parentSpanId, SpanName AS name, SpanKind AS kind,
           ServiceName AS service, toString(toUnixTimestamp64Nano(Timestamp)) AS startNanos,
           toString(Duration) AS durationNanos, StatusCode AS status, StatusMessage AS statusMessage,
           SpanAttributes AS attributes
         FROM otel_traces
         WHERE ProjectId = {project:String} AND TraceId = {traceId:String} ${timeWhere}
         ORDER BY Timestamp LIMIT 1 BY SpanId LIMIT {limit:UInt32}`,
        params,
      ),
      queryRows<TraceSpanCall & { spanId: string } & CallContent>(
        client,
        `SELECT SpanId AS spanId, Model AS model, Provider AS provider, Operation AS operation,
           if(UsageReported, InputTokens, NULL) AS inputTokens,
           if(UsageReported, OutputTokens, NULL) AS outputTokens, CostUsd AS costUsd, TtftMs AS ttftMs,
           Status AS status, PromptName AS promptName, PromptVersion AS promptVersion,
           InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent
         FROM llm_calls
         WHERE ProjectId = {project:String} AND TraceId = {traceId:String} ${timeWhere}
         LIMIT 1 BY SpanId LIMIT {limit:UInt32}`,
        params,
      ),
    ]);
    if (spanRows.length === 0) throw new LlmwatchError('not_found', `no trace ${traceId} in this project`);
    const calls = new Map(
      callRows.map(({ spanId, inputContent, outputContent, systemContent, ...call }) => [
        spanId,
        { call, content: { inputContent, outputContent, systemContent } },
      ]),
    );
    const spans = spanRows.map((s) => ({ ...s, startNanos: BigInt(s.startNanos) }));
    const t0 = spans.reduce((m, s) => (s.startNanos < m ? s.startNanos : m), spans[0]!.startNanos);
    const ordered = treeOrder(spans);
    // Subtree costs: children come after their parent in tree order, so walk it backwards.
    const subtree = new Map<string, number>();
    for (let i = ordered.length - 1; i >= 0; i--) {
      const s = ordered[i]!;
      const own = calls.get(s.spanId)?.call.costUsd ?? 0;
      const total = (subtree.get(s.spanId) ?? 0) + own;
      subtree.set(s.spanId, total);
      if (s.depth > 0) subtree.set(s.parentSpanId, (subtree.get(s.parentSpanId) ?? 0) + total);
    }
    const out: TraceSpan[] = ordered.map((s) => ({
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: s.kind,
      service: s.service,
      offsetMs: Number(s.startNanos - t0) / 1e6,
      durationMs: Number(s.durationNanos) / 1e6,
      startUnixNano: s.startNanos.toString(),
      status: s.status,
      statusMessage: s.statusMessage,
      depth: s.depth,
      // An LLM span's messages are stored once, in its call (ingest/rows.ts).
      attributes: withCallContent(s.attributes, calls.get(s.spanId)?.content ?? NO_CONTENT),
      call: calls.get(s.spanId)?.call ?? null,
      subtreeCostUsd: subtree.get(s.spanId) ?? 0,
    }));
    const end = out.reduce((m, s) => Math.max(m, s.offsetMs + s.durationMs), 0);
    res.json({
      traceId,
      startTime: new Date(Number(t0 / 1_000_000n)).toISOString(),
      durationMs: end,
      costUsd: out.filter((s) => s.depth === 0).reduce((n, s) => n + s.subtreeCostUsd, 0),
      spans: out,
    });
  });
  return router;
}
