import type { ClickHouseClient } from '@clickhouse/client';
import { GENAI, LLMWATCH, seededRandom } from '@llmwatch/core';
import { pick, randomHex } from './scenario.js';

/**
 * Realistic stored traffic, written straight into the tables with the real schema: what the
 * dashboard tests and the report tests query. (The demo itself goes through the SDK and the
 * collector; this is for tests that must not depend on the whole pipeline.)
 * Deterministic: the same options give the same rows.
 */
export interface SeedOptions {
  /** End of the generated traffic. */
  now: Date;
  /** Hours of traffic before `now`. @default 6 */
  hours?: number;
  /** Calls per hour per project. @default 180 */
  callsPerHour?: number;
  /** @default ['default'] */
  projects?: string[];
  /** PRNG seed. @default 42 */
  seed?: number;
}

export interface SeedRows {
  llmCalls: Record<string, unknown>[];
  spans: Record<string, unknown>[];
  piiFindings: Record<string, unknown>[];
  scores: Record<string, unknown>[];
  /** Detector output (migration 002): history and current alert state. */
  detections: Record<string, unknown>[];
  alertState: Record<string, unknown>[];
  /** What the RAG diagnosis job writes for the `answer` prompt's traces (migration 007). */
  ragDiagnoses: Record<string, unknown>[];
  /**
   * The GenAI client histograms an app's OTel metrics SDK would export for the same calls
   * (cumulative, one point per 10 minutes per series; migration 004's otel_metrics_histogram).
   */
  genaiMetrics: Record<string, unknown>[];
}

interface ModelProfile {
  provider: string;
  model: string;
  /** USD per 1M input / output tokens. */
  price: [number, number];
  latencyMs: number;
}

const MODELS: ModelProfile[] = [
  { provider: 'openai', model: 'gpt-4o-mini', price: [0.15, 0.6], latencyMs: 700 },
  { provider: 'openai', model: 'gpt-4o', price: [2.5, 10], latencyMs: 1400 },
  { provider: 'anthropic', model: 'claude-sonnet-4-5', price: [3, 15], latencyMs: 1800 },
];
const SERVICES = ['support-bot', 'search-api'];
const PROMPTS = [
  { name: 'answer', version: '3' },
  { name: 'summarize', version: '1' },
  { name: 'classify', version: '2' },
];
/** Verdicts drawn for seeded RAG answers: mostly ok, the rest spread over the failure kinds. */
const RAG_VERDICTS = [
  ...Array<string>(14).fill('ok'),
  'knowledge_gap',
  'knowledge_gap',
  'retrieval_miss',
  'ungrounded',
  'refusal',
];
const KB_TOPICS = [
  ['refund', 'order', 'days'],
  ['password', 'reset', 'account'],
  ['invoice', 'download', 'pdf'],
];
const GAP_TOPICS = [
  ['battery', 'shipping', 'norway'],
  ['crypto', 'payment', 'voucher'],
];
const PII = [
  { type: 'email', place: 'input' },
  { type: 'phone', place: 'input' },
  { type: 'credit_card', place: 'input' },
  { type: 'secret', place: 'output' },
];

