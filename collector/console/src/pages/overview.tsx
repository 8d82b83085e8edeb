import type { ComponentChildren } from 'preact';
import { api, type AlertListItem, type CallFilter, type Group, type Overview } from '../api.js';
import { TimeChart } from '../charts.js';
import { Badge, Empty, RangePicker, Status, rangeOf, statusTone } from '../components.js';
import { fmtCompact, fmtInt, fmtMs, fmtPct, fmtTime, fmtUsd } from '../format.js';
import { useLoad } from '../hooks.js';
import { href, type Route } from '../router.js';

const FILTER_KEYS = ['service', 'provider', 'model', 'promptName', 'promptVersion', 'userId'] as const;

function filterOf(query: URLSearchParams): CallFilter {
  const filter: CallFilter = {};
  for (const k of FILTER_KEYS) {
    const v = query.get(k);
    if (v !== null) filter[k] = v;
  }
  return filter;
}

function Kpi(props: { label: string; value: string; raw: number | null; sub?: string; testId: string }) {
  return (
    <div class="kpi" data-testid={props.testId} data-value={props.raw === null ? '' : String(props.raw)}>
      <div class="kpi-label">{props.label}</div>
      <div class="kpi-value">{props.value}</div>
      {props.sub && <div class="kpi-sub">{props.sub}</div>}
    </div>
  );
}

