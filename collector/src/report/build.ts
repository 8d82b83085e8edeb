import type { ClickHouseClient } from '@clickhouse/client';
import { baselineStatuses, type BaselineStatus } from '../detect/baseline.js';
import { detectionSchema, type DetectionConfig } from '../detect/config.js';
import type { Detection } from '../detect/types.js';
import { LlmwatchError } from '../errors.js';
import { verdictRates, verdictTotals, type VerdictRateRow } from '../rag/store.js';
import { queryRows } from '../storage/clickhouse.js';
import { modelFamilySql } from '../storage/model-family.js';

/**
 * The data behind `llmwatch report` and `GET /api/report`: per model and per prompt cost, tokens,
 * latency percentiles and errors (from the per-minute rollup), error types, PII findings and
 * open alerts, each with a small time series for sparklines.
 */
export interface ReportGroup {
  key: string;
  provider?: string;
  calls: number;
  errors: number;
  errorRate: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Calls whose model has no price: their cost is unknown, not zero. */
  unpricedCalls: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  ttftP95Ms: number | null;
  /** Calls per bucket, oldest first (`Report.bucketSeconds` each). */
  callsSeries: number[];
  /** Cost per bucket, oldest first. */
  costSeries: number[];
}

export interface ReportAlert {
  id: string;
  kind: string;
  severity: string;
  status: string;
  rule: string;
  subject: Record<string, string>;
  message: string;
  firstSeen: string;
  lastSeen: string;
}

export interface Report {
  project: string;
  from: string;
  to: string;
  bucketSeconds: number;
  totals: Omit<ReportGroup, 'key' | 'provider'>;
  byModel: ReportGroup[];
  byPrompt: ReportGroup[];
  /**
   * Why calls have no cost, counted apart: the model has no known price, or the emitter reported
   * no token usage (tokens unknown, not zero).
   */
  unpriced: { noPriceForModel: number; noUsageReported: number };
  errors: { model: string; errorType: string; calls: number }[];
  pii: { type: string; place: string; findings: number; calls: number; series: number[] }[];
  /** Open (firing) alerts; `null` when this deployment has no alert store yet. */
  alerts: ReportAlert[] | null;
  /** Per detector: seasonal, recent or still learning, with the history it has (docs/detection.md). */
  baselines: BaselineStatus[];
  /** RAG verdicts per pipeline and prompt (docs/rag.md), from the traces diagnosed so far. */
  rag: VerdictRateRow[];
}

export interface ReportOptions {
  project: string;
  /** Window length in milliseconds. */
  sinceMs: number;
  /** End of the window. @default now */
  now?: Date;
  /** Sparkline resolution. @default 24 */
  buckets?: number;
  /** Thresholds of the baseline tiers. @default the defaults of `detection:` */
  detection?: DetectionConfig;
}

const SINCE_UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `30m`, `24h`, `7d`, `2w` → milliseconds. */
export function parseSince(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (!m)
    throw new LlmwatchError(
      'usage',
      `--since: expected a duration like 30m, 24h or 7d, got ${JSON.stringify(text)}`,
    );
  const ms = Number(m[1]) * SINCE_UNITS[m[2]!]!;
  if (ms < 60_000 || ms > 400 * 86_400_000)
    throw new LlmwatchError('usage', `--since: must be between 1m and 400d, got ${text}`);
  return ms;
}

const Q = 'quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)';
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const quantile = (v: unknown): number | null => {
  const n = Number(v);
  return v === null || v === undefined || !Number.isFinite(n) ? null : Math.round(n * 10) / 10;
};

interface GroupRow {
  key: string;
  provider?: string;
  calls: unknown;
  errors: unknown;
  inputTokens: unknown;
  outputTokens: unknown;
  cost: unknown;
  unpriced: unknown;
  q: unknown[];
  t: unknown[];
}

