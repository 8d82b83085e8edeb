import { Router } from 'express';
import { z } from 'zod';
import { listAlerts } from '../alert/state.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { instantSchema, parseInput } from './query-params.js';

const alertsQuerySchema = z
  .object({
    status: z.enum(['firing', 'resolved']).optional(),
    since: instantSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(500),
  })
  .strict();

/** `GET /api/alerts?status=&since=` → `{alerts}`: the current state of each alert, newest first. */
export function createAlertsRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/alerts', async (req, res) => {
    const q = parseInput(alertsQuerySchema, req.query);
    const alerts = await listAlerts(deps.clickhouse.query, {
      project: projectOf(res),
      limit: q.limit,
      ...(q.status ? { status: q.status } : {}),
      ...(q.since !== undefined ? { sinceMs: q.since } : {}),
    });
    res.json({ alerts });
  });
  return router;
}
