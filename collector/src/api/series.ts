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

export interface Group extends CallMeasures {
  /** Display name: the value, or `name vversion` for prompts; '' when the calls carry none. */
  key: string;
  /** The filter that selects exactly this group's calls (for /api/calls or a narrower overview). */
  filter: CallFilter;
}

export interface Measured {
  totals: CallMeasures;
  /** One point per bucket from range start to end, empty buckets included (charts need the gaps). */
  series: SeriesPoint[];
  /** Per requested split, the top `limit` groups by cost, then calls. */
  groups: Partial<Record<GroupBy, Group[]>>;
}

type MeasuredRow = MeasureRow & Record<'set' | 'b' | keyof CallFilter, string>;

/**
 * Totals, the time series and every requested split in ONE scan of the source: GROUPING SETS
 * aggregate the same rows several ways at once, so a day of a million calls is read (and its
 * t-digest states merged) in one pass instead of one pass per panel.
 */
export async function measure(
  client: ClickHouseClient,
  project: string,
  range: MinuteRange,
  bucketSeconds: number,
  filter: CallFilter,
  by: readonly GroupBy[] = [],
  limit = 20,
): Promise<Measured> {
  const s = sourceFor(project, range, filter);
  const sets = ['()', '(b)', ...by.map((g) => `(${GROUP_COLUMNS[g].join(', ')})`)];
  // grouping(x) is 0 in the sets that group by x: it names the set each row belongs to.
  const setName = `multiIf(grouping(b) = 0, 'series', ${by
    .map((g) => `grouping(${GROUP_COLUMNS[g][0]}) = 0, '${g}'`)
    .join(', ')}${by.length ? ', ' : ''}'totals')`;
  const columns = (Object.keys(COLUMN_OF) as Array<keyof CallFilter>)
    .filter((f) => by.some((g) => (GROUP_COLUMNS[g] as readonly string[]).includes(f)))
    .map((f) => `${COLUMN_OF[f]} AS ${f}`);
  const rows = await queryRows<MeasuredRow>(
    client,
    `SELECT ${setName} AS set, intDiv(toUInt32(${s.minute}) - {fromS:UInt32}, {bucket:UInt32}) AS b,
       ${[...columns, s.measures].join(', ')}
     FROM ${s.table} WHERE ${s.where}
     GROUP BY GROUPING SETS (${sets.join(', ')})
     ORDER BY set, cost DESC, calls DESC`,
    { ...s.params, bucket: bucketSeconds },
  );
  const byBucket = new Map<number, MeasureRow>();
  const groups: Partial<Record<GroupBy, Group[]>> = Object.fromEntries(by.map((g) => [g, []]));
  let total: MeasureRow | undefined;
  for (const r of rows) {
    if (r.set === 'totals') total = r;
    else if (r.set === 'series') byBucket.set(Number(r.b), r);
    else {
      const g = r.set as GroupBy;
      const list = groups[g]!;
      if (list.length >= limit) continue;
      const fields = GROUP_COLUMNS[g];
      const group: CallFilter = {};
      for (const f of fields) group[f] = r[f] ?? '';
      const key =
        g === 'prompt'
          ? group.promptName
            ? `${group.promptName} v${group.promptVersion}`
            : ''
          : (group[fields[0]!] ?? '');
      list.push({ key, filter: { ...filter, ...group }, ...toMeasures(r) });
    }
  }
  const count = Math.ceil((range.toMs - range.fromMs) / (bucketSeconds * 1000));
  return {
    totals: toMeasures(total),
    series: Array.from({ length: count }, (_, i) => ({
      time: new Date(range.fromMs + i * bucketSeconds * 1000).toISOString(),
      ...toMeasures(byBucket.get(i)),
    })),
    groups,
  };
}
