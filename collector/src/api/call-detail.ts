import type { GenAiMessage, GenAiMessagePart } from '@llmwatch/core';
import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { queryRows } from '../storage/clickhouse.js';
import { CALL_COLUMNS, type ApiCall } from './calls.js';
import { parseInput } from './query-params.js';

const idsSchema = z
  .object({
    traceId: z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex characters'),
    spanId: z.string().regex(/^[0-9a-f]{16}$/, '16 lower-case hex characters'),
  })
  .strict();

/** One message of the conversation as stored (after the content policy: redactions stay). */
export interface ChatMessage {
  /** Where it was recorded: system instructions, the request, or the response. */
  place: 'system' | 'input' | 'output';
  role: string;
  parts: GenAiMessagePart[];
  name?: string;
  finishReason?: string;
  /** The stored text was not a message array (cut by an attribute length limit, or plain text). */
  unparsed?: true;
}

export interface ApiCallDetail extends ApiCall {
  toolNames: string[];
  language: string;
  inputChars: number;
  outputChars: number;
  messages: ChatMessage[];
  piiFindings: { type: string; place: string; action: string; count: number }[];
  scores: {
    name: string;
    value: number;
    label: string;
    comment: string;
    source: string;
    time: string;
    spanId: string;
  }[];
}

interface DetailRow extends ApiCall {
  inputContent: string;
  outputContent: string;
  systemContent: string;
  toolNames: string[];
  language: string;
  inputChars: number;
  outputChars: number;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isMessage(v: unknown): v is GenAiMessage {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as GenAiMessage).role === 'string' &&
    Array.isArray((v as GenAiMessage).parts)
  );
}

function messagesOf(text: string, place: 'input' | 'output', fallbackRole: string): ChatMessage[] {
  if (text === '') return [];
  const parsed = parseJson(text);
  if (Array.isArray(parsed) && parsed.every(isMessage))
    return parsed.map((m) => ({
      place,
      role: m.role,
      parts: m.parts,
      ...(m.name ? { name: m.name } : {}),
      ...(m.finish_reason ? { finishReason: m.finish_reason } : {}),
    }));
  return [{ place, role: fallbackRole, parts: [{ type: 'text', content: text }], unparsed: true }];
}

/** System instructions are stored as a part array (GenAI `gen_ai.system_instructions`). */
function systemOf(text: string): ChatMessage[] {
  if (text === '') return [];
  const parsed = parseJson(text);
  if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'object' && p !== null && 'type' in p))
    return [{ place: 'system', role: 'system', parts: parsed as GenAiMessagePart[] }];
  return [{ place: 'system', role: 'system', parts: [{ type: 'text', content: text }], unparsed: true }];
}

/**
 * `GET /api/calls/:traceId/:spanId`: one call of the key's project with its conversation as chat
 * messages, PII findings (type, place, action, count: values are never stored) and scores.
 */
export function createCallDetailRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/calls/:traceId/:spanId', async (req, res) => {
    const ids = parseInput(idsSchema, req.params);
    const params = { project: projectOf(res), ...ids };
    const client = deps.clickhouse.query;
    const [row] = await queryRows<DetailRow>(
      client,
      `SELECT ${CALL_COLUMNS}, InputContent AS inputContent, OutputContent AS outputContent,
         SystemContent AS systemContent, ToolNames AS toolNames, Language AS language,
         InputChars AS inputChars, OutputChars AS outputChars
       FROM llm_calls
       WHERE ProjectId = {project:String} AND TraceId = {traceId:String} AND SpanId = {spanId:String}
       ORDER BY InsertedAt DESC LIMIT 1`,
      params,
    );
    if (!row) throw new LlmwatchError('not_found', `no call ${ids.traceId}/${ids.spanId} in this project`);
    const callDay = { ...params, nanos: row.timeUnixNano };
    const [pii, scores] = await Promise.all([
      queryRows<{ type: string; place: string; action: string; count: string | number }>(
        client,
        `SELECT Type AS type, Place AS place, Action AS action, sum(Count) AS count FROM pii_findings
         WHERE ProjectId = {project:String} AND TraceId = {traceId:String} AND SpanId = {spanId:String}
           AND toDate(Timestamp) = toDate(fromUnixTimestamp64Nano({nanos:Int64}))
         GROUP BY type, place, action ORDER BY count DESC, type`,
        callDay,
      ),
      queryRows<ApiCallDetail['scores'][number]>(
        client,
        `SELECT Name AS name, Value AS value, Label AS label, Comment AS comment, Source AS source,
           formatDateTime(Timestamp, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS time, SpanId AS spanId
         FROM scores
         WHERE ProjectId = {project:String} AND TraceId = {traceId:String} AND SpanId IN ({spanId:String}, '')
         ORDER BY Timestamp LIMIT 200`,
        params,
      ),
    ]);
    const { inputContent, outputContent, systemContent, ...call } = row;
    const detail: ApiCallDetail = {
      ...call,
      messages: [
        ...systemOf(systemContent),
        ...messagesOf(inputContent, 'input', 'user'),
        ...messagesOf(outputContent, 'output', 'assistant'),
      ],
      piiFindings: pii.map((p) => ({ ...p, count: Number(p.count) })),
      scores,
    };
    res.json(detail);
  });
  return router;
}
