import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';

/**
 * Call measures per time bucket and per group, read from the per-minute rollup (llm_calls_1m) so
 * a day of a million calls costs a few thousand rollup rows. Only a user filter, which the rollup
 * does not keep, falls back to the raw calls. Shared by GET /api/overview and the alert chart.
 */
export interface CallMeasures {
  calls: number;
  errors: number;
  errorRate: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Calls whose model has no price: their cost is unknown, not zero. */
  unpricedCalls: number;
  piiCalls: number;
  /** t-digest estimates (±1% typical); null without calls. */
  p50Ms: number | null;
  p95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

export interface SeriesPoint extends CallMeasures {
  /** Bucket start, ISO 8601. */
  time: string;
}

export interface CallFilter {
  service?: string;
  provider?: string;
  model?: string;
  promptName?: string;
  promptVersion?: string;
  userId?: string;
}

/** Whole minutes: the rollup's grain. `fromMs` rounds down, `toMs` up. */
export interface MinuteRange {
  fromMs: number;
  toMs: number;
}

/** What overview groups split by, and the call filter columns that name one group. */
export const GROUP_COLUMNS = {
  model: ['model'],
  provider: ['provider'],
  service: ['service'],
  prompt: ['promptName', 'promptVersion'],
} as const satisfies Record<string, ReadonlyArray<keyof CallFilter>>;
export type GroupBy = keyof typeof GROUP_COLUMNS;

const MINUTE_MS = 60_000;
/** The rollup's quantile states; p50 and p95 are elements 0 and 2. */
const LEVELS = '(0.5, 0.9, 0.95, 0.99)';

export function minuteRange(fromMs: number, toMs: number): MinuteRange {
  return {
    fromMs: Math.floor(fromMs / MINUTE_MS) * MINUTE_MS,
    toMs: Math.ceil(toMs / MINUTE_MS) * MINUTE_MS,
  };
}

const COLUMN_OF: Record<keyof CallFilter, string> = {
  service: 'ServiceName',
  provider: 'Provider',
  model: 'Model',
  promptName: 'PromptName',
  promptVersion: 'PromptVersion',
  userId: 'UserId',
};

interface MeasureRow {
  calls: string | number;
  errors: string | number;
  inputTokens: string | number;
  outputTokens: string | number;
  cost: number | null;
  unpriced: string | number;
  pii: string | number;
  q: Array<number | null>;
  t: Array<number | null>;
}

/** The same measures from either table, so a user filter changes the source, not the answer. */
function measureSql(raw: boolean): string {
  if (raw)
    return `count() AS calls, countIf(Status = 'error') AS errors, sum(InputTokens) AS inputTokens,
      sum(OutputTokens) AS outputTokens, sum(ifNull(CostUsd, 0)) AS cost, countIf(CostUsd IS NULL) AS unpriced,
      countIf(PiiCount > 0) AS pii, quantilesTDigest${LEVELS}(LatencyMs) AS q, quantilesTDigest${LEVELS}(TtftMs) AS t`;
  return `sum(Calls) AS calls, sum(Errors) AS errors, sum(InputTokens) AS inputTokens,
    sum(OutputTokens) AS outputTokens, sum(CostUsd) AS cost, sum(UnpricedCalls) AS unpriced,
    sum(PiiCalls) AS pii, quantilesTDigestMerge${LEVELS}(LatencyQuantiles) AS q, quantilesTDigestMerge${LEVELS}(TtftQuantiles) AS t`;
}

const ms = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10) / 10;

function toMeasures(r: MeasureRow | undefined): CallMeasures {
  const calls = Number(r?.calls ?? 0);
  const errors = Number(r?.errors ?? 0);
  return {
    calls,
    errors,
    errorRate: calls ? errors / calls : 0,
    inputTokens: Number(r?.inputTokens ?? 0),
    outputTokens: Number(r?.outputTokens ?? 0),
    costUsd: Number(r?.cost ?? 0),
    unpricedCalls: Number(r?.unpriced ?? 0),
    piiCalls: Number(r?.pii ?? 0),
    p50Ms: calls ? ms(r?.q[0]) : null,
    p95Ms: calls ? ms(r?.q[2]) : null,
    ttftP50Ms: calls ? ms(r?.t[0]) : null,
    ttftP95Ms: calls ? ms(r?.t[2]) : null,
  };
}

