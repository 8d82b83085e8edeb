import type { ClickHouseClient } from '@clickhouse/client';
import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { queryRows } from '../storage/clickhouse.js';
import { instantSchema, parseInput } from './query-params.js';

/**
 * `GET /api/genai-metrics`: the GenAI semconv metrics an app exports (gen_ai.client.token.usage,
 * gen_ai.client.operation.duration, the time-to-first-chunk / per-output-chunk and server-side
 * histograms), totalled over a range per service, provider, model, operation and token type. For
 * apps that send metrics and no spans, this is where their usage and latency show.
 *
 * Histograms arrive cumulative (the SDK default) or delta: a cumulative series counts as its last
 * point minus its first point in the range (or its whole last point when the series started
 * inside the range), a delta series as the sum of its points.
 */
const querySchema = z
  .object({
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    service: z.string().max(200).optional(),
  })
  .strict();

export interface GenAiMetricRow {
  metric: string;
  unit: string;
  service: string;
  provider: string;
  model: string;
  operation: string;
  /** `input` / `output` for gen_ai.client.token.usage, '' otherwise. */
  tokenType: string;
  /** Recordings in the range (operations, for the duration histogram). */
  count: number;
  /** Sum of the recorded values (tokens, seconds). */
  sum: number;
  /** sum / count; null without recordings. */
  mean: number | null;
}

const DAY_MS = 86_400_000;

const SQL = `
SELECT metric, unit, service, provider, model, operation, tokenType,
  sum(countDelta) AS count, sum(sumDelta) AS sum
FROM (
  SELECT MetricName AS metric, any(MetricUnit) AS unit, ServiceName AS service,
    if(Attributes['gen_ai.provider.name'] != '', Attributes['gen_ai.provider.name'], Attributes['gen_ai.system']) AS provider,
    if(Attributes['gen_ai.response.model'] != '', Attributes['gen_ai.response.model'], Attributes['gen_ai.request.model']) AS model,
    Attributes['gen_ai.operation.name'] AS operation,
    Attributes['gen_ai.token.type'] AS tokenType,
    any(AggregationTemporality) = 1 AS delta,
    min(StartTimeUnix) >= fromUnixTimestamp64Milli({fromMs:Int64}) AS startedInRange,
    if(delta, toFloat64(sum(Count)),
      toFloat64(argMax(Count, TimeUnix)) - if(startedInRange, 0, toFloat64(argMin(Count, TimeUnix)))) AS countDelta,
    if(delta, sum(Sum), argMax(Sum, TimeUnix) - if(startedInRange, 0, argMin(Sum, TimeUnix))) AS sumDelta
  FROM otel_metrics_histogram
  WHERE ProjectId = {project:String} AND startsWith(MetricName, 'gen_ai.')
    AND TimeUnix >= fromUnixTimestamp64Milli({fromMs:Int64}) AND TimeUnix <= fromUnixTimestamp64Milli({toMs:Int64})
    AND ({service:String} = '' OR ServiceName = {service:String})
  GROUP BY metric, service, Attributes, StartTimeUnix
)
GROUP BY metric, unit, service, provider, model, operation, tokenType
ORDER BY metric, service, provider, model, operation, tokenType`;

export async function genaiMetrics(
  client: ClickHouseClient,
  project: string,
  fromMs: number,
  toMs: number,
  service = '',
): Promise<GenAiMetricRow[]> {
  const rows = await queryRows<Omit<GenAiMetricRow, 'mean'>>(client, SQL, {
    project,
    fromMs,
    toMs,
    service,
  });
  return rows.map((r) => {
    const count = Number(r.count);
    const sum = Number(r.sum);
    return { ...r, count, sum, mean: count > 0 ? sum / count : null };
  });
}

export function createGenAiMetricsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/genai-metrics', async (req, res) => {
    const q = parseInput(querySchema, req.query);
    const toMs = q.to ?? Date.now();
    const fromMs = q.from ?? toMs - DAY_MS;
    if (fromMs > toMs) throw new LlmwatchError('bad_request', 'from: must not be after to');
    const metrics = await genaiMetrics(deps.clickhouse.query, projectOf(res), fromMs, toMs, q.service ?? '');
    res.json({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), metrics });
  });
  return router;
}
