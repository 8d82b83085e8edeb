/**
 * Source of the provisioned Grafana dashboards (grafana/dashboards/*.json are generated from
 * here by `node --import tsx grafana/generate.ts`; test/grafana.test.ts checks they are in sync
 * and runs every panel's SQL against the real schema).
 *
 * Queries are raw SQL for the grafana-clickhouse-datasource plugin. Rules that keep them correct:
 * - Time-range macros come from the plugin backend ($__timeFilter(col), $__timeInterval(col), ...).
 *   A macro WITHOUT arguments ($__interval_s, $__fromTime, ...) must be followed by `)` before any
 *   `(`: the SDK's argument scanner otherwise swallows text up to the next parenthesis.
 * - Multi-value variables are filtered with `$__conditionalAll(col IN (${var:singlequote}), $var)`
 *   so "All" drops the condition instead of expanding a huge IN list.
 * - Panels read the per-minute rollup (llm_calls_1m) where the data is there; raw llm_calls only
 *   for per-user, per-call or content-feature views.
 */

import { CALL_CONTENT_ATTRIBUTES } from '../packages/core/src/index.js';

export const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'llmwatch-clickhouse' } as const;

/** Plugin query formats (src/types: Format enum of grafana-clickhouse-datasource). */
const FORMAT = { timeseries: 0, table: 1, logs: 2, traces: 3 } as const;
type PanelFormat = keyof typeof FORMAT;

export interface Target {
  refId: string;
  datasource: typeof DATASOURCE;
  editorType: 'sql';
  queryType: 'timeseries' | 'table' | 'traces';
  format: number;
  rawSql: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof DATASOURCE;
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Record<string, unknown>[] };
  annotations: { list: Record<string, unknown>[] };
  links: Record<string, unknown>[];
  panels: Panel[];
}

// ---- filters and row sources ------------------------------------------------------------------

/** Multi-value dimensions, in the order their variables narrow each other's options. */
const DIMENSIONS = {
  service: { column: 'ServiceName', label: 'Service' },
  model: { column: 'Model', label: 'Model' },
  prompt: { column: 'PromptName', label: 'Prompt' },
} as const;
type Dimension = keyof typeof DIMENSIONS;
const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];

const filter = (d: Dimension) =>
  `$__conditionalAll(${DIMENSIONS[d].column} IN (\${${d}:singlequote}), $${d})`;

/** For tables without the dimension columns. */
const inRange = (timeColumn: string) => `ProjectId = '$project' AND $__timeFilter(${timeColumn})`;

/** For tables with ServiceName, Model and PromptName columns. */
function where(timeColumn: string): string {
  return [`ProjectId = '$project'`, `$__timeFilter(${timeColumn})`, ...DIMENSION_NAMES.map(filter)].join(
    '\n  AND ',
  );
}

const ROLLUP = `llm_calls_1m`;
const W_ROLLUP = where('Minute');
const W_CALLS = where('Timestamp');

/** A table with the dashboard's filter applied, and the column its time buckets come from. */
interface Rows {
  time: string;
  from: string;
}
const PER_MINUTE: Rows = { time: 'Minute', from: `FROM ${ROLLUP} WHERE ${W_ROLLUP}` };
const CALLS: Rows = { time: 'Timestamp', from: `FROM llm_calls WHERE ${W_CALLS}` };
/** Failed calls have no output, so output-quality panels leave them out. */
const ANSWERED_CALLS: Rows = { time: 'Timestamp', from: `${CALLS.from} AND Status != 'error'` };
const FINDINGS: Rows = { time: 'Timestamp', from: `FROM pii_findings WHERE ${W_CALLS}` };
const DETECTIONS: Rows = { time: 'WindowTo', from: `FROM detections WHERE ${inRange('WindowTo')}` };
const SCORES: Rows = { time: 'Timestamp', from: `FROM scores WHERE ${inRange('Timestamp')}` };
/**
 * RAG verdicts (docs/rag.md): a trace diagnosed again replaces its row, FINAL reads the latest.
 * The table has no model column: the model filter does not apply to it.
 */
const RAG: Rows = {
  time: 'Timestamp',
  from: `FROM rag_diagnoses FINAL WHERE ${[inRange('Timestamp'), filter('service'), filter('prompt')].join(' AND ')}`,
};
/** alert_state keeps every version of an alert until merges: FINAL reads the latest. */
const OPEN_ALERTS = `FROM alert_state FINAL WHERE ProjectId = '$project' AND Status = 'firing'`;

// ---- SQL shapes -------------------------------------------------------------------------------

/** The rollup keeps t-digest states: one merge yields all of these quantiles, as a 1-based array. */
const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;
type Quantile = (typeof QUANTILES)[number];
const Q = `quantilesTDigestMerge(${QUANTILES.join(', ')})`;
const quantileIndex = (q: Quantile) => QUANTILES.indexOf(q) + 1;
const quantile = (column: 'LatencyQuantiles' | 'TtftQuantiles', q: Quantile) =>
  `${Q}(${column})[${quantileIndex(q)}]`;
const roundedQuantile = (column: 'LatencyQuantiles' | 'TtftQuantiles', q: Quantile, alias: string) =>
  `round(${quantile(column, q)}) AS ${alias}`;

/** An empty range gives 0 instead of NaN or infinity. */
const ratio = (numerator: string, denominator: string) => `${numerator} / greatest(${denominator}, 1)`;
const ERROR_RATE = ratio('sum(Errors)', 'sum(Calls)');
/** Unpriced calls have a NULL cost, not zero: counting them would understate the average. */
const COST_PER_PRICED_CALL = ratio('sum(CostUsd)', 'sum(Calls) - sum(UnpricedCalls)');

