/**
 * Source of the provisioned Grafana dashboards (grafana/dashboards/*.json are generated from
 * here by `pnpm grafana:dashboards`; test/grafana.test.ts checks they are in sync and runs every
 * panel's SQL against the real schema).
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

// ---- filters --------------------------------------------------------------------------------

const all = (column: string, variable: string) =>
  `$__conditionalAll(${column} IN (\${${variable}:singlequote}), $${variable})`;

/** Filter for tables with ServiceName, Model and PromptName columns. */
function where(timeColumn: string, dims: { service?: boolean; model?: boolean; prompt?: boolean } = {}) {
  const parts = [`ProjectId = '$project'`, `$__timeFilter(${timeColumn})`];
  if (dims.service !== false) parts.push(all('ServiceName', 'service'));
  if (dims.model !== false) parts.push(all('Model', 'model'));
  if (dims.prompt !== false) parts.push(all('PromptName', 'prompt'));
  return parts.join('\n  AND ');
}

const ROLLUP = `llm_calls_1m`;
const Q = `quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)`;
const W_ROLLUP = where('Minute');
const W_CALLS = where('Timestamp');

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
  const dim = (col: string, filters: string[]) =>
    `SELECT DISTINCT ${col} FROM ${ROLLUP} WHERE ${["ProjectId = '$project'", '$__timeFilter(Minute)', ...filters].join(' AND ')} ORDER BY ${col}`;
  return [
    queryVariable(
      'project',
      'Project',
      `SELECT DISTINCT ProjectId FROM ${ROLLUP} WHERE $__timeFilter(Minute) ORDER BY ProjectId`,
      { multi: false, includeAll: false, current: 'default' },
    ),
    queryVariable('service', 'Service', dim('ServiceName', []), { multi: true, includeAll: true }),
    queryVariable('model', 'Model', dim('Model', [all('ServiceName', 'service')]), {
      multi: true,
      includeAll: true,
    }),
    queryVariable(
      'prompt',
      'Prompt',
      dim('PromptName', [all('ServiceName', 'service'), all('Model', 'model')]),
      {
        multi: true,
        includeAll: true,
      },
    ),
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
WHERE ProjectId = '$project' AND $__timeFilter(WindowTo) AND Status = 'firing'
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

// ---- dashboards -----------------------------------------------------------------------------

const overview = dashboard(
  'llmwatch-overview',
  'llmwatch / Overview',
  'Calls, cost, tokens, latency and errors.',
  [
    {
      title: 'Calls',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(Calls) AS calls FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Cost',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'currencyUSD',
      sql: `SELECT sum(CostUsd) AS cost FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Tokens',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(InputTokens) + sum(OutputTokens) AS tokens FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Latency p95',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'ms',
      sql: `SELECT ${Q}(LatencyQuantiles)[3] AS p95 FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Error rate',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'percentunit',
      sql: `SELECT sum(Errors) / greatest(sum(Calls), 1) AS error_rate FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'orange', value: 0.02 },
            { color: 'red', value: 0.05 },
          ],
        },
      },
    },
    {
      title: 'Calls with PII',
      type: 'stat',
      w: 4,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(PiiCalls) AS pii_calls FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Calls by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(Calls) AS calls
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Cost by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'currencyUSD',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(CostUsd) AS cost
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Latency percentiles',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'ms',
      // Only plain numeric columns next to time: the plugin turns the frame into series.
      sql: `SELECT time, q[1] AS p50, q[3] AS p95, q[4] AS p99
FROM (
  SELECT $__timeInterval(Minute) AS time, ${Q}(LatencyQuantiles) AS q
  FROM ${ROLLUP} WHERE ${W_ROLLUP}
  GROUP BY time
)
ORDER BY time`,
    },
    {
      title: 'Errors by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(Errors) AS errors
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Tokens',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Minute) AS time, sum(InputTokens) AS input, sum(OutputTokens) AS output,
  sum(CacheReadTokens) AS cache_read, sum(ReasoningTokens) AS reasoning
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time ORDER BY time`,
    },
    {
      title: 'Per model',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT Model, Provider, sum(Calls) AS calls, sum(Errors) AS errors,
  round(sum(Errors) / greatest(sum(Calls), 1), 4) AS error_rate,
  sum(InputTokens) AS input_tokens, sum(OutputTokens) AS output_tokens,
  round(sum(CostUsd), 4) AS cost_usd,
  round(${Q}(LatencyQuantiles)[1]) AS p50_ms, round(${Q}(LatencyQuantiles)[3]) AS p95_ms
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY Model, Provider ORDER BY cost_usd DESC`,
    },
  ],
);

const cost = dashboard(
  'llmwatch-cost',
  'llmwatch / Cost',
  'Where the money goes: models, services, prompts, users.',
  [
    {
      title: 'Cost',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'currencyUSD',
      sql: `SELECT sum(CostUsd) AS cost FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Cost per hour (average)',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'currencyUSD',
      sql: `SELECT sum(CostUsd) * 3600 / greatest(dateDiff('second', min(Minute), max(Minute)) + 60, 60) AS cost_per_hour
FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Cost per call',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'currencyUSD',
      sql: `SELECT sum(CostUsd) / greatest(sum(Calls) - sum(UnpricedCalls), 1) AS cost_per_call FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Unpriced calls',
      description: 'Calls whose model has no known price: their cost is unknown, not zero.',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(UnpricedCalls) AS unpriced FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Cost rate by model (USD/hour)',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'currencyUSD',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(CostUsd) * 3600 / ($__interval_s) AS usd_per_hour
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Cost by service',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'currencyUSD',
      sql: `SELECT $__timeInterval(Minute) AS time, ServiceName, sum(CostUsd) AS cost
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, ServiceName ORDER BY time`,
    },
    {
      title: 'Cost by prompt',
      type: 'barchart',
      w: 8,
      h: 8,
      unit: 'currencyUSD',
      sql: `SELECT concat(PromptName, ' v', PromptVersion) AS prompt, round(sum(CostUsd), 4) AS cost
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY prompt ORDER BY cost DESC LIMIT 20`,
    },
    {
      title: 'Cost by provider',
      type: 'piechart',
      w: 8,
      h: 8,
      unit: 'currencyUSD',
      sql: `SELECT Provider, sum(CostUsd) AS cost FROM ${ROLLUP} WHERE ${W_ROLLUP} GROUP BY Provider ORDER BY cost DESC`,
    },
    {
      title: 'Top spenders (users)',
      type: 'table',
      w: 8,
      h: 8,
      sql: `SELECT UserId AS user, count() AS calls, round(sum(ifNull(CostUsd, 0)), 4) AS cost_usd,
  sum(InputTokens + OutputTokens) AS tokens
FROM llm_calls WHERE ${W_CALLS} AND UserId != ''
GROUP BY UserId ORDER BY cost_usd DESC LIMIT 20`,
    },
    {
      title: 'Tokens by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(InputTokens) + sum(OutputTokens) AS tokens
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Cost by model, service and prompt',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT Model, ServiceName AS service, PromptName AS prompt, PromptVersion AS version,
  sum(Calls) AS calls, round(sum(CostUsd), 4) AS cost_usd,
  round(sum(CostUsd) / greatest(sum(Calls) - sum(UnpricedCalls), 1), 6) AS usd_per_call,
  sum(CacheReadTokens) AS cache_read_tokens
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY Model, service, prompt, version ORDER BY cost_usd DESC LIMIT 50`,
    },
  ],
);

const latency = dashboard(
  'llmwatch-latency',
  'llmwatch / Latency',
  'Latency percentiles and time to first token.',
  [
    {
      title: 'p50 / p95 / p99',
      type: 'timeseries',
      w: 24,
      h: 8,
      unit: 'ms',
      // Only plain numeric columns next to time: the plugin turns the frame into series.
      sql: `SELECT time, q[1] AS p50, q[3] AS p95, q[4] AS p99
FROM (
  SELECT $__timeInterval(Minute) AS time, ${Q}(LatencyQuantiles) AS q
  FROM ${ROLLUP} WHERE ${W_ROLLUP}
  GROUP BY time
)
ORDER BY time`,
    },
    {
      title: 'p95 latency by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'ms',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, ${Q}(LatencyQuantiles)[3] AS p95
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Time to first token p95 by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'ms',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, ${Q}(TtftQuantiles)[3] AS ttft_p95
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model HAVING NOT isNaN(ttft_p95) ORDER BY time`,
    },
    {
      title: 'Latency by prompt',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT PromptName AS prompt, PromptVersion AS version, sum(Calls) AS calls,
  round(${Q}(LatencyQuantiles)[1]) AS p50_ms, round(${Q}(LatencyQuantiles)[3]) AS p95_ms,
  round(${Q}(LatencyQuantiles)[4]) AS p99_ms, round(max(MaxLatencyMs)) AS max_ms,
  round(${Q}(TtftQuantiles)[1]) AS ttft_p50_ms, round(${Q}(TtftQuantiles)[3]) AS ttft_p95_ms
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY prompt, version ORDER BY p95_ms DESC`,
    },
    {
      title: 'Latency by model',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT Model, sum(Calls) AS calls,
  round(${Q}(LatencyQuantiles)[1]) AS p50_ms, round(${Q}(LatencyQuantiles)[3]) AS p95_ms,
  round(${Q}(LatencyQuantiles)[4]) AS p99_ms,
  round(${Q}(TtftQuantiles)[1]) AS ttft_p50_ms, round(${Q}(TtftQuantiles)[3]) AS ttft_p95_ms
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY Model ORDER BY p95_ms DESC`,
    },
    {
      title: 'Streaming vs non-streaming (p95)',
      type: 'bargauge',
      w: 8,
      h: 8,
      unit: 'ms',
      sql: `SELECT if(Streaming, 'streaming', 'non-streaming') AS mode, round(quantileTDigest(0.95)(LatencyMs)) AS p95
FROM llm_calls WHERE ${W_CALLS}
GROUP BY mode ORDER BY mode`,
    },
    {
      title: 'Slowest calls',
      type: 'table',
      w: 16,
      h: 8,
      sql: `SELECT Timestamp AS time, Model, PromptName AS prompt, round(LatencyMs) AS latency_ms,
  round(TtftMs) AS ttft_ms, OutputTokens AS output_tokens, TraceId AS trace_id
FROM llm_calls WHERE ${W_CALLS}
ORDER BY LatencyMs DESC LIMIT 25`,
      defaults: traceLink('trace_id'),
    },
  ],
);

/** Data link from a TraceId column to the Traces dashboard's trace view. */
function traceLink(_column: string): Record<string, unknown> {
  return {
    links: [
      {
        title: 'Open trace',
        url: '/d/llmwatch-traces/llmwatch-traces?var-project=${project}&var-trace_id=${__data.fields.trace_id}&${__url_time_range}',
      },
    ],
  };
}

const quality = dashboard(
  'llmwatch-quality',
  'llmwatch / Quality & drift',
  'Output length, finish reasons, drift of outputs and user feedback.',
  [
    {
      title: 'Output length by model (avg chars)',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Timestamp) AS time, Model, avg(OutputChars) AS output_chars
FROM llm_calls WHERE ${W_CALLS} AND Status != 'error'
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Output tokens per call by model',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Minute) AS time, Model, sum(OutputTokens) / greatest(sum(Calls) - sum(Errors), 1) AS output_tokens
FROM ${ROLLUP} WHERE ${W_ROLLUP}
GROUP BY time, Model ORDER BY time`,
    },
    {
      title: 'Finish reasons',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Timestamp) AS time, arrayJoin(FinishReasons) AS finish_reason, count() AS calls
FROM llm_calls WHERE ${W_CALLS}
GROUP BY time, finish_reason ORDER BY time`,
    },
    {
      title: 'Truncated outputs (finish_reason = length) by model',
      type: 'bargauge',
      w: 12,
      h: 8,
      unit: 'percentunit',
      sql: `SELECT Model, countIf(has(FinishReasons, 'length')) / greatest(count(), 1) AS truncated
FROM llm_calls WHERE ${W_CALLS} AND Status != 'error'
GROUP BY Model ORDER BY truncated DESC`,
    },
    {
      title: 'Output length drift (KS test, second half vs first half of the range)',
      description:
        'Two-sample Kolmogorov-Smirnov test of output tokens per model between the two halves of the selected time range: a small p-value means the distribution of answer lengths moved. Asymptotic p-value; large ranges use a hash sample of about 200,000 calls so the panel stays fast.',
      type: 'table',
      w: 12,
      h: 8,
      sql: `WITH (SELECT count() FROM llm_calls WHERE ${W_CALLS}) AS total
SELECT Model, sampled_calls, round(ks.1, 4) AS ks_statistic, round(ks.2, 6) AS p_value
FROM (
  SELECT Model, count() AS sampled_calls,
    kolmogorovSmirnovTest('two-sided', 'asymp')(toFloat64(OutputTokens), toUInt8(toUnixTimestamp(Timestamp) >= intDiv(toUnixTimestamp($__fromTime) + toUnixTimestamp($__toTime), 2))) AS ks
  FROM llm_calls WHERE ${W_CALLS} AND Status != 'error'
    AND cityHash64(SpanId) % greatest(1, intDiv(total, 200000)) = 0
  GROUP BY Model
)
WHERE sampled_calls >= 20 ORDER BY ks_statistic DESC`,
    },
    {
      title: 'Drift scores (detector output)',
      description:
        'Observed statistic of each drift rule per window (KS D, PSI, sketch distance), from the drift detector.',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT WindowTo AS time, concat(Rule, ' ', SubjectKey) AS series, max(Observed) AS score
FROM detections
WHERE ProjectId = '$project' AND $__timeFilter(WindowTo) AND Kind = 'drift'
GROUP BY time, series ORDER BY time`,
    },
    {
      title: 'Language mix',
      type: 'piechart',
      w: 12,
      h: 8,
      sql: `SELECT if(Language = '', 'unknown', Language) AS language, count() AS calls
FROM llm_calls WHERE ${W_CALLS}
GROUP BY language ORDER BY calls DESC`,
    },
    {
      title: 'Feedback and eval scores (average)',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(s.Timestamp) AS time, s.Name AS score, avg(s.Value) AS value
FROM scores AS s
WHERE s.ProjectId = '$project' AND $__timeFilter(s.Timestamp)
GROUP BY time, score ORDER BY time`,
    },
    {
      title: 'Scores by model and prompt',
      type: 'table',
      w: 12,
      h: 8,
      // Scores (the small side) build the hash table; llm_calls is only scanned for their ids.
      sql: `SELECT c.Model AS model, c.PromptName AS prompt, c.PromptVersion AS version, s.Name AS score,
  count() AS n, round(avg(s.Value), 3) AS avg_value
FROM (
  SELECT TraceId, SpanId, Model, PromptName, PromptVersion FROM llm_calls
  WHERE ${W_CALLS}
    AND TraceId IN (SELECT TraceId FROM scores WHERE ProjectId = '$project' AND $__timeFilter(Timestamp))
) AS c
INNER JOIN (
  SELECT TraceId, SpanId, Name, Value FROM scores WHERE ProjectId = '$project' AND $__timeFilter(Timestamp)
) AS s ON s.TraceId = c.TraceId AND s.SpanId = c.SpanId
GROUP BY model, prompt, version, score ORDER BY n DESC`,
    },
  ],
);

