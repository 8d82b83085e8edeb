import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, queryRows } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { DASHBOARDS } from '../grafana/dashboards.js';
import { expandPanelSql, type TemplateVariable } from '../grafana/macros.js';
import type { BenchResult } from './types.js';

/**
 * Dashboard query latency (docs/architecture.md#performance-targets) at 1M and 10M LLM calls on embedded ClickHouse: every
 * panel of every provisioned dashboard, expanded exactly as Grafana's ClickHouse plugin does, over
 * the last 24 h with All selected (the heaviest common view). Data is generated inside ClickHouse
 * (INSERT … SELECT FROM numbers) so the rollup materialized view runs as it does on ingest.
 */
const DAY_MS = 86_400_000;

/** `n` calls spread over the day before `endMs`, numbered from `offset` (also used by bench/console.ts). */
export function generateCalls(n: number, offset: number, endMs: number): string {
  return `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, ParentSpanId, ServiceName, Dialect, Provider,
    Operation, RequestModel, ResponseModel, Model, InputTokens, OutputTokens, CacheReadTokens, ReasoningTokens, CostUsd,
    PriceVersion, LatencyMs, TtftMs, Streaming, FinishReasons, Status, ErrorType, PromptName, PromptVersion, UserId,
    SessionId, PiiTypes, PiiCount, InputChars, OutputChars, Language)
  SELECT 'default' AS ProjectId,
    fromUnixTimestamp64Milli(toInt64(${endMs} - intDiv((number + ${offset}) * ${DAY_MS}, ${n + offset}))) AS Timestamp,
    lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))) AS TraceId,
    lower(hex(cityHash64(number, 3))) AS SpanId, '' AS ParentSpanId,
    ['support-bot', 'search-api', 'agent'][1 + number % 3] AS ServiceName, 'llmwatch' AS Dialect,
    if(h % 5 < 3, 'openai', 'anthropic') AS Provider, 'chat' AS Operation,
    ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'claude-haiku-4-5', 'claude-sonnet-4-5'][1 + h % 5] AS Model,
    Model AS RequestModel, Model AS ResponseModel,
    200 + h % 1800 AS InputTokens, 20 + bitShiftRight(h, 8) % 600 AS OutputTokens, if(h % 7 = 0, 100, 0) AS CacheReadTokens,
    0 AS ReasoningTokens, (InputTokens * 0.5 + OutputTokens * 2) / 1e6 AS CostUsd, '2026-11-01' AS PriceVersion,
    150 + bitShiftRight(h, 16) % 3000 AS LatencyMs, if(h % 2 = 0, 80 + bitShiftRight(h, 24) % 400, NULL) AS TtftMs, h % 2 = 0 AS Streaming,
    [if(h % 13 = 0, 'length', 'stop')] AS FinishReasons, if(h % 50 = 0, 'error', 'ok') AS Status,
    if(h % 50 = 0, 'RateLimitError', '') AS ErrorType,
    ['answer', 'summarize', 'classify', 'extract'][1 + bitShiftRight(h, 4) % 4] AS PromptName, toString(1 + bitShiftRight(h, 6) % 3) AS PromptVersion,
    'user-' || toString(bitShiftRight(h, 10) % 5000) AS UserId, 'sess-' || toString(bitShiftRight(h, 12) % 100000) AS SessionId,
    if(h % 40 = 0, ['email'], []) AS PiiTypes, if(h % 40 = 0, 1, 0) AS PiiCount,
    InputTokens * 4 AS InputChars, OutputTokens * 4 AS OutputChars, if(h % 9 = 0, 'de', 'en') AS Language
  FROM (SELECT number, cityHash64(number) AS h FROM numbers(${offset}, ${n}))`;
}

