import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../collector/src/config/index.js';
import type { DetectionConfig } from '../collector/src/detect/config.js';
import { runDetectors } from '../collector/src/detect/engine.js';
import { DETECTION_KINDS } from '../collector/src/detect/types.js';
import { openClickHouse, queryRows } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import type { BenchResult } from './types.js';

/**
 * A full detector pass (all six kinds, default thresholds) over the last hour against a 7-day
 * baseline, at 1M and 10M LLM calls spread over 8 days, on embedded ClickHouse (docs/architecture.md#performance-targets,
 * target < 2 s at 1M). Calls are generated inside ClickHouse (INSERT … SELECT FROM numbers) with
 * a daily load cycle, 4 services, 5 models, 8 prompts with versions, 20k users, 64-dim content
 * sketches, 2% errors and PII findings; the last hour carries a latency regression and an error
 * burst so the significance tests and the evidence queries run too, as they would on a bad day.
 */
const DAY_MS = 86_400_000;
const SPAN_MS = 8 * DAY_MS;

function generateCalls(n: number, offset: number, total: number, endMs: number): string {
  // Timestamps are spread over 8 days with a ±50% daily cycle (inverse-CDF warp of a uniform).
  return `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Dialect, Provider, Operation,
    RequestModel, ResponseModel, Model, InputTokens, OutputTokens, CostUsd, PriceVersion, LatencyMs, TtftMs, Streaming,
    FinishReasons, Status, ErrorType, PromptName, PromptVersion, UserId, SessionId, ToolNames, PiiTypes, PiiCount,
    InputChars, OutputChars, Language, InputSketch, OutputSketch)
  SELECT 'bench',
    fromUnixTimestamp64Milli(toInt64(t)) AS Timestamp,
    lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))) AS TraceId,
    lower(hex(cityHash64(number, 3))) AS SpanId,
    ['support-bot', 'search-api', 'agent', 'batch'][1 + number % 4] AS ServiceName, 'genai' AS Dialect,
    if(h % 5 < 3, 'openai', 'anthropic') AS Provider, 'chat' AS Operation,
    ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'claude-haiku-4-5', 'claude-sonnet-4-5'][1 + h % 5] AS Model,
    Model AS RequestModel, Model AS ResponseModel,
    200 + h % 1800 AS InputTokens, if(Status = 'error', 0, 20 + bitShiftRight(h, 8) % 600) AS OutputTokens,
    (InputTokens * 0.5 + OutputTokens * 2) / 1e6 AS CostUsd, 'bench' AS PriceVersion,
    (300 + bitShiftRight(h, 16) % 3000) * if(recent AND Provider = 'anthropic', 2, 1) AS LatencyMs,
    if(h % 2 = 0, 80 + bitShiftRight(h, 24) % 400, NULL) AS TtftMs, h % 2 = 0 AS Streaming,
    [if(h % 13 = 0, 'length', 'stop')] AS FinishReasons,
    if(h % 50 = 0 OR (recent AND Model = 'gpt-4o-mini' AND h % 5 = 0), 'error', 'ok') AS Status,
    if(Status = 'error', 'RateLimitError', '') AS ErrorType,
    ['answer', 'summarize', 'classify', 'extract', 'route', 'translate', 'plan', 'critique'][1 + bitShiftRight(h, 4) % 8] AS PromptName,
    toString(1 + bitShiftRight(h, 6) % 2) AS PromptVersion,
    'user-' || toString(bitShiftRight(h, 10) % 20000) AS UserId, 'sess-' || toString(bitShiftRight(h, 12) % 200000) AS SessionId,
    if(h % 7 = 0, ['search'], []) AS ToolNames,
    if(h % 400 = 0, ['email'], []) AS PiiTypes, if(h % 400 = 0, 1, 0) AS PiiCount,
    InputTokens * 4 AS InputChars, OutputTokens * 4 AS OutputChars, if(h % 9 = 0, 'de', 'en') AS Language,
    arrayMap(i -> toFloat32(sin((h % 16 + 1) * i) / 5.6), range(64)) AS InputSketch,
    arrayMap(i -> toFloat32(cos((h % 12 + 1) * i) / 5.6), range(64)) AS OutputSketch
  FROM (
    SELECT number, cityHash64(number) AS h,
      (number + 0.5) / ${total} AS u,
      ${endMs - SPAN_MS} + (u + 0.5 * sin(2 * pi() * u * 8) / (2 * pi() * 8)) * ${SPAN_MS} AS t,
      t >= ${endMs - 3_600_000} AS recent
    FROM numbers(${offset}, ${n})
  )`;
}