function toGroup(row: GroupRow, buckets: number): ReportGroup {
  const calls = num(row.calls);
  const errors = num(row.errors);
  return {
    key: row.key,
    ...(row.provider !== undefined ? { provider: row.provider } : {}),
    calls,
    errors,
    errorRate: calls ? errors / calls : 0,
    inputTokens: num(row.inputTokens),
    outputTokens: num(row.outputTokens),
    costUsd: num(row.cost),
    unpricedCalls: num(row.unpriced),
    p50Ms: quantile(row.q[0]),
    p95Ms: quantile(row.q[2]),
    p99Ms: quantile(row.q[3]),
    ttftP95Ms: quantile(row.t[2]),
    callsSeries: new Array<number>(buckets).fill(0),
    costSeries: new Array<number>(buckets).fill(0),
  };
}

export async function buildReport(client: ClickHouseClient, options: ReportOptions): Promise<Report> {
  const buckets = options.buckets ?? 24;
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - options.sinceMs);
  const bucketSeconds = Math.max(60, Math.ceil(options.sinceMs / 1000 / buckets));
  const params = {
    project: options.project,
    from: Math.floor(from.getTime() / 1000),
    to: Math.floor(to.getTime() / 1000),
    bucket: bucketSeconds,
  };
  const rollupWhere = `ProjectId = {project:String}
    AND Minute >= toStartOfMinute(toDateTime({from:UInt32})) AND Minute <= toDateTime({to:UInt32})`;
  const measures = `sum(Calls) AS calls, sum(Errors) AS errors, sum(InputTokens) AS inputTokens,
    sum(OutputTokens) AS outputTokens, sum(CostUsd) AS cost, sum(UnpricedCalls) AS unpriced,
    ${Q}(LatencyQuantiles) AS q, ${Q}(TtftQuantiles) AS t`;
  const bucketExpr = `intDiv(toUInt32(Minute) - toUInt32(toStartOfMinute(toDateTime({from:UInt32}))), {bucket:UInt32})`;

  const groups = async (keyExpr: string, extra: string): Promise<ReportGroup[]> => {
    const rows = await queryRows<GroupRow>(
      client,
      `SELECT ${keyExpr} AS key${extra}, ${measures} FROM llm_calls_1m WHERE ${rollupWhere}
       GROUP BY key${extra ? ', provider' : ''} ORDER BY cost DESC, calls DESC, key`,
      params,
    );
    const out = rows.map((r) => toGroup(r, buckets));
    const byKey = new Map(out.map((g) => [g.key, g]));
    const series = await queryRows<{ key: string; b: unknown; calls: unknown; cost: unknown }>(
      client,
      `SELECT ${keyExpr} AS key, ${bucketExpr} AS b, sum(Calls) AS calls, sum(CostUsd) AS cost
       FROM llm_calls_1m WHERE ${rollupWhere} GROUP BY key, b`,
      params,
    );
    for (const s of series) {
      const g = byKey.get(s.key);
      const b = Math.min(num(s.b), buckets - 1);
      if (!g || b < 0) continue;
      g.callsSeries[b]! += num(s.calls);
      g.costSeries[b]! += num(s.cost);
    }
    return out;
  };

  // One row per model family: a dated response model and its undated request model are one model.
  const byModel = await groups(modelFamilySql('Model'), ', Provider AS provider');
  const byPrompt = await groups("if(PromptName = '', '(none)', concat(PromptName, ' v', PromptVersion))", '');
  const [totalRow] = await queryRows<GroupRow>(
    client,
    `SELECT '' AS key, ${measures} FROM llm_calls_1m WHERE ${rollupWhere}`,
    params,
  );
  const totals = toGroup(totalRow ?? ({ key: '', q: [], t: [] } as unknown as GroupRow), buckets);
  for (const g of byModel)
    g.callsSeries.forEach((v, i) => {
      totals.callsSeries[i]! += v;
      totals.costSeries[i]! += g.costSeries[i]!;
    });
  const { key: _k, ...totalsOut } = totals;

  const callsWhere = `ProjectId = {project:String}
    AND Timestamp >= toDateTime64({from:UInt32}, 3) AND Timestamp <= toDateTime64({to:UInt32}, 3)`;
  const errors = (
    await queryRows<{ model: string; errorType: string; calls: unknown }>(
      client,
      `SELECT ${modelFamilySql('Model')} AS model, if(ErrorType = '', '(unknown)', ErrorType) AS errorType, count() AS calls
       FROM llm_calls WHERE ${callsWhere} AND Status = 'error'
       GROUP BY model, errorType ORDER BY calls DESC, model, errorType LIMIT 50`,
      params,
    )
  ).map((r) => ({ ...r, calls: num(r.calls) }));

  const [unpricedRow] = await queryRows<{ noPrice: unknown; noUsage: unknown }>(
    client,
    `SELECT countIf(CostUsd IS NULL AND UsageReported) AS noPrice, countIf(NOT UsageReported) AS noUsage
     FROM llm_calls WHERE ${callsWhere}`,
    params,
  );
  const unpriced = { noPriceForModel: num(unpricedRow?.noPrice), noUsageReported: num(unpricedRow?.noUsage) };

  const piiRows = await queryRows<{ type: string; place: string; findings: unknown; calls: unknown }>(
    client,
    `SELECT Type AS type, Place AS place, sum(Count) AS findings, uniqExact(TraceId, SpanId) AS calls
     FROM pii_findings WHERE ${callsWhere}
     GROUP BY type, place ORDER BY findings DESC, type, place`,
    params,
  );
  const pii = piiRows.map((r) => ({
    type: r.type,
    place: r.place,
    findings: num(r.findings),
    calls: num(r.calls),
    series: new Array<number>(buckets).fill(0),
  }));
  const piiSeries = await queryRows<{ type: string; place: string; b: unknown; findings: unknown }>(
    client,
    `SELECT Type AS type, Place AS place, intDiv(toUInt32(toDateTime(Timestamp)) - {from:UInt32}, {bucket:UInt32}) AS b,
       sum(Count) AS findings
     FROM pii_findings WHERE ${callsWhere} GROUP BY type, place, b`,
    params,
  );
  for (const s of piiSeries) {
    const p = pii.find((x) => x.type === s.type && x.place === s.place);
    if (p) p.series[Math.min(num(s.b), buckets - 1)]! += num(s.findings);
  }

  return {
    project: options.project,
    from: from.toISOString(),
    to: to.toISOString(),
    bucketSeconds,
    totals: totalsOut,
    byModel,
    byPrompt,
    unpriced,
    errors,
    pii,
    alerts: await openAlerts(client, options.project),
    rag: verdictTotals(await verdictRates(client, options.project, from.getTime(), to.getTime(), 1440)),
    baselines: await baselineStatuses(
      client,
      options.detection ?? detectionSchema.parse({}),
      options.project,
      to.getTime(),
    ),
  };
}

