import { Router } from 'express';
import { z } from 'zod';
import { queryRows } from '../storage/clickhouse.js';
import { modelFilterSql } from '../storage/model-family.js';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { instantSchema, parseInput } from './query-params.js';

const DAY_MS = 86_400_000;

const callsQuerySchema = z
  .object({
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
    model: z.string().max(200).optional(),
    promptName: z.string().max(200).optional(),
    promptVersion: z.string().max(200).optional(),
    userId: z.string().max(500).optional(),
    sessionId: z.string().max(500).optional(),
    service: z.string().max(200).optional(),
    provider: z.string().max(200).optional(),
    status: z.enum(['ok', 'error', 'unset']).optional(),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional(),
    include: z.enum(['content']).optional(),
    /** Text in the stored (policy-applied, redacted) input, output or system content. */
    q: z.string().min(1).max(200).optional(),
    /** `any` / `none`: calls with / without PII findings; a type name: calls with that type. */
    pii: z
      .string()
      .regex(/^[a-z_]{1,50}$/)
      .optional(),
  })
  .strict();

/** One LLM call as the API returns it (docs/api.md, GET /api/calls). */
export interface ApiCall {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  time: string;
  timeUnixNano: string;
  service: string;
  provider: string;
  model: string;
  requestModel: string;
  responseModel: string;
  operation: string;
  /** Null when the emitter reported no usage (unknown, not zero). */
  inputTokens: number | null;
  outputTokens: number | null;
  /** False when the emitter reported no token usage (e.g. a stream without a usage chunk). */
  usageReported: boolean;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costUsd: number | null;
  priceVersion: string;
  latencyMs: number;
  ttftMs: number | null;
  streaming: boolean;
  finishReasons: string[];
  status: string;
  errorType: string;
  promptName: string;
  promptVersion: string;
  userId: string;
  sessionId: string;
  conversationId: string;
  tags: Record<string, string>;
  piiTypes: string[];
  dialect: string;
  inputContent?: string;
  outputContent?: string;
  systemContent?: string;
}

export const CALL_COLUMNS = `
  TraceId AS traceId, SpanId AS spanId, ParentSpanId AS parentSpanId,
  formatDateTime(Timestamp, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS time,
  toString(toUnixTimestamp64Nano(Timestamp)) AS timeUnixNano,
  ServiceName AS service, Provider AS provider, Model AS model, RequestModel AS requestModel,
  ResponseModel AS responseModel, Operation AS operation,
  if(UsageReported, InputTokens, NULL) AS inputTokens, if(UsageReported, OutputTokens, NULL) AS outputTokens,
  UsageReported AS usageReported, CacheReadTokens AS cacheReadTokens,
  CacheWriteTokens AS cacheWriteTokens, ReasoningTokens AS reasoningTokens,
  CostUsd AS costUsd, PriceVersion AS priceVersion, LatencyMs AS latencyMs, TtftMs AS ttftMs,
  Streaming AS streaming, FinishReasons AS finishReasons, Status AS status, ErrorType AS errorType,
  PromptName AS promptName, PromptVersion AS promptVersion, UserId AS userId, SessionId AS sessionId,
  ConversationId AS conversationId, Tags AS tags, PiiTypes AS piiTypes, Dialect AS dialect`;

const FILTERS: ReadonlyArray<[keyof z.output<typeof callsQuerySchema>, string]> = [
  ['model', modelFilterSql('{model:String}')],
  ['promptName', 'PromptName = {promptName:String}'],
  ['promptVersion', 'PromptVersion = {promptVersion:String}'],
  ['userId', 'UserId = {userId:String}'],
  ['sessionId', 'SessionId = {sessionId:String}'],
  ['service', 'ServiceName = {service:String}'],
  ['provider', 'Provider = {provider:String}'],
  ['status', 'Status = {status:String}'],
  ['traceId', 'TraceId = {traceId:String}'],
  [
    'q',
    `(positionCaseInsensitiveUTF8(InputContent, {q:String}) > 0
      OR positionCaseInsensitiveUTF8(OutputContent, {q:String}) > 0
      OR positionCaseInsensitiveUTF8(SystemContent, {q:String}) > 0)`,
  ],
];

function piiClause(pii: string): string {
  if (pii === 'any') return 'PiiCount > 0';
  if (pii === 'none') return 'PiiCount = 0';
  return 'has(PiiTypes, {pii:String})';
}

/** Keyset cursor: the (time, span id) of the last call of the previous page, newest first. */
function encodeCursor(timeUnixNano: string, spanId: string): string {
  return Buffer.from(`${timeUnixNano}:${spanId}`).toString('base64url');
}
function decodeCursor(cursor: string): { nanos: string; spanId: string } {
  const match = /^(\d{1,20}):([0-9a-f]{16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new LlmwatchError('bad_request', 'cursor: not a cursor returned by this API');
  return { nanos: match[1] as string, spanId: match[2] as string };
}

export function createCallsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/calls', async (req, res) => {
    const q = parseInput(callsQuerySchema, req.query);
    const toMs = q.to ?? Date.now();
    const fromMs = q.from ?? toMs - DAY_MS;
    if (fromMs > toMs) throw new LlmwatchError('bad_request', 'from: must not be after to');
    const params: Record<string, unknown> = { project: projectOf(res), fromMs, toMs, ...q };
    const where = [
      'ProjectId = {project:String}',
      'Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64})',
      'Timestamp < fromUnixTimestamp64Milli({toMs:Int64})',
      ...FILTERS.filter(([key]) => q[key] !== undefined).map(([, clause]) => clause),
      ...(q.pii !== undefined ? [piiClause(q.pii)] : []),
    ];
    const pageWhere = [...where];
    if (q.cursor) {
      const { nanos, spanId } = decodeCursor(q.cursor);
      Object.assign(params, { curNanos: nanos, curSpan: spanId });
      pageWhere.push('(Timestamp, SpanId) < (fromUnixTimestamp64Nano({curNanos:Int64}), {curSpan:String})');
    }
    const content =
      q.include === 'content'
        ? ', InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent'
        : '';
    const [calls, totals] = await Promise.all([
      queryRows<ApiCall>(
        deps.clickhouse.query,
        `SELECT ${CALL_COLUMNS}${content} FROM llm_calls WHERE ${pageWhere.join(' AND ')}
         ORDER BY Timestamp DESC, SpanId DESC LIMIT {limit:UInt32}`,
        params,
      ),
      queryRows<{ total: string }>(
        deps.clickhouse.query,
        `SELECT toString(count()) AS total FROM llm_calls WHERE ${where.join(' AND ')}`,
        params,
      ),
    ]);
    const last = calls.length === q.limit ? calls[calls.length - 1] : undefined;
    res.json({
      calls,
      total: Number(totals[0]?.total ?? 0),
      nextCursor: last ? encodeCursor(last.timeUnixNano, last.spanId) : null,
    });
  });
  return router;
}