/** GROUP BY takes a computed label (`expr AS name`) by its name. */
const groupKey = (column: string) => column.replace(/^.* AS /, '');

/** One number for the whole range. */
const total = (columns: string, rows: Rows = PER_MINUTE) => `SELECT ${columns} ${rows.from}`;

/** `time` must come first, then labels, then numbers: the plugin turns such a frame into series. */
function overTime(rows: Rows, columns: string, opts: { by?: string; having?: string } = {}): string {
  const label = opts.by ? `${opts.by}, ` : '';
  const key = opts.by ? `, ${groupKey(opts.by)}` : '';
  const having = opts.having ? ` HAVING ${opts.having}` : '';
  return `SELECT $__timeInterval(${rows.time}) AS time, ${label}${columns}
${rows.from}
GROUP BY time${key}${having} ORDER BY time`;
}

/** Only plain numeric columns next to time: the plugin cannot turn an array into series. */
const LATENCY_PERCENTILES = `SELECT time, q[${quantileIndex(0.5)}] AS p50, q[${quantileIndex(0.95)}] AS p95, q[${quantileIndex(0.99)}] AS p99
FROM (
  SELECT $__timeInterval(Minute) AS time, ${Q}(LatencyQuantiles) AS q
  ${PER_MINUTE.from}
  GROUP BY time
)
ORDER BY time`;

/** Latency and time-to-first-token percentiles per group, slowest p95 first. */
function latencyTable(by: string[], opts: { max?: boolean } = {}): string {
  const max = opts.max ? ', round(max(MaxLatencyMs)) AS max_ms' : '';
  return `SELECT ${by.join(', ')}, sum(Calls) AS calls,
  ${roundedQuantile('LatencyQuantiles', 0.5, 'p50_ms')}, ${roundedQuantile('LatencyQuantiles', 0.95, 'p95_ms')},
  ${roundedQuantile('LatencyQuantiles', 0.99, 'p99_ms')}${max},
  ${roundedQuantile('TtftQuantiles', 0.5, 'ttft_p50_ms')}, ${roundedQuantile('TtftQuantiles', 0.95, 'ttft_p95_ms')}
${PER_MINUTE.from}
GROUP BY ${by.map(groupKey).join(', ')} ORDER BY p95_ms DESC`;
}

// ---- panel builders -------------------------------------------------------------------------

interface PanelSpec {
  title: string;
  type: 'stat' | 'timeseries' | 'table' | 'barchart' | 'piechart' | 'bargauge' | 'traces';
  sql: string;
  w: number;
  h: number;
  unit?: string;
  description?: string;
  /** Extra fieldConfig defaults (thresholds, links, ...). */
  defaults?: Record<string, unknown>;
  options?: Record<string, unknown>;
  overrides?: unknown[];
}

type PanelExtras = Partial<Omit<PanelSpec, 'type' | 'title' | 'sql'>>;

/** Half the width and eight rows high unless told otherwise: two charts side by side. */
function panel(type: PanelSpec['type'], title: string, sql: string, extras: PanelExtras = {}): PanelSpec {
  return { type, title, sql, w: 12, h: 8, ...extras };
}

const timeseries = (title: string, unit: string, sql: string, extras: PanelExtras = {}) =>
  panel('timeseries', title, sql, { unit, ...extras });

const table = (title: string, sql: string, extras: PanelExtras = {}) => panel('table', title, sql, extras);

type StatSpec = Omit<PanelSpec, 'w'>;

const stat = (title: string, unit: string, sql: string, extras: Omit<PanelExtras, 'w'> = {}): StatSpec => ({
  type: 'stat',
  title,
  sql,
  h: 4,
  unit,
  ...extras,
});

/** A dashboard's stats share one full-width row. */
function statRow(...stats: StatSpec[]): PanelSpec[] {
  const w = 24 / stats.length;
  if (!Number.isInteger(w)) throw new Error(`${stats.length} stats do not divide the 24-column grid`);
  return stats.map((s) => ({ ...s, w }));
}

/** Green below the first step; each step's colour holds from its value up. */
function thresholds(...steps: [color: string, from: number][]): Record<string, unknown> {
  return {
    thresholds: {
      mode: 'absolute',
      steps: [{ color: 'green', value: null }, ...steps.map(([color, value]) => ({ color, value }))],
    },
  };
}

const TRACES_UID = 'llmwatch-traces';

/** The Traces dashboard's trace view, keeping the project and the time range. */
const traceUrl = (traceId: string) =>
  `/d/${TRACES_UID}/llmwatch-traces?var-project=\${project}&var-trace_id=${traceId}&\${__url_time_range}`;

/** Any cell of a row opens the row's trace (the query returns a trace_id column). */
const OPEN_TRACE_OF_ROW: Record<string, unknown> = {
  links: [{ title: 'Open trace', url: traceUrl('${__data.fields.trace_id}') }],
};

/** Only the trace_id cells link, to the trace they show. */
const TRACE_ID_LINKS: unknown[] = [
  {
    matcher: { id: 'byName', options: 'trace_id' },
    properties: [{ id: 'links', value: [{ title: 'Show trace', url: traceUrl('${__value.raw}') }] }],
  },
];

function formatOf(type: PanelSpec['type']): PanelFormat {
  if (type === 'timeseries') return 'timeseries';
  if (type === 'traces') return 'traces';
  return 'table';
}