function generateSide(endMs: number): string[] {
  return [
    `INSERT INTO otel_traces (ProjectId, Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
      ResourceAttributes, SpanAttributes, Duration, StatusCode)
     SELECT ProjectId, Timestamp, TraceId, SpanId, '', concat('chat ', Model), 'Client', ServiceName,
       map('service.name', ServiceName), map('gen_ai.request.model', Model), toUInt64(LatencyMs * 1e6),
       if(Status = 'error', 'Error', 'Unset')
     FROM llm_calls`,
    `INSERT INTO pii_findings (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Model, PromptName, Type,
      Place, Action, Count, ValueHash)
     SELECT ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Model, PromptName, 'email', 'input', 'detect', 1,
       lower(hex(cityHash64(TraceId)))
     FROM llm_calls WHERE PiiCount > 0`,
    `INSERT INTO scores (ProjectId, Timestamp, TraceId, SpanId, Name, Value, Source)
     SELECT ProjectId, Timestamp, TraceId, SpanId, 'user_feedback', cityHash64(TraceId) % 4 > 0, 'user'
     FROM llm_calls WHERE cityHash64(SpanId) % 5 = 0`,
    `INSERT INTO detections (ProjectId, WindowTo, WindowFrom, Id, Kind, Status, Severity, Rule, SubjectKey, Observed,
      Baseline, Message, Json, Notified)
     SELECT 'default', fromUnixTimestamp64Milli(toInt64(${endMs} - number * 3600000)),
       fromUnixTimestamp64Milli(toInt64(${endMs} - (number + 1) * 3600000)), toString(number),
       ['drift', 'cost_spike', 'latency_regression'][1 + number % 3], 'firing', 'warning', 'drift.output_tokens',
       'model=gpt-4o', 0.3, 0.05, 'shift', '{}', true
     FROM numbers(48)`,
    `INSERT INTO alert_state (ProjectId, Rule, SubjectKey, Kind, Status, Severity, FirstFiredAt, LastFiredAt, Json, Version)
     VALUES ('default', 'drift.output_tokens', 'model=gpt-4o', 'drift', 'firing', 'warning', now64(3), now64(3), '{}', 1)`,
  ];
}

export async function run(options: { quick?: boolean; sizes?: number[] } = {}): Promise<BenchResult> {
  const sizes = options.sizes ?? (options.quick ? [100_000] : [1_000_000, 10_000_000]);
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-dash-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  const data: Record<string, unknown>[] = [];
  const lines: string[] = [];
  try {
    await migrate(client);
    const endMs = Date.now() - 60_000;
    let loaded = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      // Top up to `size`, in chunks so one INSERT never holds everything in memory.
      for (let at = loaded; at < size; at += 1_000_000) {
        await client.command({ query: generateCalls(Math.min(1_000_000, size - at), at, endMs) });
      }
      loaded = size;
      await client.command({ query: 'TRUNCATE TABLE otel_traces' });
      await client.command({ query: 'TRUNCATE TABLE pii_findings' });
      await client.command({ query: 'TRUNCATE TABLE scores' });
      await client.command({ query: 'TRUNCATE TABLE detections' });
      for (const sql of generateSide(endMs)) await client.command({ query: sql });
      const loadSeconds = (performance.now() - t0) / 1000;
      const [trace] = await queryRows<{ t: string }>(client, 'SELECT any(TraceId) AS t FROM llm_calls');

      const vars: TemplateVariable[] = [
        { name: 'project', value: 'default' },
        { name: 'service', value: ['$__all'] },
        { name: 'model', value: ['$__all'] },
        { name: 'prompt', value: ['$__all'] },
        { name: 'trace_id', value: trace!.t },
      ];
      const ctx = { from: new Date(endMs - DAY_MS), to: new Date(endMs + 60_000), intervalMs: 60_000 };
      for (const [name, dashboard] of Object.entries(DASHBOARDS)) {
        const panels: { title: string; ms: number }[] = [];
        for (const panel of dashboard.panels) {
          const sql = expandPanelSql(panel.targets[0]!.rawSql, vars, ctx);
          const runs: number[] = [];
          for (let i = 0; i < 3; i++) {
            const t = performance.now();
            await queryRows(client, sql);
            runs.push(performance.now() - t);
          }
          panels.push({ title: panel.title, ms: runs.sort((a, b) => a - b)[1]! });
        }
        const slowest = panels.reduce((a, b) => (b.ms > a.ms ? b : a));
        const total = panels.reduce((n, p) => n + p.ms, 0);
        data.push({ calls: size, dashboard: name, loadSeconds, totalMs: total, panels });
        lines.push(
          `| ${size.toLocaleString('en-US')} | ${dashboard.title} | ${panels.length} | ${total.toFixed(0)} | ${slowest.ms.toFixed(0)} (${slowest.title}) |`,
        );
      }
      lines.push(
        `| ${size.toLocaleString('en-US')} | (data generation) | | ${(loadSeconds * 1000).toFixed(0)} | |`,
      );
    }
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const markdown = [
    '## Dashboard queries (embedded ClickHouse, last 24 h, All selected; median of 3 per panel)',
    '',
    '| LLM calls | dashboard | panels | all panels, ms | slowest panel, ms |',
    '|---:|---|---:|---:|---|',
    ...lines,
  ].join('\n');
  return { name: 'dashboards', markdown, data };
}
