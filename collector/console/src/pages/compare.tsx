import { apiPost, type Comparison } from '../api.js';
import { Badge, RangePicker, Status, rangeOf } from '../components.js';
import { fmtInt } from '../format.js';
import { useLoad } from '../hooks.js';
import { href, navigate, type Route } from '../router.js';

/**
 * Is cohort B better than cohort A? (docs/evaluation.md) — the cohorts are prompt, version and
 * model in the URL (`#/compare?aPrompt=answer&aVersion=3&bPrompt=answer&bVersion=4&range=7d`),
 * the answer is POST /api/compare's: per metric both values, the change with its confidence
 * interval, the Holm-adjusted p-value and a verdict.
 */
const FIELDS = [
  ['Prompt', 'Prompt', 'promptName'],
  ['Version', 'Version', 'promptVersion'],
  ['Model', 'Model', 'model'],
] as const;

function cohortOf(query: URLSearchParams, side: 'a' | 'b'): Record<string, string> {
  const cohort: Record<string, string> = {};
  for (const [suffix, , key] of FIELDS) {
    const value = query.get(`${side}${suffix}`);
    if (value) cohort[key] = value;
  }
  return cohort;
}

const VERDICT_TONE: Record<string, string> = {
  better: 'good',
  non_inferior: 'good',
  worse: 'bad',
  insufficient: 'warn',
};

function number(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'USD') return `$${v.toPrecision(3)}`;
  if (unit === 'ratio') return `${(v * 100).toFixed(1)}%`;
  return Math.abs(v) >= 100 ? fmtInt(Math.round(v)) : v.toPrecision(3);
}

function CohortFields(props: { side: 'a' | 'b'; query: URLSearchParams }) {
  return (
    <fieldset class="cohort">
      <legend>Cohort {props.side.toUpperCase()}</legend>
      {FIELDS.map(([suffix, label]) => (
        <label key={suffix}>
          {label}
          <input name={`${props.side}${suffix}`} value={props.query.get(`${props.side}${suffix}`) ?? ''} />
        </label>
      ))}
    </fieldset>
  );
}

export function ComparePage(props: { route: Route }) {
  const query = props.route.query;
  const range = rangeOf(query);
  const a = cohortOf(query, 'a');
  const b = cohortOf(query, 'b');
  const ready = Object.keys(a).length > 0 && Object.keys(b).length > 0;
  const loaded = useLoad(
    (signal) =>
      ready
        ? apiPost<Comparison>(
            'compare',
            { a: { ...a, from: range.from, to: range.to }, b: { ...b, from: range.from, to: range.to } },
            signal,
          )
        : Promise.resolve(null),
    `${query.toString()}|${range.name === 'custom' ? '' : range.name}`,
  );
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next: Record<string, string> = { range: range.name === 'custom' ? '7d' : range.name };
    for (const [k, v] of form.entries()) if (typeof v === 'string' && v.trim()) next[k] = v.trim();
    navigate(href('compare', next));
  };
  const hrefFor = (r: string) => href('compare', { ...Object.fromEntries(query.entries()), range: r });
  return (
    <main id="main" tabIndex={-1}>
      <header class="page-head">
        <h1>Compare</h1>
        <RangePicker current={range.name} hrefFor={hrefFor} />
      </header>
      <form class="panel compare-form" onSubmit={submit} data-testid="compare-form">
        <CohortFields side="a" query={query} />
        <CohortFields side="b" query={query} />
        <button type="submit">Compare</button>
      </form>
      {!ready && <p class="muted">Name at least one of prompt, version or model for each cohort.</p>}
      {ready && <Status loaded={loaded} what="the comparison" />}
      {loaded.state === 'ready' && loaded.data && (
        <section class="panel" data-testid="comparison">
          <p class="summary" data-testid="compare-summary">
            {loaded.data.summary}
          </p>
          <p class="muted">
            {fmtInt(loaded.data.calls.a)} calls in A, {fmtInt(loaded.data.calls.b)} in B
          </p>
          <table class="data" data-testid="compare-table">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" class="num">
                  A
                </th>
                <th scope="col" class="num">
                  B
                </th>
                <th scope="col" class="num">
                  Change
                </th>
                <th scope="col" class="num">
                  95% CI
                </th>
                <th scope="col" class="num">
                  p (Holm)
                </th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.metrics.map((m) => (
                <tr key={m.metric}>
                  <td>
                    {m.metric} <span class="muted">({m.better} is better)</span>
                  </td>
                  <td class="num">{number(m.a.value, m.unit)}</td>
                  <td class="num">{number(m.b.value, m.unit)}</td>
                  <td class="num">
                    {m.change.relative !== null
                      ? `${m.change.relative > 0 ? '+' : ''}${(m.change.relative * 100).toFixed(1)}%`
                      : number(m.change.absolute, m.unit)}
                  </td>
                  <td class="num">
                    {m.change.ci
                      ? `${number(m.change.ci[0], m.unit)} … ${number(m.change.ci[1], m.unit)}`
                      : '—'}
                  </td>
                  <td class="num">{m.pAdjusted === null ? '—' : m.pAdjusted.toPrecision(2)}</td>
                  <td>
                    <Badge tone={VERDICT_TONE[m.verdict] ?? 'neutral'}>{m.verdict.replace('_', ' ')}</Badge>
                    {m.moreCallsNeeded !== undefined && (
                      <span class="muted"> about {fmtInt(m.moreCallsNeeded)} more calls per cohort</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </main>
  );
}