function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return specs.map((spec, i) => {
    if (x + spec.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const gridPos = { x, y, w: spec.w, h: spec.h };
    x += spec.w;
    rowH = Math.max(rowH, spec.h);
    const format = formatOf(spec.type);
    const panel: Panel = {
      id: i + 1,
      type: spec.type,
      title: spec.title,
      gridPos,
      datasource: DATASOURCE,
      targets: [
        {
          refId: 'A',
          datasource: DATASOURCE,
          editorType: 'sql',
          queryType: format === 'timeseries' ? 'timeseries' : format === 'traces' ? 'traces' : 'table',
          format: FORMAT[format],
          rawSql: spec.sql.trim(),
        },
      ],
      fieldConfig: {
        defaults: { ...(spec.unit ? { unit: spec.unit } : {}), ...spec.defaults },
        overrides: spec.overrides ?? [],
      },
      options: spec.options ?? defaultOptions(spec.type),
    };
    if (spec.description) panel.description = spec.description;
    return panel;
  });
}

function defaultOptions(type: PanelSpec['type']): Record<string, unknown> {
  switch (type) {
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        textMode: 'auto',
      };
    case 'timeseries':
      return {
        legend: { displayMode: 'table', placement: 'right', calcs: ['mean', 'max'] },
        tooltip: { mode: 'multi' },
      };
    case 'table':
      return { showHeader: true, cellHeight: 'sm' };
    case 'piechart':
      return {
        reduceOptions: { calcs: ['sum'], values: true },
        legend: { displayMode: 'table', placement: 'right' },
      };
    case 'barchart':
      return {
        orientation: 'horizontal',
        showValue: 'auto',
        legend: { displayMode: 'list', placement: 'bottom' },
      };
    case 'bargauge':
      return {
        orientation: 'horizontal',
        displayMode: 'gradient',
        reduceOptions: { calcs: ['lastNotNull'], values: true },
      };
    case 'traces':
      return {};
  }
}

// ---- template variables -----------------------------------------------------------------------

function queryVariable(
  name: string,
  label: string,
  rawSql: string,
  opts: { multi: boolean; includeAll: boolean; current?: string },
): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { refId: `${name}-var`, queryType: 'sql', rawSql },
    definition: rawSql,
    refresh: 2,
    sort: 1,
    multi: opts.multi,
    includeAll: opts.includeAll,
    current: opts.includeAll
      ? { selected: true, text: ['All'], value: ['$__all'] }
      : { selected: true, text: opts.current ?? 'default', value: opts.current ?? 'default' },
    options: [],
    hide: 0,
  };
}

function standardVariables(): Record<string, unknown>[] {
  return [
    queryVariable(
      'project',
      'Project',
      `SELECT DISTINCT ProjectId FROM ${ROLLUP} WHERE $__timeFilter(Minute) ORDER BY ProjectId`,
      { multi: false, includeAll: false, current: 'default' },
    ),
    ...DIMENSION_NAMES.map((d, i) => {
      const { column, label } = DIMENSIONS[d];
      const narrowedBy = [inRange('Minute'), ...DIMENSION_NAMES.slice(0, i).map(filter)].join(' AND ');
      return queryVariable(
        d,
        label,
        `SELECT DISTINCT ${column} FROM ${ROLLUP} WHERE ${narrowedBy} ORDER BY ${column}`,
        { multi: true, includeAll: true },
      );
    }),
  ];
}

/** Firing detections as annotations (Grafana's ClickHouse annotation support: time, timeEnd, text, tags). */
export const ALERT_ANNOTATION: Record<string, unknown> = {
  name: 'llmwatch alerts',
  datasource: DATASOURCE,
  enable: true,
  iconColor: 'red',
  target: {
    refId: 'Anno',
    datasource: DATASOURCE,
    editorType: 'sql',
    format: 1,
    rawSql: `SELECT WindowFrom AS time, WindowTo AS timeEnd,
  concat(upper(Severity), ' ', Kind, ': ', Message) AS text, [Kind, Severity, Rule] AS tags
FROM detections
WHERE ${inRange('WindowTo')} AND Status = 'firing'
ORDER BY WindowTo`,
  },
};

function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: PanelSpec[],
  extra: { variables?: Record<string, unknown>[]; annotations?: Record<string, unknown>[] } = {},
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['llmwatch'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [...standardVariables(), ...(extra.variables ?? [])] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ALERT_ANNOTATION,
        ...(extra.annotations ?? []),
      ],
    },
    links: [
      {
        type: 'dashboards',
        tags: ['llmwatch'],
        asDropdown: true,
        title: 'llmwatch',
        includeVars: true,
        keepTime: true,
      },
    ],
    panels: layout(panels),
  };
}

// ---- panels on more than one dashboard --------------------------------------------------------

const COST_STAT = stat('Cost', 'currencyUSD', total('sum(CostUsd) AS cost'));
const PII_CALLS_STAT = stat('Calls with PII', 'short', total('sum(PiiCalls) AS pii_calls'));
const TOKENS = 'sum(InputTokens) + sum(OutputTokens)';

// ---- dashboards -----------------------------------------------------------------------------

