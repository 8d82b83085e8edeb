import type { ComponentChildren } from 'preact';
import { api, type AlertDetail, type AlertListItem, type Detection } from '../api.js';
import { TimeChart } from '../charts.js';
import { Badge, Empty, Facts, Status, statusTone } from '../components.js';
import { MEASURE_LABELS, fmtAgo, fmtMeasure, fmtTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { href, type Route } from '../router.js';

function subjectText(subject: Detection['subject']): string {
  const parts = Object.entries(subject).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'whole project';
}

export function AlertsPage(props: { route: Route }) {
  const status = props.route.query.get('status') ?? 'firing';
  const loaded = useLoad(
    (signal) => api<{ alerts: AlertListItem[] }>('alerts', status === 'all' ? {} : { status }, signal),
    status,
  );
  return (
    <main id="main" tabIndex={-1}>
      <header class="page-head">
        <h1>Alerts</h1>
        <nav class="range" aria-label="Alert status">
          {['firing', 'resolved', 'all'].map((s) => (
            <a
              key={s}
              href={href('alerts', { status: s })}
              class={status === s ? 'active' : ''}
              aria-current={status === s ? 'true' : undefined}
            >
              {s}
            </a>
          ))}
        </nav>
      </header>
      <Status loaded={loaded} what="alerts" />
      {loaded.state === 'ready' &&
        (loaded.data.alerts.length === 0 ? (
          <Empty>No {status === 'all' ? '' : status} alerts.</Empty>
        ) : (
          <section class="panel">
            <table class="data" data-testid="alerts-table">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Status</th>
                  <th scope="col">First fired</th>
                  <th scope="col">Window end</th>
                </tr>
              </thead>
              <tbody>
                {loaded.data.alerts.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <Badge tone={statusTone(a.severity)}>{a.severity}</Badge>
                    </td>
                    <td>
                      <a href={href(`alerts/${a.id}`)}>{a.message}</a>
                    </td>
                    <td>
                      <code>{a.rule}</code>
                    </td>
                    <td>{subjectText(a.subject)}</td>
                    <td>
                      <Badge tone={statusTone(a.status)}>{a.status}</Badge>
                    </td>
                    <td title={a.firstFiredAt}>{fmtAgo(a.firstFiredAt)}</td>
                    <td>{fmtTime(a.window.to)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
    </main>
  );
}

export function AlertPage(props: { id: string }) {
  const loaded = useLoad((signal) => api<AlertDetail>(`alerts/${props.id}`, {}, signal), props.id);
  return (
    <main id="main" tabIndex={-1}>
      <Status loaded={loaded} what="the alert" />
      {loaded.state === 'ready' && <AlertBody detail={loaded.data} />}
    </main>
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function label(key: string): string {
  return key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

function Scalar(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined) return <span class="muted">—</span>;
  if (typeof v === 'number')
    return (
      <span>{Number.isInteger(v) ? v.toLocaleString('en-US') : v.toPrecision(4).replace(/\.?0+$/, '')}</span>
    );
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return <span>{fmtTime(v)}</span>;
  return <span>{String(v)}</span>;
}

/** Words whose share rose or fell (drift): the clearest evidence a person can read. */
function Terms(props: { title: string; terms: unknown[]; tone: string }) {
  return (
    <div class="terms" data-testid={`terms-${props.tone}`}>
      <h3>{props.title}</h3>
      <ul>
        {props.terms.filter(isRecord).map((t) => (
          <li key={String(t.term)}>
            <Badge tone={props.tone === 'rising' ? 'bad' : 'neutral'}>{String(t.term)}</Badge>{' '}
            <span class="muted">
              {String(t.baseline)} → {String(t.current)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Evidence of any detector: numbers, nested {current, baseline} pairs, lists, example calls. */
function Evidence(props: { evidence: Record<string, unknown> }) {
  const rows: Array<[string, ComponentChildren]> = [];
  const blocks: ComponentChildren[] = [];
  for (const [key, value] of Object.entries(props.evidence)) {
    if (key === 'termsRising' || key === 'termsFalling') {
      if (Array.isArray(value) && value.length)
        blocks.push(
          <Terms
            key={key}
            title={key === 'termsRising' ? 'Words that rose' : 'Words that fell'}
            terms={value}
            tone={key === 'termsRising' ? 'rising' : 'falling'}
          />,
        );
    } else if (key === 'examples' && Array.isArray(value)) {
      blocks.push(
        <div key={key} class="examples">
          <h3>Example calls</h3>
          <ul>
            {value.filter(isRecord).map((e, i) => (
              <li key={i}>
                <a
                  href={href(`calls/${String(e.traceId)}/${String(e.spanId)}`)}
                  data-testid="evidence-example"
                >
                  {String(e.spanId)}
                </a>{' '}
                <span class="muted">
                  {Object.entries(e)
                    .filter(([k]) => k !== 'traceId' && k !== 'spanId')
                    .map(([k, v]) => `${label(k)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
                    .join(' · ')}
                </span>
              </li>
            ))}
          </ul>
        </div>,
      );
    } else if (Array.isArray(value)) {
      if (value.every((v) => !isRecord(v)))
        rows.push([label(key), value.map((v) => String(v)).join(', ') || '—']);
      else
        blocks.push(
          <div key={key}>
            <h3>{label(key)}</h3>
            <table class="data">
              <tbody>
                {value.map((v, i) => (
                  <tr key={i}>
                    <td>
                      <code>{JSON.stringify(v)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>,
        );
    } else if (isRecord(value)) {
      rows.push([
        label(key),
        <span>
          {Object.entries(value).map(([k, v], i) => (
            <span key={k}>
              {i > 0 && ' · '}
              {label(k)} {isRecord(v) ? JSON.stringify(v) : <Scalar value={v} />}
            </span>
          ))}
        </span>,
      ]);
    } else rows.push([label(key), <Scalar value={value} />]);
  }
  return (
    <div data-testid="evidence">
      <Facts items={rows} />
      {blocks}
    </div>
  );
}

function AlertBody(props: { detail: AlertDetail }) {
  const { alert: a, state, history, chart } = props.detail;
  const unit = typeof a.evidence.unit === 'string' ? a.evidence.unit : '';
  return (
    <>
      <header class="page-head">
        <h1>{a.message}</h1>
      </header>
      <p>
        <Badge tone={statusTone(a.severity)}>{a.severity}</Badge>{' '}
        <Badge tone={statusTone(state?.status ?? a.status)}>{state?.status ?? a.status}</Badge>{' '}
        <code>{a.rule}</code> · {subjectText(a.subject)}
      </p>
      <div class="kpis">
        <div class="kpi" data-testid="alert-observed">
          <div class="kpi-label">Observed {unit && `(${label(unit)})`}</div>
          <div class="kpi-value">
            <Scalar value={a.observed} />
          </div>
          <div class="kpi-sub">
            window {fmtTime(a.window.from, false)} – {fmtTime(a.window.to, false)}
          </div>
        </div>
        <div class="kpi" data-testid="alert-baseline">
          <div class="kpi-label">Baseline</div>
          <div class="kpi-value">
            <Scalar value={a.baseline} />
          </div>
        </div>
        {state && (
          <div class="kpi">
            <div class="kpi-label">Firing since</div>
            <div class="kpi-value small-value">{fmtTime(state.firstFiredAt, false)}</div>
            {state.resolvedAt && <div class="kpi-sub">resolved {fmtTime(state.resolvedAt, false)}</div>}
          </div>
        )}
      </div>
      <section class="panel">
        <TimeChart
          testId="alert-chart"
          width={1100}
          height={260}
          title={`${MEASURE_LABELS[chart.metric] ?? chart.metric} for ${subjectText(chart.filter)} (detection window shaded)`}
          times={chart.points.map((p) => p.time)}
          format={(v) => fmtMeasure(chart.metric, v)}
          highlight={chart.window}
          series={[
            {
              name: MEASURE_LABELS[chart.metric] ?? chart.metric,
              values: chart.points.map((p) => p.value),
              color: '--c3',
            },
          ]}
        />
        <p class="small">
          <a href={href('calls', { ...chart.filter, from: a.window.from, to: a.window.to })}>
            Calls in the detection window →
          </a>
        </p>
      </section>
      <section class="panel">
        <h2>Evidence</h2>
        <Evidence evidence={a.evidence} />
      </section>
      <section class="panel">
        <h2>History of this alert</h2>
        {history.length === 0 ? (
          <Empty>No earlier detections.</Empty>
        ) : (
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Window end</th>
                <th scope="col">Status</th>
                <th scope="col">Severity</th>
                <th scope="col" class="num">
                  Observed
                </th>
                <th scope="col" class="num">
                  Baseline
                </th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr key={h.id} aria-current={h.id === a.id ? 'true' : undefined}>
                  <td>
                    <a href={href(`alerts/${h.id}`)}>{fmtTime(h.windowTo)}</a>
                  </td>
                  <td>
                    <Badge tone={statusTone(h.status)}>{h.status}</Badge>
                  </td>
                  <td>{h.severity}</td>
                  <td class="num">
                    <Scalar value={h.observed} />
                  </td>
                  <td class="num">
                    <Scalar value={h.baseline} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
