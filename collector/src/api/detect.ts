import { Router } from 'express';
import { z } from 'zod';
import { alertRecorder, dispatcherFor } from '../alert/index.js';
import { baselineStatuses } from '../detect/baseline.js';
import { detectRange } from '../detect/engine.js';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { epochMsSchema, instantSchema, parseInput } from './query-params.js';

const MAX_RANGE_MS = 90 * 86_400_000;

const detectBodySchema = z
  .object({
    from: z.union([instantSchema, epochMsSchema]),
    to: z.union([instantSchema, epochMsSchema]),
    project: z.string().max(64).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

/**
 * `POST /api/detect {from, to, project?, dryRun?}` → `{detections, baselines}`: every enabled detector over
 * that event-time range (a backtest), in windows of `detection.windowMinutes`. Unless dryRun the
 * results go through the alert state machine: stored, deduped and notified like live ones.
 */
export function createDetectRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/api/detect', async (req, res) => {
    const project = projectOf(res);
    const body = parseInput(detectBodySchema, req.body ?? {});
    if (body.project !== undefined && body.project !== project)
      throw new LlmwatchError('forbidden', `this key belongs to project ${project}, not ${body.project}`);
    if (!(body.to > body.from)) throw new LlmwatchError('bad_request', 'to: must be after from');
    if (body.to - body.from > MAX_RANGE_MS)
      throw new LlmwatchError('bad_request', 'to: range longer than 90 days');
    const detections = await detectRange(
      {
        client: deps.clickhouse.query,
        detection: deps.config.detection,
        recorder: alertRecorder({
          client: deps.clickhouse.query,
          alerts: deps.config.alerts,
          dispatcher: dispatcherFor(deps),
        }),
      },
      { fromMs: body.from, toMs: body.to, project, dryRun: body.dryRun },
    );
    // Which baseline each detector had at the end of the range: "learning" is not "all clear".
    const baselines = await baselineStatuses(deps.clickhouse.query, deps.config.detection, project, body.to);
    res.json({ detections, baselines });
  });
  return router;
}