const overview = dashboard(
  'llmwatch-overview',
  'llmwatch / Overview',
  'Calls, cost, tokens, latency and errors.',
  [
    ...statRow(
      stat('Calls', 'short', total('sum(Calls) AS calls')),
      COST_STAT,
      stat('Tokens', 'short', total(`${TOKENS} AS tokens`)),
      stat('Latency p95', 'ms', total(`${quantile('LatencyQuantiles', 0.95)} AS p95`)),
      stat('Error rate', 'percentunit', total(`${ERROR_RATE} AS error_rate`), {
        defaults: thresholds(['orange', 0.02], ['red', 0.05]),
      }),
      PII_CALLS_STAT,
    ),
    timeseries('Calls by model', 'short', overTime(PER_MINUTE, 'sum(Calls) AS calls', { by: 'Model' })),
    timeseries('Cost by model', 'currencyUSD', overTime(PER_MINUTE, 'sum(CostUsd) AS cost', { by: 'Model' })),
    timeseries('Latency percentiles', 'ms', LATENCY_PERCENTILES),
    timeseries('Errors by model', 'short', overTime(PER_MINUTE, 'sum(Errors) AS errors', { by: 'Model' })),
    timeseries(
      'Tokens',
      'short',
      overTime(
        PER_MINUTE,
        `sum(InputTokens) AS input, sum(OutputTokens) AS output,
  sum(CacheReadTokens) AS cache_read, sum(ReasoningTokens) AS reasoning`,
      ),
    ),
    table(
      'Per model',
      `SELECT Model, Provider, sum(Calls) AS calls, sum(Errors) AS errors,
  round(${ERROR_RATE}, 4) AS error_rate,
  sum(InputTokens) AS input_tokens, sum(OutputTokens) AS output_tokens,
  round(sum(CostUsd), 4) AS cost_usd,
  ${roundedQuantile('LatencyQuantiles', 0.5, 'p50_ms')}, ${roundedQuantile('LatencyQuantiles', 0.95, 'p95_ms')}
${PER_MINUTE.from}
GROUP BY Model, Provider ORDER BY cost_usd DESC`,
    ),
  ],
);

const cost = dashboard(
  'llmwatch-cost',
  'llmwatch / Cost',
  'Where the money goes: models, services, prompts, users.',
  [
    ...statRow(
      COST_STAT,
      stat(
        'Cost per hour (average)',
        'currencyUSD',
        `SELECT sum(CostUsd) * 3600 / greatest(dateDiff('second', min(Minute), max(Minute)) + 60, 60) AS cost_per_hour
${PER_MINUTE.from}`,
      ),
      stat('Cost per call', 'currencyUSD', total(`${COST_PER_PRICED_CALL} AS cost_per_call`)),
      stat('Unpriced calls', 'short', total('sum(UnpricedCalls) AS unpriced'), {
        description:
          'Calls without a cost: their model has no known price, or their emitter reported no token usage. Unknown, not zero.',
      }),
    ),
    timeseries(
      'Calls without a cost, by reason',
      'short',
      overTime(
        CALLS,
        'countIf(CostUsd IS NULL AND UsageReported) AS no_price_for_model, countIf(NOT UsageReported) AS no_usage_reported',
      ),
    ),
    timeseries(
      'Cost rate by model (USD/hour)',
      'currencyUSD',
      overTime(PER_MINUTE, 'sum(CostUsd) * 3600 / ($__interval_s) AS usd_per_hour', { by: 'Model' }),
    ),
    timeseries(
      'Cost by service',
      'currencyUSD',
      overTime(PER_MINUTE, 'sum(CostUsd) AS cost', { by: 'ServiceName' }),
    ),
    panel(
      'barchart',
      'Cost by prompt',
      `SELECT concat(PromptName, ' v', PromptVersion) AS prompt, round(sum(CostUsd), 4) AS cost
${PER_MINUTE.from}
GROUP BY prompt ORDER BY cost DESC LIMIT 20`,
      { w: 8, unit: 'currencyUSD' },
    ),
    panel(
      'piechart',
      'Cost by provider',
      `SELECT Provider, sum(CostUsd) AS cost ${PER_MINUTE.from} GROUP BY Provider ORDER BY cost DESC`,
      { w: 8, unit: 'currencyUSD' },
    ),
    table(
      'Top spenders (users)',
      `SELECT UserId AS user, count() AS calls, round(sum(ifNull(CostUsd, 0)), 4) AS cost_usd,
  sum(InputTokens + OutputTokens) AS tokens
${CALLS.from} AND UserId != ''
GROUP BY UserId ORDER BY cost_usd DESC LIMIT 20`,
      { w: 8 },
    ),
    timeseries('Tokens by model', 'short', overTime(PER_MINUTE, `${TOKENS} AS tokens`, { by: 'Model' })),
    table(
      'Cost by model, service and prompt',
      `SELECT Model, ServiceName AS service, PromptName AS prompt, PromptVersion AS version,
  sum(Calls) AS calls, round(sum(CostUsd), 4) AS cost_usd,
  round(${COST_PER_PRICED_CALL}, 6) AS usd_per_call,
  sum(CacheReadTokens) AS cache_read_tokens
${PER_MINUTE.from}
GROUP BY Model, service, prompt, version ORDER BY cost_usd DESC LIMIT 50`,
    ),
  ],
);

const latency = dashboard(
  'llmwatch-latency',
  'llmwatch / Latency',
  'Latency percentiles and time to first token.',
  [
    timeseries('p50 / p95 / p99', 'ms', LATENCY_PERCENTILES, { w: 24 }),
    timeseries(
      'p95 latency by model',
      'ms',
      overTime(PER_MINUTE, `${quantile('LatencyQuantiles', 0.95)} AS p95`, { by: 'Model' }),
    ),
    timeseries(
      'Time to first token p95 by model',
      'ms',
      overTime(PER_MINUTE, `${quantile('TtftQuantiles', 0.95)} AS ttft_p95`, {
        by: 'Model',
        having: 'NOT isNaN(ttft_p95)',
      }),
    ),
    table(
      'Latency by prompt',
      latencyTable(['PromptName AS prompt', 'PromptVersion AS version'], { max: true }),
    ),
    table('Latency by model', latencyTable(['Model'])),
    panel(
      'bargauge',
      'Streaming vs non-streaming (p95)',
      `SELECT if(Streaming, 'streaming', 'non-streaming') AS mode, round(quantileTDigest(0.95)(LatencyMs)) AS p95
${CALLS.from}
GROUP BY mode ORDER BY mode`,
      { w: 8, unit: 'ms' },
    ),
    table(
      'Slowest calls',
      `SELECT Timestamp AS time, Model, PromptName AS prompt, round(LatencyMs) AS latency_ms,
  round(TtftMs) AS ttft_ms, OutputTokens AS output_tokens, TraceId AS trace_id
${CALLS.from}
ORDER BY LatencyMs DESC LIMIT 25`,
      { w: 16, defaults: OPEN_TRACE_OF_ROW },
    ),
  ],
);

