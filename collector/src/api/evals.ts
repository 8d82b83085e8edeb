import { Router } from 'express';
import { z } from 'zod';
import { evaluateRange } from '../eval/run.js';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { epochMsSchema, instantSchema, parseInput } from './query-params.js';

const MAX_RANGE_MS = 90 * 86_400_000;

const evalsBodySchema = z
  .object({
    from: z.union([instantSchema, epochMsSchema]),
    to: z.union([instantSchema, epochMsSchema]),
    evaluators: z.array(z.string().min(1).max(64)).min(1).max(50).optional(),
    sampleRate: z.number().min(0).max(1).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

/**
 * `POST /api/evals {from, to, evaluators?, sampleRate?, dryRun?}` → the run's summary per
 * evaluator: the configured evaluators over the key's project's calls in that range (a backfill).
 */
export function createEvalsRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/api/evals', async (req, res) => {
    const body = parseInput(evalsBodySchema, req.body ?? {});
    if (!(body.to > body.from)) throw new LlmwatchError('bad_request', 'to: must be after from');
    if (body.to - body.from > MAX_RANGE_MS)
      throw new LlmwatchError('bad_request', 'to: range longer than 90 days');
    const result = await evaluateRange(deps.clickhouse.query, deps.config.evaluation, {
      fromMs: body.from,
      toMs: body.to,
      project: projectOf(res),
      dryRun: body.dryRun,
      ...(body.evaluators ? { evaluators: body.evaluators } : {}),
      ...(body.sampleRate !== undefined ? { sampleRate: body.sampleRate } : {}),
    });
    res.json(result);
  });
  return router;
}
