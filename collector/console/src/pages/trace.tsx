import { useState } from 'preact/hooks';
import { api, type Trace, type TraceDiagnosis, type TraceSpan } from '../api.js';
import { Badge, Facts, Status, statusTone } from '../components.js';
import { fmtInt, fmtMs, fmtPct, fmtTime, fmtTokens, fmtUsd } from '../format.js';
import { useLoad } from '../hooks.js';
import { href } from '../router.js';

export function TracePage(props: { traceId: string }) {
  const loaded = useLoad((signal) => api<Trace>(`traces/${props.traceId}`, {}, signal), props.traceId);
  // The RAG / chain diagnosis (critical path, verdict) where the collector has it; optional.
  const diagnosis = useLoad(
    (signal) => api<TraceDiagnosis>(`traces/${props.traceId}/diagnosis`, {}, signal),
    props.traceId,
  );
  return (
    <main id="main" tabIndex={-1}>
      <Status loaded={loaded} what="the trace" />
      {loaded.state === 'ready' && <TraceBody trace={loaded.data} />}
      {loaded.state === 'ready' && diagnosis.state === 'ready' && <Diagnosis diagnosis={diagnosis.data} />}
    </main>
  );
}

function Diagnosis(props: { diagnosis: TraceDiagnosis }) {
  const d = props.diagnosis;
  const critical = [...d.steps].sort((a, b) => b.criticalShare - a.criticalShare).slice(0, 5);
  return (
    <section class="panel" data-testid="diagnosis">
      <h2>Diagnosis</h2>
      {d.rag && (
        <>
          <p>
            RAG verdict{' '}
            <Badge tone={d.rag.verdict === 'ok' ? 'good' : 'bad'}>{d.rag.verdict.replace(/_/g, ' ')}</Badge>{' '}
            <span class="muted">{d.rag.evidence.reason}</span>
          </p>
          <Facts
            items={[
              ['Documents retrieved', fmtInt(d.rag.evidence.documents)],
              ['Best relevance', fmtPct(d.rag.evidence.maxRelevance)],
              ['Mean relevance', fmtPct(d.rag.evidence.meanRelevance)],
              [
                'Groundedness',
                d.rag.evidence.groundedness === undefined ? '—' : fmtPct(d.rag.evidence.groundedness),
              ],
              ['Question terms', d.rag.evidence.questionTerms.join(', ') || '—'],
              ['Unsupported answer terms', d.rag.evidence.unsupportedTerms?.join(', ') || '—'],
            ]}
          />
        </>
      )}
      <h3>Where the time went (critical path)</h3>
      <table class="data">
        <tbody>
          {critical.map((s) => (
            <tr key={s.spanId}>
              <th scope="row">{s.name}</th>
              <td class="muted">{s.kind}</td>
              <td class="num">{fmtPct(s.criticalShare)} of the time</td>
              <td class="num">{fmtPct(s.costShare)} of the cost</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function TraceBody(props: { trace: Trace }) {
  const t = props.trace;
  const [open, setOpen] = useState<string | null>(null);
  const total = Math.max(t.durationMs, 0.001);
  const llm = t.spans.filter((s) => s.call);
  return (
    <>
      <header class="page-head">
        <h1>Trace</h1>
        <code class="muted">{t.traceId}</code>
      </header>
      <Facts
        testId="trace-facts"
        items={[
          ['Started', fmtTime(t.startTime)],
          ['Duration', fmtMs(t.durationMs)],
          ['Steps', <span data-testid="span-count">{fmtInt(t.spans.length)}</span>],
          ['LLM calls', fmtInt(llm.length)],
          ['Cost', fmtUsd(t.costUsd)],
          [
            'Tokens in / out',
            `${fmtInt(llm.reduce((n, s) => n + (s.call?.inputTokens ?? 0), 0))} / ${fmtInt(llm.reduce((n, s) => n + (s.call?.outputTokens ?? 0), 0))}`,
          ],
        ]}
      />
      <section class="panel">
        <h2>Waterfall</h2>
        <div class="waterfall" role="table" aria-label="Spans by start time" data-testid="waterfall">
          <div class="wf-row wf-head" role="row">
            <span role="columnheader">Step</span>
            <span role="columnheader">Timeline (0 – {fmtMs(t.durationMs)})</span>
            <span role="columnheader" class="num">
              Duration
            </span>
            <span role="columnheader" class="num">
              Cost (step / with children)
            </span>
          </div>
          {t.spans.map((s) => (
            <SpanRow
              key={s.spanId}
              span={s}
              total={total}
              traceId={t.traceId}
              open={open === s.spanId}
              toggle={() => setOpen(open === s.spanId ? null : s.spanId)}
            />
          ))}
        </div>
      </section>
    </>
  );
}

function SpanRow(props: {
  span: TraceSpan;
  total: number;
  traceId: string;
  open: boolean;
  toggle: () => void;
}) {
  const s = props.span;
  const left = (s.offsetMs / props.total) * 100;
  const width = Math.max(0.4, (s.durationMs / props.total) * 100);
  const kind = s.call ? 'llm' : (s.attributes['llmwatch.span.kind'] ?? s.kind.toLowerCase());
  return (
    <>
      <div class={`wf-row${props.open ? ' open' : ''}`} role="row" data-testid="waterfall-row">
        <span role="cell" class="wf-name" style={{ paddingLeft: `${s.depth * 16}px` }}>
          <button
            type="button"
            class="link"
            aria-expanded={props.open}
            onClick={props.toggle}
            title="Show attributes"
          >
            {s.name}
          </button>
          <span class="muted small">
            {' '}
            {kind}
            {s.service ? ` · ${s.service}` : ''}
          </span>
          {s.status === 'Error' && <Badge tone={statusTone('error')}>error</Badge>}
          {s.call && (
            <a class="small" href={href(`calls/${props.traceId}/${s.spanId}`)}>
              {' '}
              call →
            </a>
          )}
        </span>
        <span role="cell" class="wf-track">
          <span
            class={`wf-bar wf-${kind === 'llm' ? 'llm' : 'step'}${s.status === 'Error' ? ' wf-error' : ''}`}
            style={{ left: `${left}%`, width: `${width}%` }}
            title={`${fmtMs(s.offsetMs)} + ${fmtMs(s.durationMs)}`}
          />
        </span>
        <span role="cell" class="num">
          {fmtMs(s.durationMs)}
        </span>
        <span role="cell" class="num">
          {s.call ? fmtUsd(s.call.costUsd) : '—'}
          {s.subtreeCostUsd > 0 && !s.call ? <span class="muted"> / {fmtUsd(s.subtreeCostUsd)}</span> : null}
          {s.call && s.subtreeCostUsd > (s.call.costUsd ?? 0) ? (
            <span class="muted"> / {fmtUsd(s.subtreeCostUsd)}</span>
          ) : null}
        </span>
      </div>
      {props.open && (
        <div class="wf-detail" role="row">
          <span role="cell">
            {s.call && (
              <p>
                {s.call.model} · {fmtTokens(s.call.inputTokens)} in / {fmtTokens(s.call.outputTokens)} out
                {s.call.ttftMs !== null ? ` · first token after ${fmtMs(s.call.ttftMs)}` : ''}
              </p>
            )}
            {s.statusMessage && <p class="error">{s.statusMessage}</p>}
            <table class="data attrs">
              <tbody>
                {Object.entries(s.attributes)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td>
                        <code>{v.length > 600 ? `${v.slice(0, 600)}…` : v}</code>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </span>
        </div>
      )}
    </>
  );
}