const quality = dashboard(
  'llmwatch-quality',
  'llmwatch / Quality & drift',
  'Output length, finish reasons, drift of outputs and user feedback.',
  [
    timeseries(
      'Output length by model (avg chars)',
      'short',
      overTime(ANSWERED_CALLS, 'avg(OutputChars) AS output_chars', { by: 'Model' }),
    ),
    timeseries(
      'Output tokens per call by model',
      'short',
      overTime(PER_MINUTE, `${ratio('sum(OutputTokens)', 'sum(Calls) - sum(Errors)')} AS output_tokens`, {
        by: 'Model',
      }),
    ),
    timeseries(
      'Finish reasons',
      'short',
      overTime(CALLS, 'count() AS calls', { by: 'arrayJoin(FinishReasons) AS finish_reason' }),
    ),
    panel(
      'bargauge',
      'Truncated outputs (finish_reason = length) by model',
      `SELECT Model, ${ratio("countIf(has(FinishReasons, 'length'))", 'count()')} AS truncated
${ANSWERED_CALLS.from}
GROUP BY Model ORDER BY truncated DESC`,
      { unit: 'percentunit' },
    ),
    table(
      'Output length drift (KS test, second half vs first half of the range)',
      `WITH (SELECT count() ${CALLS.from}) AS total
SELECT Model, sampled_calls, round(ks.1, 4) AS ks_statistic, round(ks.2, 6) AS p_value
FROM (
  SELECT Model, count() AS sampled_calls,
    kolmogorovSmirnovTest('two-sided', 'asymp')(toFloat64(OutputTokens), toUInt8(toUnixTimestamp(Timestamp) >= intDiv(toUnixTimestamp($__fromTime) + toUnixTimestamp($__toTime), 2))) AS ks
  ${ANSWERED_CALLS.from}
    AND cityHash64(SpanId) % greatest(1, intDiv(total, 200000)) = 0
  GROUP BY Model
)
WHERE sampled_calls >= 20 ORDER BY ks_statistic DESC`,
      {
        description:
          'Two-sample Kolmogorov-Smirnov test of output tokens per model between the two halves of the selected time range: a small p-value means the distribution of answer lengths moved. Asymptotic p-value; large ranges use a hash sample of about 200,000 calls so the panel stays fast.',
      },
    ),
    timeseries(
      'Drift scores (detector output)',
      'short',
      `SELECT WindowTo AS time, concat(Rule, ' ', SubjectKey) AS series, max(Observed) AS score
FROM detections
WHERE ${inRange('WindowTo')} AND Kind = 'drift'
GROUP BY time, series ORDER BY time`,
      {
        description:
          'Observed statistic of each drift rule per window (KS D, PSI, sketch distance), from the drift detector.',
      },
    ),
    panel(
      'piechart',
      'Language mix',
      `SELECT if(Language = '', 'unknown', Language) AS language, count() AS calls
${CALLS.from}
GROUP BY language ORDER BY calls DESC`,
    ),
    timeseries(
      'Feedback and eval scores (average)',
      'short',
      overTime(SCORES, 'avg(Value) AS value', { by: 'Name AS score' }),
    ),
    table(
      'Scores by model and prompt',
      // Scores (the small side) build the hash table; llm_calls is only scanned for their ids.
      `SELECT c.Model AS model, c.PromptName AS prompt, c.PromptVersion AS version, s.Name AS score,
  count() AS n, round(avg(s.Value), 3) AS avg_value
FROM (
  SELECT TraceId, SpanId, Model, PromptName, PromptVersion FROM llm_calls
  WHERE ${W_CALLS}
    AND TraceId IN (SELECT TraceId ${SCORES.from})
) AS c
INNER JOIN (
  SELECT TraceId, SpanId, Name, Value ${SCORES.from}
) AS s ON s.TraceId = c.TraceId AND s.SpanId = c.SpanId
GROUP BY model, prompt, version, score ORDER BY n DESC`,
    ),
    table(
      'Prompt versions compared',
      // Each version against its prompt's most-called version in the range: the reference's calls
      // are repeated (arrayJoin) into every other version's group, so one GROUP BY runs every pair.
      // The reference's own row has no second sample: its tests are NULL.
      `WITH ref AS (
  SELECT PromptName, argMax(PromptVersion, n) AS RefVersion,
    arrayFilter(v -> v != RefVersion, groupArray(PromptVersion)) AS Others
  FROM (SELECT PromptName, PromptVersion, count() AS n FROM llm_calls
        WHERE ${W_CALLS} AND PromptName != '' GROUP BY PromptName, PromptVersion)
  GROUP BY PromptName
)
SELECT prompt, version, vs_version, countIf(idx = 0) AS calls, countIf(idx = 1) AS vs_calls,
  round(avgIf(cost, idx = 0 AND priced), 6) AS cost_per_call,
  round(100 * (avgIf(cost, idx = 0 AND priced) / nullIf(avgIf(cost, idx = 1 AND priced), 0) - 1), 1) AS cost_change_pct,
  round(welchTTestIf(cost, idx, priced).2, 4) AS cost_p,
  round(medianExactIf(LatencyMs, idx = 0 AND ok)) AS p50_latency_ms,
  round(100 * (medianExactIf(LatencyMs, idx = 0 AND ok) / nullIf(medianExactIf(LatencyMs, idx = 1 AND ok), 0) - 1), 1) AS p50_latency_change_pct,
  round(welchTTestIf(log(greatest(LatencyMs, 0.001)), idx, ok).2, 4) AS latency_p,
  round(100 * countIf(idx = 0 AND NOT ok) / greatest(countIf(idx = 0), 1), 2) AS error_pct,
  round(proportionsZTest(countIf(idx = 0 AND NOT ok), countIf(idx = 1 AND NOT ok), greatest(countIf(idx = 0), 1), greatest(countIf(idx = 1), 1), 0.95, 'unpooled').2, 4) AS errors_p
FROM (
  SELECT c.PromptName AS prompt, r.RefVersion AS vs_version,
    arrayJoin(if(c.PromptVersion = r.RefVersion, arrayConcat([r.RefVersion], r.Others), [c.PromptVersion])) AS version,
    toUInt8(c.PromptVersion = r.RefVersion AND version != r.RefVersion) AS idx,
    ifNull(c.CostUsd, 0) AS cost, c.CostUsd IS NOT NULL AS priced, c.LatencyMs AS LatencyMs, c.Status != 'error' AS ok
  FROM (SELECT PromptName, PromptVersion, CostUsd, LatencyMs, Status FROM llm_calls WHERE ${W_CALLS}) AS c
  INNER JOIN ref AS r ON c.PromptName = r.PromptName
)
GROUP BY prompt, version, vs_version
ORDER BY prompt, version = vs_version DESC, version`,
      {
        w: 24,
        description:
          'Every prompt version in the range against the most-called version of the same prompt: mean cost per call (Welch t-test p), median latency (Welch t-test on log latency p) and error ratio (two-proportion z-test p). Per-row p-values, not corrected for the number of rows; below 30 calls on either side, read them as noise. For a verdict with corrections, scores and a non-inferiority margin: llmwatch compare (docs/evaluation.md).',
      },
    ),
  ],
);

