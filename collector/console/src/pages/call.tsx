import { api, type ApiCallDetail, type ChatMessage } from '../api.js';
import { Badge, Empty, Facts, Status, statusTone } from '../components.js';
import { fmtInt, fmtMs, fmtTime, fmtTokens, fmtUsd } from '../format.js';
import { useLoad } from '../hooks.js';
import { href } from '../router.js';

type Part = ChatMessage['parts'][number];

function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function PartView(props: { part: Part }) {
  const { part } = props;
  if (part.type === 'text') return <div class="text">{part.content ?? ''}</div>;
  if (part.type === 'tool_call')
    return (
      <div class="tool" data-testid="tool-call">
        <div class="tool-head">
          calls tool <code>{part.name ?? '?'}</code>
          {part.id && <span class="muted"> · {part.id}</span>}
        </div>
        <pre>{pretty(part.arguments ?? {})}</pre>
      </div>
    );
  if (part.type === 'tool_call_response')
    return (
      <div class="tool">
        <div class="tool-head">tool result{part.id && <span class="muted"> · {part.id}</span>}</div>
        <pre>{pretty(part.response ?? part.content ?? '')}</pre>
      </div>
    );
  if (part.type === 'reasoning')
    return (
      <details class="reasoning">
        <summary>reasoning</summary>
        <div class="text">{part.content ?? ''}</div>
      </details>
    );
  return <pre class="muted">{pretty(part)}</pre>;
}

export function Chat(props: { messages: ChatMessage[] }) {
  if (props.messages.length === 0)
    return (
      <Empty>
        No content was recorded for this call (the app's capture policy, or the instrumentation, left it out).
      </Empty>
    );
  return (
    <ol class="chat" data-testid="chat">
      {props.messages.map((m, i) => (
        <li key={i} class={`msg msg-${m.role} msg-${m.place}`} data-testid="message" data-role={m.role}>
          <div class="msg-role">
            {m.role}
            {m.name && <span class="muted"> · {m.name}</span>}
            {m.place === 'output' && <span class="muted"> · response</span>}
            {m.finishReason && <span class="muted"> · {m.finishReason}</span>}
            {m.unparsed && <span class="muted"> · stored as plain text</span>}
          </div>
          {m.parts.map((p, j) => (
            <PartView key={j} part={p} />
          ))}
        </li>
      ))}
    </ol>
  );
}

export function CallPage(props: { traceId: string; spanId: string }) {
  const loaded = useLoad(
    (signal) => api<ApiCallDetail>(`calls/${props.traceId}/${props.spanId}`, {}, signal),
    `${props.traceId}/${props.spanId}`,
  );
  return (
    <main id="main" tabIndex={-1}>
      <Status loaded={loaded} what="the call" />
      {loaded.state === 'ready' && <CallBody call={loaded.data} />}
    </main>
  );
}

function CallBody(props: { call: ApiCallDetail }) {
  const c = props.call;
  return (
    <>
      <header class="page-head">
        <h1>
          {c.operation || 'call'} {c.model || c.requestModel}
        </h1>
        <Badge tone={statusTone(c.status)}>{c.status}</Badge>
        {c.errorType && <Badge tone="bad">{c.errorType}</Badge>}
        <a class="button" href={href(`traces/${c.traceId}`)} data-testid="trace-link">
          Open trace →
        </a>
      </header>
      <p class="muted">
        {fmtTime(c.time)} · {c.service || 'unknown service'} · {c.provider || 'unknown provider'} · span{' '}
        {c.spanId}
      </p>
      <Facts
        testId="call-facts"
        items={[
          ['Input tokens', <span data-testid="input-tokens">{fmtTokens(c.inputTokens)}</span>],
          ['Output tokens', <span data-testid="output-tokens">{fmtTokens(c.outputTokens)}</span>],
          ['Cache read / write', `${fmtInt(c.cacheReadTokens)} / ${fmtInt(c.cacheWriteTokens)}`],
          ['Reasoning tokens', fmtInt(c.reasoningTokens)],
          ['Cost', c.costUsd === null ? 'unknown (no price for this model)' : fmtUsd(c.costUsd)],
          ['Latency', fmtMs(c.latencyMs)],
          [
            'Time to first token',
            c.ttftMs === null ? (c.streaming ? 'unknown' : 'not streamed') : fmtMs(c.ttftMs),
          ],
          ['Finish', c.finishReasons.join(', ') || '—'],
          [
            'Prompt',
            c.promptName ? (
              <a
                href={href('calls', { promptName: c.promptName, promptVersion: c.promptVersion })}
              >{`${c.promptName} v${c.promptVersion}`}</a>
            ) : (
              '—'
            ),
          ],
          ['User', c.userId ? <a href={href('calls', { userId: c.userId })}>{c.userId}</a> : '—'],
          [
            'Session',
            c.sessionId ? <a href={href('calls', { sessionId: c.sessionId })}>{c.sessionId}</a> : '—',
          ],
          ['Response model', c.responseModel || '—'],
          ['Tools', c.toolNames.join(', ') || '—'],
          ['Language', c.language || '—'],
          ['Instrumentation', c.dialect],
        ]}
      />
      {Object.keys(c.tags).length > 0 && (
        <p class="chips">
          {Object.entries(c.tags).map(([k, v]) => (
            <span key={k} class="chip">
              {k}={v}
            </span>
          ))}
        </p>
      )}
      <div class="two-col">
        <section class="panel grow">
          <h2>Conversation</h2>
          <Chat messages={c.messages} />
        </section>
        <aside class="side">
          <section class="panel" data-testid="pii-findings">
            <h2>PII findings</h2>
            {c.piiFindings.length === 0 ? (
              <Empty>None found.</Empty>
            ) : (
              <>
                <table class="data">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">Where</th>
                      <th scope="col">Action</th>
                      <th scope="col" class="num">
                        Count
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.piiFindings.map((p) => (
                      <tr key={`${p.type}-${p.place}-${p.action}`}>
                        <td>
                          <Badge tone="warn">{p.type}</Badge>
                        </td>
                        <td>{p.place}</td>
                        <td>{p.action}</td>
                        <td class="num">{p.count}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <p class="muted small">Values are never stored: only their type, place and a keyed hash.</p>
              </>
            )}
          </section>
          <section class="panel" data-testid="scores">
            <h2>Scores</h2>
            {c.scores.length === 0 ? (
              <Empty>No feedback or evaluation score.</Empty>
            ) : (
              <table class="data">
                <tbody>
                  {c.scores.map((s, i) => (
                    <tr key={i}>
                      <th scope="row">{s.name}</th>
                      <td class="num">{s.value}</td>
                      <td>{s.label}</td>
                      <td class="muted">{s.source}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </aside>
      </div>
    </>
  );
}
