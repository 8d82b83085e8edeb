import type { ClickHouseClient } from '@clickhouse/client';
import { contentFromEvents, type AttributeValue, type DecodedSpanEvent } from '@llmwatch/core';
import { computeFeatures } from '../enrich/features.js';
import type { Logger } from '../logging.js';
import { queryRows } from '../storage/clickhouse.js';
import { clickhouseErrorSummary } from './writer.js';

/**
 * GenAI events joined to calls. Some instrumentations (the contrib OpenAI instrumentation, GenAI
 * semconv ≥1.37 in "events" mode) send a call's prompt and completion as log records tied to the
 * span, not on it; they may arrive before or after the span, in other requests. Both halves are
 * stored as they come (events in genai_events, already through the PII policy); a pass here finds
 * spans whose llm_calls row has events not merged yet, rebuilds the content from all of them, and
 * writes it with a lightweight UPDATE of the content columns. genai_event_joins records how many
 * events a row holds, so passes are idempotent and a replayed or late event triggers one more.
 * A span whose own attributes carried content keeps it: events only fill calls without content.
 */
export interface EventJoinerOptions {
  client: ClickHouseClient;
  logger: Logger;
  /** Time between passes while events may be waiting. */
  intervalMs: number;
  /** How far back events and calls are matched (a span later than this keeps its events unjoined). */
  lookbackHours?: number;
  /** How long passes go on after the last GenAI event was accepted (its span may still come). */
  activeForMs?: number;
}

interface Candidate {
  projectId: string;
  traceId: string;
  spanId: string;
  events: number;
  joined: number;
  /** [timeUnixNano, name, attributes JSON] per event, oldest first. */
  list: [string, string, string][];
  inputContent: string;
  outputContent: string;
  piiTypes: string[];
  piiCount: number;
}

const MAX_PER_PASS = 500;