const pii = dashboard(
  'llmwatch-pii',
  'llmwatch / PII & security',
  'Personal data and secrets found in prompts and completions.',
  [
    ...statRow(
      stat('Findings', 'short', total('sum(Count) AS findings', FINDINGS)),
      PII_CALLS_STAT,
      stat(
        'Share of calls with PII',
        'percentunit',
        total(`${ratio('sum(PiiCalls)', 'sum(Calls)')} AS share`),
      ),
      stat('Secrets found', 'short', `${total('sum(Count) AS secrets', FINDINGS)} AND Type = 'secret'`, {
        defaults: thresholds(['red', 1]),
      }),
    ),
    timeseries('Findings by type', 'short', overTime(FINDINGS, 'sum(Count) AS findings', { by: 'Type' })),
    timeseries('Findings by place', 'short', overTime(FINDINGS, 'sum(Count) AS findings', { by: 'Place' })),
    table(
      'By type, place and action',
      `SELECT Type AS type, Place AS place, Action AS action, sum(Count) AS findings,
  uniqExact(ValueHash) AS distinct_values, uniqExact(TraceId) AS traces
${FINDINGS.from}
GROUP BY type, place, action ORDER BY findings DESC`,
    ),
    table(
      'Recent findings',
      `SELECT Timestamp AS time, ServiceName AS service, Model, PromptName AS prompt, Type AS type, Place AS place,
  Action AS action, TraceId AS trace_id
${FINDINGS.from}
ORDER BY Timestamp DESC LIMIT 50`,
      { defaults: OPEN_TRACE_OF_ROW },
    ),
  ],
);

const traces = dashboard(
  TRACES_UID,
  'llmwatch / Traces',
  'LLM calls and their traces in Grafana\u2019s trace view (otel_traces, OTel exporter schema).',
  [
    table(
      'LLM calls (click a trace id to open the trace)',
      `SELECT Timestamp AS time, ServiceName AS service, Model, PromptName AS prompt, PromptVersion AS version,
  UserId AS user, InputTokens AS input_tokens, OutputTokens AS output_tokens,
  round(ifNull(CostUsd, 0), 6) AS cost_usd, round(LatencyMs) AS latency_ms, Status AS status, TraceId AS trace_id
${CALLS.from}
ORDER BY Timestamp DESC LIMIT 200`,
      { w: 24, h: 10, overrides: TRACE_ID_LINKS },
    ),
    panel(
      'traces',
      'Trace $trace_id',
      // The columns Grafana's trace panel expects, as the plugin's trace-ID query builds them. An
      // LLM span's messages are stored once, in its llm_calls row: its tags get them from there.
      `WITH '$trace_id' AS trace_id,
  (SELECT min(Start) FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_start,
  (SELECT max(End) + 1 FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_end
SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID, ServiceName AS serviceName,
  SpanName AS operationName, multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
  multiply(Duration, 0.000001) AS duration,
  mapUpdate(
    mapFilter((k, v) -> v != '', map(${CALL_CONTENT_ATTRIBUTES.map(([field, key]) => `'${key}', c.${field}`).join(', ')})),
    CAST(SpanAttributes, 'Map(String, String)')
  ) AS attributes,
  arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)) AS tags,
  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
  if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode,
  arrayMap((name, timestamp, attributes) -> tuple(name, toString(toUnixTimestamp64Milli(timestamp)), arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)))::Tuple(name String, timestamp String, fields Array(Map(String, String))), Events.Name, Events.Timestamp, Events.Attributes) AS logs,
  SpanKind AS kind, StatusMessage AS statusMessage
FROM otel_traces AS t
LEFT JOIN (
  SELECT SpanId, InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent
  FROM llm_calls
  WHERE ProjectId = '$project' AND TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
) AS c ON c.SpanId = t.SpanId
WHERE ProjectId = '$project' AND TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
ORDER BY Timestamp ASC LIMIT 1000`,
      { w: 24, h: 14 },
    ),
    table(
      'Slowest traces (root spans)',
      `SELECT Timestamp AS time, TraceId AS trace_id, ServiceName AS service, SpanName AS root_span,
  round(Duration / 1e6) AS duration_ms, StatusCode AS status
FROM otel_traces
WHERE ${inRange('Timestamp')} AND ${filter('service')} AND ParentSpanId = ''
ORDER BY Duration DESC LIMIT 25`,
      { w: 24, overrides: TRACE_ID_LINKS },
    ),
  ],
  {
    variables: [
      {
        name: 'trace_id',
        label: 'Trace id',
        type: 'textbox',
        query: '',
        current: { text: '', value: '' },
        hide: 0,
      },
    ],
  },
);

