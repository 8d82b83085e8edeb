import { Router } from 'express';
import { z } from 'zod';
import { projectOf, type AppDeps } from '../server/deps.js';
import { parseInput } from './query-params.js';

/** A feedback or evaluation score attached to a trace (and optionally one span of it). */
const scoreSchema = z
  .object({
    traceId: z.string().regex(/^[0-9a-f]{32}$/, 'traceId: 32 lower-case hex characters'),
    spanId: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'spanId: 16 lower-case hex characters')
      .optional(),
    name: z.string().min(1).max(100),
    value: z.number().finite(),
    label: z.string().max(200).optional(),
    comment: z.string().max(10_000).optional(),
    source: z.enum(['user', 'eval', 'human', 'api']).default('api'),
    time: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
const scoresBodySchema = z.union([scoreSchema, z.array(scoreSchema).min(1).max(10_000)]);

export function createScoresRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/api/scores', async (req, res) => {
    const body = parseInput(scoresBodySchema, req.body);
    const scores = Array.isArray(body) ? body : [body];
    const project = projectOf(res);
    const now = Date.now();
    await deps.clickhouse.query.insert({
      table: 'scores',
      format: 'JSONEachRow',
      values: scores.map((s) => ({
        ProjectId: project,
        // Integer ticks of the column precision (ms): timezone-independent, unlike date strings.
        Timestamp: s.time ? Date.parse(s.time) : now,
        TraceId: s.traceId,
        SpanId: s.spanId ?? '',
        Name: s.name,
        Value: s.value,
        Label: s.label ?? '',
        Comment: s.comment ?? '',
        Source: s.source,
      })),
    });
    res.status(200).json({ accepted: scores.length });
  });
  return router;
}
