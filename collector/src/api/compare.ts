import { Router } from 'express';
import { z } from 'zod';
import { cohortSchema, compareCohorts, compareOptionsSchema } from '../compare/compare.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { epochMsSchema, instantSchema, parseInput } from './query-params.js';

const time = z.union([instantSchema, epochMsSchema]);
const cohortBody = z
  .object({
    from: time,
    to: time,
    promptName: z.string().optional(),
    promptVersion: z.string().optional(),
    model: z.string().optional(),
    provider: z.string().optional(),
    service: z.string().optional(),
    fineTune: z.string().optional(),
    fineTuneBase: z.string().optional(),
    tag: z.string().optional(),
  })
  .strict()
  .pipe(cohortSchema);

const compareBodySchema = z.object({ a: cohortBody, b: cohortBody, options: compareOptionsSchema }).strict();

/**
 * `POST /api/compare {a, b, options?}` → the comparison of cohort B with cohort A for the key's
 * project: per metric both values, the change with its CI, the test, Holm-adjusted p-value and a
 * verdict, plus a one-sentence summary. See docs/evaluation.md.
 */
export function createCompareRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/api/compare', async (req, res) => {
    const body = parseInput(compareBodySchema, req.body ?? {});
    res.json(await compareCohorts(deps.clickhouse.query, projectOf(res), body.a, body.b, body.options));
  });
  return router;
}
