import { useState } from 'preact/hooks';
import { api, type CallsPage, type Overview } from '../api.js';
import { Badge, Empty, RangePicker, Status, rangeOf, statusTone } from '../components.js';
import { fmtInt, fmtMs, fmtTime, fmtTokens, fmtUsd } from '../format.js';
import { useLoad } from '../hooks.js';
import { href, navigate, type Route } from '../router.js';

/** Filters of GET /api/calls the form edits, in form order. */
const TEXT_FILTERS = [
  ['model', 'Model'],
  ['promptName', 'Prompt'],
  ['promptVersion', 'Version'],
  ['service', 'Service'],
  ['userId', 'User'],
  ['sessionId', 'Session'],
] as const;
const PAGE_SIZE = 50;

export function CallsPage(props: { route: Route }) {
  const { query } = props.route;
  const range = rangeOf(query);
  const filters: Record<string, string> = {};
  for (const k of [
    'model',
    'promptName',
    'promptVersion',
    'service',
    'provider',
    'userId',
    'sessionId',
    'status',
    'pii',
    'q',
    'traceId',
  ])
    if (query.get(k)) filters[k] = query.get(k)!;
  const cursor = query.get('cursor') ?? undefined;
  const key = `${range.name === 'custom' ? `${range.from}|${range.to}` : range.name}|${JSON.stringify(filters)}|${cursor ?? ''}`;
  const page = useLoad(
    (signal) =>
      api<CallsPage>(
        'calls',
        { from: range.from, to: range.to, limit: PAGE_SIZE, cursor, ...filters },
        signal,
      ),
    key,
  );
  // Values for the datalists: what the range holds (one cheap rollup query).
  const options = useLoad(
    (signal) =>
      api<Overview>(
        'overview',
        { from: range.from, to: range.to, by: 'model,prompt,service', limit: 50 },
        signal,
      ),
    range.name === 'custom' ? `${range.from}|${range.to}` : range.name,
  );
  const current = Object.fromEntries(query.entries());
  const [cursors, setCursors] = useState<string[]>([]);

  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const next: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === 'string' && v.trim()) next[k] = v.trim();
    if (range.name === 'custom') Object.assign(next, { from: range.from, to: range.to });
    else next.range = range.name;
    setCursors([]);
    navigate(href('calls', next));
  };
  const models = options.state === 'ready' ? (options.data.groups.model ?? []).map((g) => g.key) : [];
  const prompts =
    options.state === 'ready'
      ? [...new Set((options.data.groups.prompt ?? []).map((g) => g.filter.promptName ?? ''))]
      : [];
  const services = options.state === 'ready' ? (options.data.groups.service ?? []).map((g) => g.key) : [];

  return (
    <main id="main" tabIndex={-1}>
      <header class="page-head">
        <h1>Calls</h1>
        <RangePicker
          current={range.name}
          hrefFor={(r) =>
            href('calls', { ...current, range: r, from: undefined, to: undefined, cursor: undefined })
          }
        />
      </header>
      {range.name === 'custom' && (
        <p class="muted range-note">
          {fmtTime(range.from)} – {fmtTime(range.to)}
        </p>
      )}
      <form class="filters" onSubmit={submit} aria-label="Filter calls" key={key}>
        <label class="wide">
          Search content
          <input
            name="q"
            type="search"
            defaultValue={filters.q ?? ''}
            placeholder="text in prompts and answers (as stored, redacted)"
          />
        </label>
        {TEXT_FILTERS.map(([name, label]) => (
          <label key={name}>
            {label}
            <input
              name={name}
              defaultValue={filters[name] ?? ''}
              list={`options-${name}`}
              autoComplete="off"
            />
          </label>
        ))}
        <label>
          Status
          <select name="status" defaultValue={filters.status ?? ''}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="error">error</option>
            <option value="unset">unset</option>
          </select>
        </label>
        <label>
          PII
          <select name="pii" defaultValue={filters.pii ?? ''}>
            <option value="">any or none</option>
            <option value="any">with PII</option>
            <option value="none">without PII</option>
            {['email', 'phone', 'credit_card', 'iban', 'ssn', 'ip_address', 'secret'].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {filters.traceId && <input type="hidden" name="traceId" value={filters.traceId} />}
        {filters.provider && <input type="hidden" name="provider" value={filters.provider} />}
        <div class="filter-actions">
          <button type="submit">Apply</button>
          <a href={href('calls', { range: range.name === 'custom' ? '24h' : range.name })}>Clear</a>
        </div>
        <datalist id="options-model">
          {models.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        <datalist id="options-promptName">
          {prompts.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        <datalist id="options-service">
          {services.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </form>
      <Status loaded={page} what="calls" />
      {page.state === 'ready' && (
        <section class="panel">
          <p class="muted" data-testid="calls-total">
            {fmtInt(page.data.total)} calls match
          </p>
          {page.data.calls.length === 0 ? (
            <Empty>No call matches these filters in this range.</Empty>
          ) : (
            <div class="table-scroll">
              <table class="data" data-testid="calls-table">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Model</th>
                    <th scope="col">Prompt</th>
                    <th scope="col">User</th>
                    <th scope="col">Session</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Tokens in / out
                    </th>
                    <th scope="col" class="num">
                      Cost
                    </th>
                    <th scope="col" class="num">
                      Latency
                    </th>
                    <th scope="col">PII</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.calls.map((c) => (
                    <tr key={`${c.traceId}-${c.spanId}`}>
                      <td>
                        <a href={href(`calls/${c.traceId}/${c.spanId}`)}>{fmtTime(c.time)}</a>
                      </td>
                      <td>{c.model || c.requestModel || '—'}</td>
                      <td>{c.promptName ? `${c.promptName} v${c.promptVersion}` : '—'}</td>
                      <td>
                        {c.userId ? (
                          <a href={href('calls', { ...current, userId: c.userId, cursor: undefined })}>
                            {c.userId}
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td class="ellipsis">
                        {c.sessionId ? (
                          <a href={href('calls', { ...current, sessionId: c.sessionId, cursor: undefined })}>
                            {c.sessionId}
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>
                        <Badge tone={statusTone(c.status)}>{c.status}</Badge>
                        {c.errorType && <span class="muted"> {c.errorType}</span>}
                      </td>
                      <td class="num">
                        {fmtTokens(c.inputTokens)} / {fmtTokens(c.outputTokens)}
                      </td>
                      <td class="num">{fmtUsd(c.costUsd)}</td>
                      <td class="num">{fmtMs(c.latencyMs)}</td>
                      <td>
                        {c.piiTypes.length
                          ? c.piiTypes.map((t) => (
                              <Badge key={t} tone="warn">
                                {t}
                              </Badge>
                            ))
                          : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages">
            {cursor && (
              <a
                href={href('calls', { ...current, cursor: cursors[cursors.length - 2] })}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                ← Newer
              </a>
            )}
            {page.data.nextCursor && (
              <a
                href={href('calls', { ...current, cursor: page.data.nextCursor })}
                onClick={() => setCursors([...cursors, page.data.nextCursor!])}
                data-testid="next-page"
              >
                Older →
              </a>
            )}
          </nav>
        </section>
      )}
    </main>
  );
}