interface Source {
  table: string;
  where: string;
  measures: string;
  /** Expression of the row's minute. */
  minute: string;
  params: Record<string, unknown>;
}

function sourceFor(project: string, range: MinuteRange, filter: CallFilter): Source {
  const raw = filter.userId !== undefined;
  const params: Record<string, unknown> = { project, fromS: range.fromMs / 1000, toS: range.toMs / 1000 };
  const time = raw ? 'Timestamp' : 'Minute';
  const where = [
    'ProjectId = {project:String}',
    `${time} >= toDateTime({fromS:UInt32})`,
    `${time} < toDateTime({toS:UInt32})`,
  ];
  for (const [key, column] of Object.entries(COLUMN_OF) as Array<[keyof CallFilter, string]>) {
    const value = filter[key];
    if (value === undefined) continue;
    params[`f_${key}`] = value;
    where.push(`${column} = {f_${key}:String}`);
  }
  return {
    table: raw ? 'llm_calls' : 'llm_calls_1m',
    where: where.join(' AND '),
    measures: measureSql(raw),
    minute: raw ? 'toStartOfMinute(Timestamp)' : 'Minute',
    params,
  };
}

export async function totals(
  client: ClickHouseClient,
  project: string,
  range: MinuteRange,
  filter: CallFilter,
): Promise<CallMeasures> {
  const s = sourceFor(project, range, filter);
  const [row] = await queryRows<MeasureRow>(
    client,
    `SELECT ${s.measures} FROM ${s.table} WHERE ${s.where}`,
    s.params,
  );
  return toMeasures(row);
}

/** One point per bucket from range start to end, empty buckets included (charts need the gaps). */
export async function series(
  client: ClickHouseClient,
  project: string,
  range: MinuteRange,
  bucketSeconds: number,
  filter: CallFilter,
): Promise<SeriesPoint[]> {
  const s = sourceFor(project, range, filter);
  const rows = await queryRows<MeasureRow & { b: string | number }>(
    client,
    `SELECT intDiv(toUInt32(${s.minute}) - {fromS:UInt32}, {bucket:UInt32}) AS b, ${s.measures}
     FROM ${s.table} WHERE ${s.where} GROUP BY b ORDER BY b`,
    { ...s.params, bucket: bucketSeconds },
  );
  const byBucket = new Map(rows.map((r) => [Number(r.b), r]));
  const count = Math.ceil((range.toMs - range.fromMs) / (bucketSeconds * 1000));
  return Array.from({ length: count }, (_, i) => ({
    time: new Date(range.fromMs + i * bucketSeconds * 1000).toISOString(),
    ...toMeasures(byBucket.get(i)),
  }));
}

export interface Group extends CallMeasures {
  /** Display name: the value, or `name vversion` for prompts; '' when the calls carry none. */
  key: string;
  /** The filter that selects exactly this group's calls (for /api/calls or a narrower overview). */
  filter: CallFilter;
}

export async function groups(
  client: ClickHouseClient,
  project: string,
  range: MinuteRange,
  by: GroupBy,
  filter: CallFilter,
  limit: number,
): Promise<Group[]> {
  const s = sourceFor(project, range, filter);
  const fields = GROUP_COLUMNS[by];
  const columns = fields.map((f) => `${COLUMN_OF[f]} AS ${f}`).join(', ');
  const rows = await queryRows<MeasureRow & Record<string, string>>(
    client,
    `SELECT ${columns}, ${s.measures} FROM ${s.table} WHERE ${s.where}
     GROUP BY ${fields.join(', ')} ORDER BY cost DESC, calls DESC, ${fields.join(', ')} LIMIT {limit:UInt32}`,
    { ...s.params, limit },
  );
  return rows.map((r) => {
    const group: CallFilter = {};
    for (const f of fields) group[f] = r[f] ?? '';
    const key =
      by === 'prompt'
        ? group.promptName
          ? `${group.promptName} v${group.promptVersion}`
          : ''
        : (group[fields[0]!] ?? '');
    return { key, filter: { ...filter, ...group }, ...toMeasures(r) };
  });
}