function GroupTable(props: {
  title: string;
  rows: Group[] | undefined;
  from: string;
  to: string;
  testId: string;
}) {
  if (!props.rows) return null;
  return (
    <section class="panel" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <Empty>No calls.</Empty>
      ) : (
        <table class="data">
          <thead>
            <tr>
              <th scope="col">{props.title.replace(/^By /, '')}</th>
              <th scope="col" class="num">
                Calls
              </th>
              <th scope="col" class="num">
                Errors
              </th>
              <th scope="col" class="num">
                Cost
              </th>
              <th scope="col" class="num">
                Tokens in / out
              </th>
              <th scope="col" class="num">
                p50
              </th>
              <th scope="col" class="num">
                p95
              </th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((g) => (
              <tr key={g.key}>
                <th scope="row">
                  <a href={href('calls', { ...g.filter, from: props.from, to: props.to })}>
                    {g.key || '(none)'}
                  </a>
                </th>
                <td class="num">{fmtInt(g.calls)}</td>
                <td class="num">{g.errors ? `${fmtInt(g.errors)} (${fmtPct(g.errorRate)})` : '0'}</td>
                <td class="num">{fmtUsd(g.costUsd)}</td>
                <td class="num">
                  {fmtCompact(g.inputTokens)} / {fmtCompact(g.outputTokens)}
                </td>
                <td class="num">{fmtMs(g.p50Ms)}</td>
                <td class="num">{fmtMs(g.p95Ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function OverviewPage(props: { route: Route }) {
  const { query } = props.route;
  const range = rangeOf(query);
  const filter = filterOf(query);
  const key = `${range.name === 'custom' ? `${range.from}|${range.to}` : range.name}|${JSON.stringify(filter)}|${query.get('t') ?? ''}`;
  const overview = useLoad(
    (signal) => api<Overview>('overview', { from: range.from, to: range.to, ...filter }, signal),
    key,
  );
  const alerts = useLoad(
    (signal) => api<{ alerts: AlertListItem[] }>('alerts', { status: 'firing', limit: 20 }, signal),
    key,
  );
  const linkFor = (extra: Record<string, string | undefined>) => {
    const q: Record<string, string | undefined> = Object.fromEntries(query.entries());
    return href('', { ...q, ...extra });
  };

  return (
    <main id="main" tabIndex={-1}>
      <header class="page-head">
        <h1>Overview</h1>
        <RangePicker
          current={range.name}
          hrefFor={(r) => linkFor({ range: r, from: undefined, to: undefined })}
        />
      </header>
      {Object.keys(filter).length > 0 && (
        <p class="chips" aria-label="Filters">
          {Object.entries(filter).map(([k, v]) => (
            <a key={k} class="chip" href={linkFor({ [k]: undefined })} title="Remove this filter">
              {k}: {v} ✕
            </a>
          ))}
        </p>
      )}
      <Status loaded={overview} what="the overview" />
      {overview.state === 'ready' && (
        <OverviewBody data={overview.data}>
          <section class="panel" data-testid="open-alerts">
            <h2>Open alerts</h2>
            <Status loaded={alerts} what="alerts" />
            {alerts.state === 'ready' &&
              (alerts.data.alerts.length === 0 ? (
                <Empty>No alert is firing.</Empty>
              ) : (
                <ul class="alert-list">
                  {alerts.data.alerts.map((a) => (
                    <li key={a.id}>
                      <Badge tone={statusTone(a.severity)}>{a.severity}</Badge>{' '}
                      <a href={href(`alerts/${a.id}`)}>{a.message}</a>{' '}
                      <span class="muted">firing since {fmtTime(a.firstFiredAt, false)}</span>
                    </li>
                  ))}
                </ul>
              ))}
          </section>
        </OverviewBody>
      )}
    </main>
  );
}

function OverviewBody(props: { data: Overview; children: ComponentChildren }) {
  const { data } = props;
  const t = data.totals;
  const times = data.series.map((p) => p.time);
  return (
    <>
      <p class="muted range-note">
        {fmtTime(data.from, false)} – {fmtTime(data.to, false)} · project{' '}
        <strong data-testid="project">{data.project}</strong> ·{' '}
        <a href={href('calls', { ...data.filter, from: data.from, to: data.to })} data-testid="view-calls">
          list these {fmtInt(t.calls)} calls
        </a>
      </p>
      <div class="kpis">
        <Kpi testId="kpi-calls" label="Calls" value={fmtInt(t.calls)} raw={t.calls} />
        <Kpi
          testId="kpi-cost"
          label="Cost"
          value={fmtUsd(t.costUsd)}
          raw={t.costUsd}
          {...(t.unpricedCalls ? { sub: `+ ${fmtInt(t.unpricedCalls)} unpriced calls` } : {})}
        />
        <Kpi
          testId="kpi-tokens"
          label="Tokens"
          value={fmtInt(t.inputTokens + t.outputTokens)}
          raw={t.inputTokens + t.outputTokens}
          sub={`${fmtInt(t.inputTokens)} in · ${fmtInt(t.outputTokens)} out`}
        />
        <Kpi testId="kpi-p50" label="Latency p50" value={fmtMs(t.p50Ms)} raw={t.p50Ms} />
        <Kpi
          testId="kpi-p95"
          label="Latency p95"
          value={fmtMs(t.p95Ms)}
          raw={t.p95Ms}
          sub={t.ttftP95Ms !== null ? `TTFT p95 ${fmtMs(t.ttftP95Ms)}` : undefined}
        />
        <Kpi
          testId="kpi-errors"
          label="Errors"
          value={fmtInt(t.errors)}
          raw={t.errors}
          sub={`${fmtPct(t.errorRate)} of calls`}
        />
        <Kpi testId="kpi-pii" label="Calls with PII" value={fmtInt(t.piiCalls)} raw={t.piiCalls} />
      </div>
      {/* Open alerts come before the charts: an incident is the first thing to see. */}
      {props.children}
      <div class="charts">
        <TimeChart
          testId="chart-calls"
          title="Calls and errors"
          times={times}
          format={fmtCompact}
          series={[
            { name: 'ok', values: data.series.map((p) => p.calls - p.errors), color: '--c1', kind: 'bar' },
            { name: 'errors', values: data.series.map((p) => p.errors), color: '--bad', kind: 'bar' },
          ]}
        />
        <TimeChart
          testId="chart-cost"
          title="Cost (USD)"
          times={times}
          format={fmtUsd}
          series={[
            { name: 'cost', values: data.series.map((p) => (p.calls ? p.costUsd : null)), color: '--c2' },
          ]}
        />
        <TimeChart
          testId="chart-latency"
          title="Latency"
          times={times}
          format={fmtMs}
          series={[
            { name: 'p50', values: data.series.map((p) => p.p50Ms), color: '--c1' },
            { name: 'p95', values: data.series.map((p) => p.p95Ms), color: '--c3' },
          ]}
        />
        <TimeChart
          testId="chart-tokens"
          title="Tokens"
          times={times}
          format={fmtCompact}
          series={[
            { name: 'input', values: data.series.map((p) => p.inputTokens), color: '--c1', kind: 'bar' },
            { name: 'output', values: data.series.map((p) => p.outputTokens), color: '--c4', kind: 'bar' },
          ]}
        />
      </div>
      <GroupTable testId="by-model" title="By model" rows={data.groups.model} from={data.from} to={data.to} />
      <GroupTable
        testId="by-prompt"
        title="By prompt"
        rows={data.groups.prompt}
        from={data.from}
        to={data.to}
      />
      <GroupTable
        testId="by-service"
        title="By service"
        rows={data.groups.service}
        from={data.from}
        to={data.to}
      />
    </>
  );
}