const PII_SQL = `INSERT INTO pii_findings (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Model, PromptName,
    Type, Place, Action, Count, ValueHash)
  SELECT ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Model, PromptName, 'email',
    if(cityHash64(SpanId) % 3 = 0, 'output', 'input'), 'redact', 1, lower(hex(cityHash64(TraceId)))
  FROM llm_calls WHERE PiiCount > 0`;

export async function run(options: { quick?: boolean; sizes?: number[] } = {}): Promise<BenchResult> {
  const env = process.env.LLMWATCH_BENCH_DETECT_SIZES;
  const sizes =
    options.sizes ??
    (env ? env.split(',').map(Number) : options.quick ? [1_000_000] : [1_000_000, 10_000_000]);
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-detect-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  const config = parseConfig({}).detection;
  const data: Record<string, unknown>[] = [];
  const lines: string[] = [];
  try {
    await migrate(client);
    const endMs = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const window = { fromMs: endMs - 3_600_000, toMs: endMs };
    for (const size of sizes) {
      await client.command({ query: 'TRUNCATE TABLE llm_calls' });
      await client.command({ query: 'TRUNCATE TABLE pii_findings' });
      const t0 = performance.now();
      // In chunks, so one INSERT never holds everything in memory.
      for (let at = 0; at < size; at += 1_000_000)
        await client.command({ query: generateCalls(Math.min(1_000_000, size - at), at, size, endMs) });
      await client.command({ query: PII_SQL });
      const loadSeconds = (performance.now() - t0) / 1000;
      const [inWindow] = await queryRows<{ n: string }>(
        client,
        `SELECT toString(count()) AS n FROM llm_calls WHERE Timestamp >= fromUnixTimestamp64Milli({f:Int64})`,
        { f: window.fromMs },
      );

      // Warm-up pass (first-touch of parts and marks), then the median of 3 timed passes.
      await runDetectors(client, config, window);
      const passes: Array<{ ms: number; detections: number; perKind: Record<string, number> }> = [];
      for (let i = 0; i < 3; i++) {
        const perKind: Record<string, number> = {};
        let detections = 0;
        const t = performance.now();
        for (const kind of DETECTION_KINDS) {
          const k0 = performance.now();
          const cfg: DetectionConfig = { ...config };
          for (const k of DETECTION_KINDS) Object.assign(cfg, { [k]: { ...config[k], enabled: k === kind } });
          const result = await runDetectors(client, cfg, window);
          if (result.failed.length) throw new Error(`${kind}: ${result.failed[0]!.error}`);
          detections += result.detections.length;
          perKind[kind] = performance.now() - k0;
        }
        passes.push({ ms: performance.now() - t, detections, perKind });
      }
      passes.sort((a, b) => a.ms - b.ms);
      const median = passes[1]!;
      data.push({ calls: size, callsInWindow: Number(inWindow?.n), loadSeconds, ...median });
      lines.push(
        `| ${size.toLocaleString('en-US')} | ${Number(inWindow?.n).toLocaleString('en-US')} | ${median.ms.toFixed(0)} | ${Object.values(
          median.perKind,
        )
          .map((ms) => ms.toFixed(0))
          .join(' | ')} | ${median.detections} | ${loadSeconds.toFixed(1)} |`,
      );
    }
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const markdown = [
    '## Detectors: one full pass (embedded ClickHouse; last hour vs the same hour on the 7 previous days; median of 3)',
    '',
    `| LLM calls (8 days) | calls in window | full pass, ms | ${DETECTION_KINDS.join(' | ')} | detections | data generation, s |`,
    `|---:|---:|---:|${DETECTION_KINDS.map(() => '---:|').join('')}---:|---:|`,
    ...lines,
  ].join('\n');
  return { name: 'detect', markdown, data };
}
