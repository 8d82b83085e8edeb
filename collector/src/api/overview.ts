import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { instantSchema, parseInput } from './query-params.js';
import { GROUP_COLUMNS, measure, minuteRange, type CallFilter, type GroupBy } from './series.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 400 * DAY_MS;
const MAX_BUCKETS = 1_000;
const GROUP_NAMES = Object.keys(GROUP_COLUMNS) as GroupBy[];

const overviewQuerySchema = z
  .object({
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    /** Seconds per point, a whole number of minutes; default: about 60 points over the range. */
    bucket: z.coerce
      .number()
      .int()
      .min(60)
      .refine((s) => s % 60 === 0, 'a whole number of minutes, in seconds')
      .optional(),
    by: z
      .string()
      .max(100)
      .transform((s, ctx) => {
        const names = s.split(',').filter(Boolean);
        const unknown = names.filter((n) => !(GROUP_NAMES as string[]).includes(n));
        if (unknown.length) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown group ${unknown[0]}; one of ${GROUP_NAMES.join(', ')}`,
          });
          return z.NEVER;
        }
        return [...new Set(names)] as GroupBy[];
      })
      .default(['model', 'prompt', 'service']),
    limit: z.coerce.number().int().min(1).max(200).default(20),
    service: z.string().max(200).optional(),
    provider: z.string().max(200).optional(),
    model: z.string().max(200).optional(),
    promptName: z.string().max(200).optional(),
    promptVersion: z.string().max(200).optional(),
    userId: z.string().max(500).optional(),
  })
  .strict();

/**
 * `GET /api/overview?from&to&bucket&by&<filters>`: totals, a time series and the top groups (by
 * model, prompt, service, provider) of the key's project. The range is widened to whole minutes
 * (the rollup's grain) and the widened range is returned, so `/api/calls` over the same `from`/`to`
 * counts exactly the same calls.
 */
export function createOverviewRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/overview', async (req, res) => {
    const q = parseInput(overviewQuerySchema, req.query);
    const requestedTo = q.to ?? Date.now();
    const range = minuteRange(q.from ?? requestedTo - DAY_MS, requestedTo);
    if (range.fromMs >= range.toMs) throw new LlmwatchError('bad_request', 'from: must be before to');
    if (range.toMs - range.fromMs > MAX_RANGE_MS)
      throw new LlmwatchError('bad_request', 'to: range longer than 400 days');
    const spanSeconds = (range.toMs - range.fromMs) / 1000;
    const bucketSeconds = q.bucket ?? Math.max(60, Math.ceil(spanSeconds / 60 / 60) * 60);
    if (spanSeconds / bucketSeconds > MAX_BUCKETS)
      throw new LlmwatchError('bad_request', `bucket: more than ${MAX_BUCKETS} points over this range`);
    const filter: CallFilter = {};
    for (const key of ['service', 'provider', 'model', 'promptName', 'promptVersion', 'userId'] as const) {
      if (q[key] !== undefined) filter[key] = q[key];
    }
    const project = projectOf(res);
    const measured = await measure(
      deps.clickhouse.query,
      project,
      range,
      bucketSeconds,
      filter,
      q.by,
      q.limit,
    );
    res.json({
      project,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      bucketSeconds,
      filter,
      ...measured,
    });
  });
  return router;
}