export class EventJoiner {
  private timer: NodeJS.Timeout | undefined;
  private activeUntil = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: EventJoinerOptions) {}

  /** GenAI events were accepted: keep joining for a while, their spans may follow. */
  notify(): void {
    if (this.stopped) return;
    this.activeUntil = Date.now() + (this.opts.activeForMs ?? 10 * 60_000);
    this.timer ??= setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** After a restart, events left unjoined by the previous run resume the passes. */
  async resume(): Promise<void> {
    const [pending] = await queryRows<{ n: string }>(
      this.opts.client,
      `SELECT count() AS n FROM genai_events WHERE Timestamp >= now64() - toIntervalHour({h:UInt32})`,
      { h: this.lookback() },
    );
    if (pending && Number(pending.n) > 0) this.notify();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
  }

  /** One pass; returns how many calls got content. */
  async joinOnce(): Promise<number> {
    const candidates = await queryRows<Candidate>(this.opts.client, CANDIDATES_SQL, {
      h: this.lookback(),
      limit: MAX_PER_PASS,
    });
    let filled = 0;
    for (const c of candidates) {
      const ownContent = c.joined === 0 && (c.inputContent !== '' || c.outputContent !== '');
      if (!ownContent) {
        await this.fill(c);
        filled++;
      }
      await this.opts.client.insert({
        table: 'genai_event_joins',
        values: [{ ProjectId: c.projectId, TraceId: c.traceId, SpanId: c.spanId, Events: c.events }],
        format: 'JSONEachRow',
      });
    }
    return filled;
  }

  private lookback(): number {
    return this.opts.lookbackHours ?? 24;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    if (Date.now() > this.activeUntil) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.running = this.joinOnce()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.opts.logger.warn(
          { err: clickhouseErrorSummary(error) },
          'joining GenAI events failed; will retry',
        );
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  private async fill(c: Candidate): Promise<void> {
    const events: DecodedSpanEvent[] = c.list.map(([time, name, json]) => ({
      name,
      timeUnixNano: time,
      attributes: parseAttributes(json),
    }));
    const content = contentFromEvents(events);
    const features = computeFeatures(content);
    await this.opts.client.command({
      query: `UPDATE llm_calls SET
        InputContent = {input:String}, OutputContent = {output:String}, SystemContent = {system:String},
        ToolNames = {tools:Array(String)}, InputChars = {inChars:UInt32}, OutputChars = {outChars:UInt32},
        Language = {language:String}, InputSketch = {inSketch:Array(Float32)},
        OutputSketch = {outSketch:Array(Float32)}, PiiTypes = {piiTypes:Array(String)}, PiiCount = {piiCount:UInt16}
        WHERE ProjectId = {project:String} AND TraceId = {trace:String} AND SpanId = {span:String}`,
      query_params: {
        input: content.inputContent,
        output: content.outputContent,
        system: content.systemContent,
        tools: content.toolNames,
        inChars: features.inputChars,
        outChars: features.outputChars,
        language: features.language,
        inSketch: features.inputSketch,
        outSketch: features.outputSketch,
        piiTypes: c.piiTypes,
        piiCount: Math.min(c.piiCount, 0xffff),
        project: c.projectId,
        trace: c.traceId,
        span: c.spanId,
      },
      // On by default in recent ClickHouse; explicit for servers where it is still opt-in.
      clickhouse_settings: { enable_lightweight_update: 1 },
    });
  }
}

function parseAttributes(json: string): Record<string, AttributeValue> {
  try {
    const parsed = JSON.parse(json) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, AttributeValue>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Spans with more events than their row holds. PII types and counts are recomputed from every
 * finding of the span (its own and its events'), as the row would have had them in one piece.
 * The call, join and finding rows are read for the spans that have events only: joined in full,
 * every pass would read the content of every call of two days.
 */
const WITH_EVENTS = `(ProjectId, TraceId, SpanId) IN (
    SELECT ProjectId, TraceId, SpanId FROM genai_events WHERE Timestamp >= now64() - toIntervalHour({h:UInt32}))`;

const CANDIDATES_SQL = `
SELECT e.ProjectId AS projectId, e.TraceId AS traceId, e.SpanId AS spanId, e.n AS events,
  j.joined AS joined, e.list AS list, c.inputContent AS inputContent, c.outputContent AS outputContent,
  p.types AS piiTypes, toUInt32(p.total) AS piiCount
FROM (
  SELECT ProjectId, TraceId, SpanId, toUInt32(count()) AS n,
    arraySort(x -> x.1, groupArray((toString(toUnixTimestamp64Nano(Timestamp)), EventName, Attributes))) AS list
  FROM genai_events
  WHERE Timestamp >= now64() - toIntervalHour({h:UInt32})
  GROUP BY ProjectId, TraceId, SpanId
) AS e
INNER JOIN (
  SELECT ProjectId, TraceId, SpanId, any(InputContent) AS inputContent, any(OutputContent) AS outputContent
  FROM llm_calls
  WHERE Timestamp >= now64() - toIntervalHour({h:UInt32} * 2) AND ${WITH_EVENTS}
  GROUP BY ProjectId, TraceId, SpanId
) AS c ON c.ProjectId = e.ProjectId AND c.TraceId = e.TraceId AND c.SpanId = e.SpanId
LEFT JOIN (
  SELECT ProjectId, TraceId, SpanId, max(Events) AS joined FROM genai_event_joins
  WHERE ${WITH_EVENTS}
  GROUP BY ProjectId, TraceId, SpanId
) AS j ON j.ProjectId = e.ProjectId AND j.TraceId = e.TraceId AND j.SpanId = e.SpanId
LEFT JOIN (
  SELECT ProjectId, TraceId, SpanId, arraySort(groupUniqArray(toString(Type))) AS types, sum(Count) AS total
  FROM pii_findings
  WHERE Timestamp >= now64() - toIntervalHour({h:UInt32} * 2) AND ${WITH_EVENTS}
  GROUP BY ProjectId, TraceId, SpanId
) AS p ON p.ProjectId = e.ProjectId AND p.TraceId = e.TraceId AND p.SpanId = e.SpanId
WHERE e.n > j.joined
LIMIT {limit:UInt32}`;