const pii = dashboard(
  'llmwatch-pii',
  'llmwatch / PII & security',
  'Personal data and secrets found in prompts and completions.',
  [
    {
      title: 'Findings',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(Count) AS findings FROM pii_findings WHERE ${W_CALLS}`,
    },
    {
      title: 'Calls with PII',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(PiiCalls) AS calls FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Share of calls with PII',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'percentunit',
      sql: `SELECT sum(PiiCalls) / greatest(sum(Calls), 1) AS share FROM ${ROLLUP} WHERE ${W_ROLLUP}`,
    },
    {
      title: 'Secrets found',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT sum(Count) AS secrets FROM pii_findings WHERE ${W_CALLS} AND Type = 'secret'`,
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'red', value: 1 },
          ],
        },
      },
    },
    {
      title: 'Findings by type',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Timestamp) AS time, Type, sum(Count) AS findings
FROM pii_findings WHERE ${W_CALLS}
GROUP BY time, Type ORDER BY time`,
    },
    {
      title: 'Findings by place',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(Timestamp) AS time, Place, sum(Count) AS findings
FROM pii_findings WHERE ${W_CALLS}
GROUP BY time, Place ORDER BY time`,
    },
    {
      title: 'By type, place and action',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT Type AS type, Place AS place, Action AS action, sum(Count) AS findings,
  uniqExact(ValueHash) AS distinct_values, uniqExact(TraceId) AS traces
FROM pii_findings WHERE ${W_CALLS}
GROUP BY type, place, action ORDER BY findings DESC`,
    },
    {
      title: 'Recent findings',
      type: 'table',
      w: 12,
      h: 8,
      sql: `SELECT Timestamp AS time, ServiceName AS service, Model, PromptName AS prompt, Type AS type, Place AS place,
  Action AS action, TraceId AS trace_id
FROM pii_findings WHERE ${W_CALLS}
ORDER BY Timestamp DESC LIMIT 50`,
      defaults: traceLink('trace_id'),
    },
  ],
);

const traces = dashboard(
  'llmwatch-traces',
  'llmwatch / Traces',
  'LLM calls and their traces in Grafana\u2019s trace view (otel_traces, OTel exporter schema).',
  [
    {
      title: 'LLM calls (click a trace id to open the trace)',
      type: 'table',
      w: 24,
      h: 10,
      sql: `SELECT Timestamp AS time, ServiceName AS service, Model, PromptName AS prompt, PromptVersion AS version,
  UserId AS user, InputTokens AS input_tokens, OutputTokens AS output_tokens,
  round(ifNull(CostUsd, 0), 6) AS cost_usd, round(LatencyMs) AS latency_ms, Status AS status, TraceId AS trace_id
FROM llm_calls WHERE ${W_CALLS}
ORDER BY Timestamp DESC LIMIT 200`,
      overrides: [
        {
          matcher: { id: 'byName', options: 'trace_id' },
          properties: [
            {
              id: 'links',
              value: [
                {
                  title: 'Show trace',
                  url: '/d/llmwatch-traces/llmwatch-traces?var-project=${project}&var-trace_id=${__value.raw}&${__url_time_range}',
                },
              ],
            },
          ],
        },
      ],
    },
    {
      title: 'Trace $trace_id',
      type: 'traces',
      w: 24,
      h: 14,
      // The columns Grafana's trace panel expects, as the plugin's trace-ID query builds them.
      sql: `WITH '$trace_id' AS trace_id,
  (SELECT min(Start) FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_start,
  (SELECT max(End) + 1 FROM otel_traces_trace_id_ts WHERE TraceId = trace_id) AS trace_end
SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID, ServiceName AS serviceName,
  SpanName AS operationName, multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
  multiply(Duration, 0.000001) AS duration,
  arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
  if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode,
  arrayMap((name, timestamp, attributes) -> tuple(name, toString(toUnixTimestamp64Milli(timestamp)), arrayMap(key -> map('key', key, 'value', attributes[key]), mapKeys(attributes)))::Tuple(name String, timestamp String, fields Array(Map(String, String))), Events.Name, Events.Timestamp, Events.Attributes) AS logs,
  SpanKind AS kind, StatusMessage AS statusMessage
FROM otel_traces
WHERE ProjectId = '$project' AND TraceId = trace_id AND Timestamp >= trace_start AND Timestamp <= trace_end
ORDER BY Timestamp ASC LIMIT 1000`,
    },
    {
      title: 'Slowest traces (root spans)',
      type: 'table',
      w: 24,
      h: 8,
      sql: `SELECT Timestamp AS time, TraceId AS trace_id, ServiceName AS service, SpanName AS root_span,
  round(Duration / 1e6) AS duration_ms, StatusCode AS status
FROM otel_traces
WHERE ProjectId = '$project' AND $__timeFilter(Timestamp) AND ${all('ServiceName', 'service')} AND ParentSpanId = ''
ORDER BY Duration DESC LIMIT 25`,
      overrides: [
        {
          matcher: { id: 'byName', options: 'trace_id' },
          properties: [
            {
              id: 'links',
              value: [
                {
                  title: 'Show trace',
                  url: '/d/llmwatch-traces/llmwatch-traces?var-project=${project}&var-trace_id=${__value.raw}&${__url_time_range}',
                },
              ],
            },
          ],
        },
      ],
    },
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

const ALERTS_WHERE = `ProjectId = '$project' AND $__timeFilter(WindowTo)`;

const alerts = dashboard(
  'llmwatch-alerts',
  'llmwatch / Alerts',
  'What the detectors found: open alerts, and the history of detections (also shown as annotations).',
  [
    {
      title: 'Firing alerts',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT count() AS firing FROM alert_state FINAL WHERE ProjectId = '$project' AND Status = 'firing'`,
      defaults: {
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'red', value: 1 },
          ],
        },
      },
    },
    {
      title: 'Critical detections',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT countIf(Severity = 'critical') AS critical FROM detections WHERE ${ALERTS_WHERE} AND Status = 'firing'`,
    },
    {
      title: 'Detections',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT countIf(Status = 'firing') AS detections FROM detections WHERE ${ALERTS_WHERE}`,
    },
    {
      title: 'Resolved',
      type: 'stat',
      w: 6,
      h: 4,
      unit: 'short',
      sql: `SELECT countIf(Status = 'resolved') AS resolved FROM detections WHERE ${ALERTS_WHERE}`,
    },
    {
      title: 'Open alerts',
      type: 'table',
      w: 24,
      h: 8,
      sql: `SELECT Severity AS severity, Kind AS kind, Rule AS rule, SubjectKey AS subject,
  FirstFiredAt AS first_fired, LastFiredAt AS last_fired, LastNotifiedAt AS last_notified,
  JSONExtractString(Json, 'message') AS message
FROM alert_state FINAL
WHERE ProjectId = '$project' AND Status = 'firing'
ORDER BY multiIf(Severity = 'critical', 0, Severity = 'warning', 1, 2), LastFiredAt DESC`,
    },
    {
      title: 'Detections by kind',
      type: 'timeseries',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT $__timeInterval(WindowTo) AS time, Kind, countIf(Status = 'firing') AS detections
FROM detections WHERE ${ALERTS_WHERE}
GROUP BY time, Kind ORDER BY time`,
    },
    {
      title: 'Detections by rule',
      type: 'barchart',
      w: 12,
      h: 8,
      unit: 'short',
      sql: `SELECT Rule AS rule, countIf(Status = 'firing') AS firing, countIf(Status = 'resolved') AS resolved
FROM detections WHERE ${ALERTS_WHERE}
GROUP BY rule ORDER BY firing DESC`,
    },
    {
      title: 'History',
      type: 'table',
      w: 24,
      h: 10,
      sql: `SELECT WindowTo AS window_end, Status AS status, Severity AS severity, Kind AS kind, Rule AS rule,
  SubjectKey AS subject, round(Observed, 4) AS observed, round(Baseline, 4) AS baseline, Message AS message,
  Notified AS notified
FROM detections WHERE ${ALERTS_WHERE}
ORDER BY WindowTo DESC, Severity LIMIT 200`,
    },
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
};