/** `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` in UTC: what DateTime64(9) parses in JSONEachRow. */
export function chDateTime64(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString();
  const micros = Math.round((ms - Math.floor(ms)) * 1000);
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(micros).padStart(3, '0')}000`;
}

export function seedTraffic(options: SeedOptions): SeedRows {
  const rand = seededRandom(options.seed ?? 42);
  const hours = options.hours ?? 6;
  const perHour = options.callsPerHour ?? 180;
  const projects = options.projects ?? ['default'];
  const end = options.now.getTime();
  const start = end - hours * 3_600_000;
  const rows: SeedRows = {
    llmCalls: [],
    spans: [],
    piiFindings: [],
    scores: [],
    detections: [],
    alertState: [],
    ragDiagnoses: [],
    genaiMetrics: [],
  };
  const total = Math.round(hours * perHour);

  for (const projectId of projects) {
    for (let i = 0; i < total; i++) {
      // Spread over the window, never in the future, newest call a few seconds before `now`.
      const t = start + ((i + rand() * 0.9) / total) * (end - start - 5_000);
      const m = pick(rand, MODELS);
      const service = pick(rand, SERVICES);
      const prompt = pick(rand, PROMPTS);
      const streaming = rand() < 0.5;
      const isError = rand() < 0.04;
      const inputTokens = 200 + Math.floor(rand() * 1800);
      const cacheRead = rand() < 0.3 ? Math.floor(inputTokens * 0.5) : 0;
      const outputTokens = isError ? 0 : 40 + Math.floor(rand() * 600);
      const reasoning = m.model === 'gpt-4o' ? Math.floor(outputTokens * 0.1) : 0;
      const latencyMs = m.latencyMs * (0.5 + rand()) + outputTokens * 2;
      const ttftMs = streaming ? 150 + rand() * 400 : null;
      const cost = isError ? 0 : (inputTokens * m.price[0] + outputTokens * m.price[1]) / 1e6;
      // Some calls come from a model without a price: cost stays unknown, never 0.
      const unpriced = rand() < 0.02;
      const traceId = randomHex(rand, 16);
      const rootSpanId = randomHex(rand, 8);
      const spanId = randomHex(rand, 8);
      const userId = `u-${1 + Math.floor(rand() ** 2 * 40)}`;
      const sessionId = `s-${randomHex(rand, 4)}`;
      const finish = isError ? [] : [rand() < 0.08 ? 'length' : rand() < 0.1 ? 'tool_calls' : 'stop'];
      const pii = !isError && rand() < 0.06 ? pick(rand, PII) : undefined;
      const outputChars = outputTokens * 4;
      const ts = chDateTime64(t);
      const opName = `chat ${m.model}`;

      rows.llmCalls.push({
        ProjectId: projectId,
        Timestamp: ts,
        TraceId: traceId,
        SpanId: spanId,
        ParentSpanId: rootSpanId,
        ServiceName: service,
        Dialect: 'llmwatch',
        Provider: m.provider,
        Operation: 'chat',
        RequestModel: m.model,
        ResponseModel: m.model,
        Model: m.model,
        ResponseId: `resp_${randomHex(rand, 6)}`,
        InputTokens: inputTokens,
        OutputTokens: outputTokens,
        CacheReadTokens: cacheRead,
        CacheWriteTokens: 0,
        ReasoningTokens: reasoning,
        CostUsd: unpriced ? null : cost,
        PriceVersion: unpriced ? '' : '2026-11-01',
        LatencyMs: latencyMs,
        TtftMs: ttftMs,
        Streaming: streaming,
        FinishReasons: finish,
        Status: isError ? 'error' : 'ok',
        ErrorType: isError ? pick(rand, ['RateLimitError', 'InternalServerError']) : '',
        PromptName: prompt.name,
        PromptVersion: prompt.version,
        UserId: userId,
        SessionId: sessionId,
        ConversationId: '',
        Tags: { env: 'prod' },
        InputContent: '',
        OutputContent: '',
        SystemContent: '',
        ToolNames: finish[0] === 'tool_calls' ? ['search'] : [],
        PiiTypes: pii ? [pii.type] : [],
        PiiCount: pii ? 1 : 0,
        InputChars: inputTokens * 4,
        OutputChars: outputChars,
        Language: rand() < 0.85 ? 'en' : 'de',
        InputSketch: [],
        OutputSketch: [],
      });

      const resource = { 'service.name': service, 'deployment.environment': 'prod' };
      rows.spans.push(
        {
          ProjectId: projectId,
          Timestamp: chDateTime64(t - 5),
          TraceId: traceId,
          SpanId: rootSpanId,
          ParentSpanId: '',
          TraceState: '',
          SpanName: `POST /${prompt.name}`,
          SpanKind: 'Server',
          ServiceName: service,
          ResourceAttributes: resource,
          ScopeName: '@opentelemetry/instrumentation-http',
          ScopeVersion: '0.57.0',
          SpanAttributes: { 'http.request.method': 'POST', 'http.route': `/${prompt.name}` },
          Duration: Math.round((latencyMs + 10) * 1e6),
          StatusCode: isError ? 'Error' : 'Unset',
          StatusMessage: '',
          'Events.Timestamp': [],
          'Events.Name': [],
          'Events.Attributes': [],
          'Links.TraceId': [],
          'Links.SpanId': [],
          'Links.TraceState': [],
          'Links.Attributes': [],
        },
        {
          ProjectId: projectId,
          Timestamp: ts,
          TraceId: traceId,
          SpanId: spanId,
          ParentSpanId: rootSpanId,
          TraceState: '',
          SpanName: opName,
          SpanKind: 'Client',
          ServiceName: service,
          ResourceAttributes: resource,
          ScopeName: '@llmwatch/sdk',
          ScopeVersion: '0.1.0',
          SpanAttributes: {
            [GENAI.operationName]: 'chat',
            [GENAI.providerName]: m.provider,
            [GENAI.requestModel]: m.model,
            [GENAI.responseModel]: m.model,
            [GENAI.usageInputTokens]: String(inputTokens),
            [GENAI.usageOutputTokens]: String(outputTokens),
            [GENAI.promptName]: prompt.name,
            [LLMWATCH.promptVersion]: prompt.version,
          },
          Duration: Math.round(latencyMs * 1e6),
          StatusCode: isError ? 'Error' : 'Unset',
          StatusMessage: isError ? 'upstream error' : '',
          'Events.Timestamp': ttftMs === null ? [] : [chDateTime64(t + ttftMs)],
          'Events.Name': ttftMs === null ? [] : ['first_chunk'],
          'Events.Attributes': ttftMs === null ? [] : [{}],
          'Links.TraceId': [],
          'Links.SpanId': [],
          'Links.TraceState': [],
          'Links.Attributes': [],
        },
      );

      if (prompt.name === 'answer' && !isError) {
        const verdict = pick(rand, RAG_VERDICTS);
        const gap = verdict === 'knowledge_gap' || verdict === 'retrieval_miss';
        rows.ragDiagnoses.push({
          ProjectId: projectId,
          Timestamp: chDateTime64(t - 5).slice(0, 23),
          TraceId: traceId,
          ServiceName: service,
          Pipeline: `POST /${prompt.name}`,
          PromptName: prompt.name,
          PromptVersion: prompt.version,
          Verdict: verdict,
          Documents: gap && rand() < 0.3 ? 0 : 1 + Math.floor(rand() * 5),
          MaxRelevance: gap ? rand() * 0.4 : 0.5 + rand() * 0.5,
          MeanRelevance: gap ? rand() * 0.25 : 0.3 + rand() * 0.4,
          Groundedness: gap ? null : verdict === 'ungrounded' ? rand() * 0.5 : 0.6 + rand() * 0.4,
          QuestionTerms: gap ? pick(rand, GAP_TOPICS) : pick(rand, KB_TOPICS),
          Evidence: '{}',
        });
      }

      if (pii) {
        rows.piiFindings.push({
          ProjectId: projectId,
          Timestamp: ts,
          TraceId: traceId,
          SpanId: spanId,
          ServiceName: service,
          Provider: m.provider,
          Model: m.model,
          PromptName: prompt.name,
          Type: pii.type,
          Place: pii.place,
          Action: 'detect',
          Count: 1,
          ValueHash: randomHex(rand, 16),
        });
      }
      if (!isError && rand() < 0.2) {
        const thumbsUp = rand() < (m.model === 'gpt-4o-mini' ? 0.7 : 0.85);
        rows.scores.push({
          ProjectId: projectId,
          Timestamp: chDateTime64(t + latencyMs + 2_000).slice(0, 23),
          TraceId: traceId,
          SpanId: spanId,
          Name: 'user_feedback',
          Value: thumbsUp ? 1 : 0,
          Label: thumbsUp ? 'up' : 'down',
          Comment: '',
          Source: 'user',
        });
      }
    }
    // One detection per kind per hour, some resolved later: what the detectors would have written.
    const kinds: [string, string, string, string, number, number][] = [
      ['cost_spike', 'cost_spike.user', 'userId=u-3', 'critical', 4.2, 0.6],
      ['latency_regression', 'latency_regression.p95', 'model=gpt-4o', 'warning', 3100, 1900],
      ['drift', 'drift.output_tokens', 'model=gpt-4o-mini', 'warning', 0.31, 0.05],
      ['drift', 'drift.language', 'promptName=answer', 'info', 0.27, 0.02],
      ['pii_leak', 'pii_leak.secret', 'promptName=summarize', 'critical', 3, 0],
      ['error_rate', 'error_rate.model', 'model=claude-sonnet-4-5', 'warning', 0.12, 0.03],
    ];
    for (let h = 0; h < hours; h++) {
      const windowTo = end - h * 3_600_000;
      kinds.forEach(([kind, rule, subjectKey, severity, observed, baseline], k) => {
        if ((h + k) % 2 === 1) return;
        const status = h === 0 || k % 3 !== 0 ? 'firing' : 'resolved';
        const detection = {
          id: randomHex(rand, 12),
          kind,
          status,
          severity,
          project: projectId,
          rule,
          subject: Object.fromEntries([subjectKey.split('=') as [string, string]]),
          window: {
            from: new Date(windowTo - 3_600_000).toISOString(),
            to: new Date(windowTo).toISOString(),
          },
          observed: observed * (1 + rand() * 0.2),
          baseline,
          message: `${rule} on ${subjectKey}: ${observed} vs baseline ${baseline}`,
          evidence: {},
        };
        rows.detections.push({
          ProjectId: projectId,
          WindowTo: chDateTime64(windowTo).slice(0, 23),
          WindowFrom: chDateTime64(windowTo - 3_600_000).slice(0, 23),
          Id: detection.id,
          Kind: kind,
          Status: status,
          Severity: severity,
          Rule: rule,
          SubjectKey: subjectKey,
          Observed: detection.observed,
          Baseline: baseline,
          Message: detection.message,
          Json: JSON.stringify(detection),
          Notified: severity !== 'info',
        });
        if (h === 0)
          rows.alertState.push({
            ProjectId: projectId,
            Rule: rule,
            SubjectKey: subjectKey,
            Kind: kind,
            Status: status,
            Severity: severity,
            FirstFiredAt: chDateTime64(windowTo - 3_600_000).slice(0, 23),
            LastFiredAt: chDateTime64(windowTo).slice(0, 23),
            ResolvedAt: null,
            LastNotifiedAt: chDateTime64(windowTo).slice(0, 23),
            Json: JSON.stringify(detection),
            Version: 1,
          });
      });
    }
  }
  rows.genaiMetrics = genaiMetricPoints(rows.llmCalls, start, end);
  return rows;
}

const METRIC_STEP_MS = 600_000;

/** Cumulative gen_ai.client.* histogram points of the seeded calls (bucket counts left out). */
function genaiMetricPoints(
  calls: Record<string, unknown>[],
  start: number,
  end: number,
): Record<string, unknown>[] {
  interface Series {
    base: Record<string, unknown>;
    attributes: Record<string, string>;
    value: (call: Record<string, unknown>) => number;
    count: number;
    sum: number;
  }
  const series = new Map<string, Series>();
  const points: Record<string, unknown>[] = [];
  const sorted = [...calls].sort((a, b) => String(a.Timestamp).localeCompare(String(b.Timestamp)));
  let next = 0;
  for (let t = start + METRIC_STEP_MS; t <= end; t += METRIC_STEP_MS) {
    const until = chDateTime64(t);
    for (; next < sorted.length && String(sorted[next]!.Timestamp) < until; next++) {
      const call = sorted[next]!;
      const common = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': String(call.Provider),
        'gen_ai.request.model': String(call.RequestModel),
        'gen_ai.response.model': String(call.ResponseModel),
      };
      const kinds: [string, string, Record<string, string>, (c: Record<string, unknown>) => number][] = [
        ['gen_ai.client.operation.duration', 's', common, (c) => Number(c.LatencyMs) / 1000],
        [
          'gen_ai.client.token.usage',
          '{token}',
          { ...common, 'gen_ai.token.type': 'input' },
          (c) => Number(c.InputTokens),
        ],
        [
          'gen_ai.client.token.usage',
          '{token}',
          { ...common, 'gen_ai.token.type': 'output' },
          (c) => Number(c.OutputTokens),
        ],
      ];
      for (const [name, unit, attributes, value] of kinds) {
        const key = `${String(call.ProjectId)}|${String(call.ServiceName)}|${name}|${JSON.stringify(attributes)}`;
        let s = series.get(key);
        if (!s) {
          s = {
            base: {
              ProjectId: call.ProjectId,
              ServiceName: call.ServiceName,
              ResourceAttributes: { 'service.name': String(call.ServiceName) },
              ScopeName: '@opentelemetry/instrumentation-openai',
              MetricName: name,
              MetricUnit: unit,
              StartTimeUnix: chDateTime64(start),
              AggregationTemporality: 2,
            },
            attributes,
            value,
            count: 0,
            sum: 0,
          };
          series.set(key, s);
        }
        s.count++;
        s.sum += s.value(call);
      }
    }
    for (const s of series.values())
      points.push({ ...s.base, Attributes: s.attributes, TimeUnix: until, Count: s.count, Sum: s.sum });
  }
  return points;
}

/** Inserts seeded rows; llm_calls feeds the per-minute rollup through its materialized view. */
export async function insertSeed(client: ClickHouseClient, rows: SeedRows): Promise<void> {
  const tables: [string, Record<string, unknown>[]][] = [
    ['llm_calls', rows.llmCalls],
    ['otel_traces', rows.spans],
    ['pii_findings', rows.piiFindings],
    ['scores', rows.scores],
    ['detections', rows.detections],
    ['alert_state', rows.alertState],
    ['rag_diagnoses', rows.ragDiagnoses],
    ['otel_metrics_histogram', rows.genaiMetrics],
  ];
  for (const [table, values] of tables) {
    if (values.length) await client.insert({ table, values, format: 'JSONEachRow' });
  }
}
