import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { buildReport, parseSince } from '../report/build.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { parseInput } from './query-params.js';

const reportQuerySchema = z
  .object({
    since: z.string().max(20).default('24h'),
    buckets: z.coerce.number().int().min(4).max(120).default(24),
  })
  .strict();

/** `GET /api/report?since=24h`: what `llmwatch report --json` prints, for the key's project. */
export function createReportRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/report', async (req, res) => {
    const q = parseInput(reportQuerySchema, req.query);
    let sinceMs: number;
    try {
      sinceMs = parseSince(q.since);
    } catch (error) {
      throw new LlmwatchError('bad_request', (error as Error).message.replace(/^--since/, 'since'), {
        cause: error,
      });
    }
    res.json(
      await buildReport(deps.clickhouse.query, { project: projectOf(res), sinceMs, buckets: q.buckets }),
    );
  });
  return router;
}
