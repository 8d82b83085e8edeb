import type { ClickHouseClient } from '@clickhouse/client';

/** What one synthetic cohort looks like: the knobs a test or benchmark plants differences with. */
export interface SyntheticCohort {
  project: string;
  promptName: string;
  promptVersion: string;
  model: string;
  calls: number;
  /** Mean cost per call, USD (exponentially distributed around it). */
  costUsd: number;
  /** Median latency, ms (log-normal, σ = 0.5). */
  latencyMs: number;
  errorRate: number;
  outputTokens: number;
  /** Mean of a 0..1 score named `scoreName` given to every successful call. */
  score: number;
  scoreName: string;
  startMs: number;
  /** Different seeds draw independent samples from the same distributions. */
  seed: number;
}

/**
 * Inserts a cohort of calls (and their scores) generated inside ClickHouse, deterministically from
 * `seed`: uniform draws come from cityHash64(row, seed, k), normals from Box-Muller over two of them.
 */
export async function insertSyntheticCohort(client: ClickHouseClient, c: SyntheticCohort): Promise<void> {
  const u = (k: number) => `((cityHash64(number, ${c.seed}, ${k}) % 1000000000) + 0.5) / 1000000000`;
  const normal = (k: number) => `(sqrt(-2 * log(${u(k)})) * cos(2 * pi() * ${u(k + 1)}))`;
  const spanId = `lower(hex(cityHash64(number, ${c.seed}, 99, '${c.promptVersion}')))`;
  await client.command({
    query: `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Operation, Model,
      RequestModel, InputTokens, OutputTokens, CostUsd, LatencyMs, TtftMs, Streaming, Status, ErrorType, PromptName, PromptVersion)
    SELECT '${c.project}', fromUnixTimestamp64Milli(toInt64(${c.startMs} + number * 10)),
      ${spanId} || ${spanId}, ${spanId}, 'svc', 'openai', 'chat', '${c.model}', '${c.model}', 500,
      toUInt32(greatest(1, ${c.outputTokens} * (1 + 0.3 * ${normal(1)}))),
      -${c.costUsd} * log(${u(3)}),
      ${c.latencyMs} * exp(0.5 * ${normal(4)}),
      0.3 * ${c.latencyMs} * exp(0.5 * ${normal(6)}), true,
      if(${u(8)} < ${c.errorRate}, 'error', 'ok'), if(${u(8)} < ${c.errorRate}, 'APIError', ''),
      '${c.promptName}', '${c.promptVersion}'
    FROM numbers(${c.calls})`,
  });
  await client.command({
    query: `INSERT INTO scores (ProjectId, Timestamp, TraceId, SpanId, Name, Value, Source)
    SELECT '${c.project}', fromUnixTimestamp64Milli(toInt64(${c.startMs} + number * 10)), ${spanId} || ${spanId}, ${spanId},
      '${c.scoreName}', least(1, greatest(0, ${c.score} + 0.15 * ${normal(9)})), 'eval'
    FROM numbers(${c.calls}) WHERE ${u(8)} >= ${c.errorRate}`,
  });
}