const alerts = dashboard(
  'llmwatch-alerts',
  'llmwatch / Alerts',
  'What the detectors found: open alerts, and the history of detections (also shown as annotations).',
  [
    ...statRow(
      stat('Firing alerts', 'short', `SELECT count() AS firing ${OPEN_ALERTS}`, {
        defaults: thresholds(['red', 1]),
      }),
      stat(
        'Critical detections',
        'short',
        `${total("countIf(Severity = 'critical') AS critical", DETECTIONS)} AND Status = 'firing'`,
      ),
      stat('Detections', 'short', total("countIf(Status = 'firing') AS detections", DETECTIONS)),
      stat('Resolved', 'short', total("countIf(Status = 'resolved') AS resolved", DETECTIONS)),
    ),
    table(
      'Open alerts',
      `SELECT Severity AS severity, Kind AS kind, Rule AS rule, SubjectKey AS subject,
  FirstFiredAt AS first_fired, LastFiredAt AS last_fired, LastNotifiedAt AS last_notified,
  JSONExtractString(Json, 'message') AS message
${OPEN_ALERTS}
ORDER BY multiIf(Severity = 'critical', 0, Severity = 'warning', 1, 2), LastFiredAt DESC`,
      { w: 24 },
    ),
    timeseries(
      'Detections by kind',
      'short',
      overTime(DETECTIONS, "countIf(Status = 'firing') AS detections", { by: 'Kind' }),
    ),
    panel(
      'barchart',
      'Detections by rule',
      `SELECT Rule AS rule, countIf(Status = 'firing') AS firing, countIf(Status = 'resolved') AS resolved
${DETECTIONS.from}
GROUP BY rule ORDER BY firing DESC`,
      { unit: 'short' },
    ),
    table(
      'History',
      `SELECT WindowTo AS window_end, Status AS status, Severity AS severity, Kind AS kind, Rule AS rule,
  SubjectKey AS subject, round(Observed, 4) AS observed, round(Baseline, 4) AS baseline, Message AS message,
  Notified AS notified
${DETECTIONS.from}
ORDER BY WindowTo DESC, Severity LIMIT 200`,
      { w: 24, h: 10 },
    ),
  ],
);

const VERDICTS = ['ok', 'knowledge_gap', 'retrieval_miss', 'ungrounded', 'refusal'] as const;
const verdictShare = (verdict: string, alias: string) =>
  `${ratio(`countIf(Verdict = '${verdict}')`, 'count()')} AS ${alias}`;