/**
 * Open alerts: the firing rows of alert_state (migration 002, detection/alerting), newest first.
 * `null` when the store is absent (a deployment that predates it), so the report still works.
 */
async function openAlerts(client: ClickHouseClient, project: string): Promise<ReportAlert[] | null> {
  const [table] = await queryRows<{ name: string }>(
    client,
    `SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'alert_state'`,
  );
  if (!table) return null;
  const rows = await queryRows<{ json: string; first: string; last: string; status: string }>(
    client,
    `SELECT Json AS json, toString(FirstFiredAt) AS first, toString(LastFiredAt) AS last, Status AS status
     FROM alert_state FINAL
     WHERE ProjectId = {project:String} AND Status = 'firing'
     ORDER BY LastFiredAt DESC, Rule, SubjectKey LIMIT 100`,
    { project },
  );
  return rows.map((r) => {
    let d: Partial<Detection> = {};
    try {
      d = JSON.parse(r.json) as Partial<Detection>;
    } catch {
      // A row written by a newer version: show what the columns say.
    }
    return {
      id: d.id ?? '',
      kind: d.kind ?? '',
      severity: d.severity ?? '',
      status: r.status,
      rule: d.rule ?? '',
      subject: { ...(d.subject ?? {}) } as Record<string, string>,
      message: d.message ?? '',
      firstSeen: `${r.first.replace(' ', 'T')}Z`,
      lastSeen: `${r.last.replace(' ', 'T')}Z`,
    };
  });
}