const rag = dashboard(
  'llmwatch-rag',
  'llmwatch / RAG & chains',
  'Why RAG answers fail (knowledge gap, retrieval miss, ungrounded, refusal), retrieval quality, and which chain step drives failures. Verdicts come from the diagnosis job (docs/rag.md).',
  [
    ...statRow(
      stat('RAG answers', 'short', total('count() AS answers', RAG)),
      stat('Knowledge gaps', 'percentunit', total(verdictShare('knowledge_gap', 'knowledge_gap'), RAG), {
        defaults: thresholds(['green', 0], ['orange', 0.1], ['red', 0.25]),
      }),
      stat('Retrieval misses', 'percentunit', total(verdictShare('retrieval_miss', 'retrieval_miss'), RAG)),
      stat('Ungrounded answers', 'percentunit', total(verdictShare('ungrounded', 'ungrounded'), RAG)),
    ),
    timeseries(
      'Verdicts over time (share of answers)',
      'percentunit',
      overTime(
        RAG,
        ['knowledge_gap', 'retrieval_miss', 'ungrounded', 'refusal']
          .map((v) => verdictShare(v, v))
          .join(', '),
      ),
    ),
    timeseries(
      'Retrieval quality',
      'percentunit',
      overTime(
        RAG,
        `round(avg(MaxRelevance), 4) AS best_document_relevance, round(avg(MeanRelevance), 4) AS mean_document_relevance,
  ${ratio('countIf(Documents = 0)', 'count()')} AS empty_retrievals`,
      ),
    ),
    table(
      'Verdicts per pipeline and prompt',
      `SELECT Pipeline AS pipeline, PromptName AS prompt, count() AS answers,
  ${VERDICTS.map((v) => `round(${ratio(`countIf(Verdict = '${v}')`, 'count()')}, 3) AS ${v}`).join(', ')}
${RAG.from}
GROUP BY pipeline, prompt ORDER BY answers DESC`,
      { w: 24 },
    ),
    table(
      'What the knowledge base lacks (question terms of knowledge gaps)',
      `SELECT term, count() AS gap_questions
FROM (SELECT arrayJoin(arrayDistinct(QuestionTerms)) AS term ${RAG.from} AND Verdict = 'knowledge_gap')
GROUP BY term ORDER BY gap_questions DESC LIMIT 25`,
    ),
    table(
      'Chain steps (children of root spans)',
      `SELECT r.SpanName AS pipeline, c.SpanName AS step, count() AS runs,
  round(${ratio("countIf(c.StatusCode IN ('Error', 'STATUS_CODE_ERROR'))", 'count()')}, 4) AS error_ratio,
  round(quantile(0.5)(c.Duration) / 1e6) AS p50_ms, round(quantile(0.95)(c.Duration) / 1e6) AS p95_ms
FROM otel_traces AS c
INNER JOIN (
  SELECT TraceId, SpanId, SpanName FROM otel_traces
  WHERE ${inRange('Timestamp')} AND ${filter('service')} AND ParentSpanId = ''
) AS r ON c.TraceId = r.TraceId AND c.ParentSpanId = r.SpanId
WHERE c.ProjectId = '$project' AND $__timeFilter(c.Timestamp)
GROUP BY pipeline, step ORDER BY pipeline, runs DESC LIMIT 100`,
    ),
    table(
      'Recent failed RAG answers',
      `SELECT Timestamp AS time, Pipeline AS pipeline, PromptName AS prompt, Verdict AS verdict, Documents AS documents,
  round(MaxRelevance, 2) AS best_relevance, TraceId AS trace_id
${RAG.from} AND Verdict != 'ok'
ORDER BY Timestamp DESC LIMIT 50`,
      { w: 24, overrides: TRACE_ID_LINKS },
    ),
  ],
);

/**
 * GenAI client metrics (gen_ai.client.*) from otel_metrics_histogram, for apps that export metrics
 * and no spans. Histograms come cumulative (the SDK default) or delta: a cumulative series
 * contributes the increase since its previous point.
 */
const GENAI_METRICS: Rows = {
  time: 'TimeUnix',
  from: `FROM otel_metrics_histogram WHERE ${inRange('TimeUnix')} AND ${filter('service')} AND startsWith(MetricName, 'gen_ai.client.')`,
};
const INCREASE = (column: 'Count' | 'Sum') =>
  `if(AggregationTemporality = 1, ${column}, ${column} - lagInFrame(${column}, 1, 0) OVER (PARTITION BY ServiceName, MetricName, Attributes, StartTimeUnix ORDER BY TimeUnix ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))`;
const GENAI_POINTS = `SELECT TimeUnix, ServiceName, MetricName, Attributes,
    if(Attributes['gen_ai.response.model'] != '', Attributes['gen_ai.response.model'], Attributes['gen_ai.request.model']) AS model,
    Attributes['gen_ai.token.type'] AS token_type,
    toFloat64(${INCREASE('Count')}) AS n, ${INCREASE('Sum')} AS total
  ${GENAI_METRICS.from}`;

const genai = dashboard(
  'llmwatch-genai-metrics',
  'llmwatch / GenAI metrics',
  'What apps report through the GenAI semconv metrics (gen_ai.client.token.usage, gen_ai.client.operation.duration, …), also for apps that send no spans. Same numbers: GET /api/genai-metrics.',
  [
    ...statRow(
      stat(
        'Operations',
        'short',
        `SELECT sum(n) AS operations FROM (${GENAI_POINTS}) WHERE MetricName = 'gen_ai.client.operation.duration'`,
      ),
      stat(
        'Tokens',
        'short',
        `SELECT sum(total) AS tokens FROM (${GENAI_POINTS}) WHERE MetricName = 'gen_ai.client.token.usage'`,
      ),
      stat(
        'Mean operation duration',
        's',
        `SELECT round(sum(total) / greatest(sum(n), 1), 3) AS mean_s FROM (${GENAI_POINTS}) WHERE MetricName = 'gen_ai.client.operation.duration'`,
      ),
    ),
    timeseries(
      'Tokens by type',
      'short',
      `SELECT $__timeInterval(TimeUnix) AS time, token_type, sum(total) AS tokens
FROM (${GENAI_POINTS}) WHERE MetricName = 'gen_ai.client.token.usage'
GROUP BY time, token_type ORDER BY time`,
    ),
    timeseries(
      'Operations by model',
      'short',
      `SELECT $__timeInterval(TimeUnix) AS time, model, sum(n) AS operations
FROM (${GENAI_POINTS}) WHERE MetricName = 'gen_ai.client.operation.duration'
GROUP BY time, model ORDER BY time`,
    ),
    table(
      'Per service and model',
      `SELECT ServiceName AS service, model, MetricName AS metric, token_type, sum(n) AS recordings,
  round(sum(total), 3) AS value_total, round(sum(total) / greatest(sum(n), 1), 3) AS value_mean
FROM (${GENAI_POINTS})
GROUP BY service, model, metric, token_type ORDER BY service, model, metric, token_type`,
      { w: 24 },
    ),
  ],
);

export const DASHBOARDS: Record<string, Dashboard> = {
  overview,
  cost,
  latency,
  quality,
  pii,
  alerts,
  traces,
  rag,
  genai,
};
