import { Router } from 'express';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { chainReports } from '../rag/chains.js';
import { diagnoseOptions } from '../rag/config.js';
import { diagnoseRange, diagnoseTrace } from '../rag/diagnose.js';
import { verdictRates } from '../rag/store.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { instantSchema, parseInput } from './query-params.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 90 * DAY_MS;

const traceParamsSchema = z
  .object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, 'traceId: 32 lower-case hex characters') })
  .strict();

const rangeQuerySchema = z
  .object({
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    /** Bucket of the verdict-rate series, minutes. */
    bucket: z.coerce.number().int().min(1).max(1440).default(60),
  })
  .strict();

const diagnoseBodySchema = z
  .object({
    from: z.union([instantSchema, z.number().int().nonnegative()]),
    to: z.union([instantSchema, z.number().int().nonnegative()]),
    limit: z.number().int().min(1).max(100_000).default(20_000),
  })
  .strict();

/** A [from, to) range from query or body: default the last day, never longer than 90 days. */
function range(from: number | undefined, to: number | undefined): { fromMs: number; toMs: number } {
  const toMs = to ?? Date.now();
  const fromMs = from ?? toMs - DAY_MS;
  if (!(toMs > fromMs)) throw new LlmwatchError('bad_request', 'to: must be after from');
  if (toMs - fromMs > MAX_RANGE_MS) throw new LlmwatchError('bad_request', 'to: range longer than 90 days');
  return { fromMs, toMs };
}

/**
 * RAG and chain attribution (docs/rag.md, docs/api.md):
 * - `GET /api/traces/:traceId/diagnosis` → the step tree with critical-path and cost shares, and a
 *   RAG verdict with its evidence;
 * - `GET /api/rag?from&to&bucket` → verdict counts and retrieval quality per bucket, pipeline and prompt;
 * - `POST /api/rag/diagnose {from, to, limit?}` → diagnoses (and stores) every undiagnosed RAG trace
 *   of the range: a backfill;
 * - `GET /api/chains?from&to` → per pipeline and step: error ratio, scores, latency, cost, which
 *   step drives final failures, end-to-end success vs the product of the steps'.
 */
export function createRagRouter(deps: AppDeps): Router {
  const router = Router();
  const options = () => diagnoseOptions(deps.config.detection.rag);

  router.get('/api/traces/:traceId/diagnosis', async (req, res) => {
    const { traceId } = parseInput(traceParamsSchema, req.params);
    const diagnosis = await diagnoseTrace(deps.clickhouse.query, projectOf(res), traceId, options());
    if (!diagnosis) throw new LlmwatchError('not_found', `no trace ${traceId} in this project`);
    res.json(diagnosis);
  });

  router.get('/api/rag', async (req, res) => {
    const q = parseInput(rangeQuerySchema, req.query);
    const { fromMs, toMs } = range(q.from, q.to);
    const rows = await verdictRates(deps.clickhouse.query, projectOf(res), fromMs, toMs, q.bucket);
    res.json({
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      bucketMinutes: q.bucket,
      rows,
    });
  });

  router.post('/api/rag/diagnose', async (req, res) => {
    const body = parseInput(diagnoseBodySchema, req.body ?? {});
    const { fromMs, toMs } = range(body.from, body.to);
    const result = await diagnoseRange(
      deps.clickhouse.query,
      { project: projectOf(res), fromMs, toMs, limit: body.limit },
      options(),
    );
    res.json(result);
  });

  router.get('/api/chains', async (req, res) => {
    const q = parseInput(rangeQuerySchema, req.query);
    const { fromMs, toMs } = range(q.from, q.to);
    const chains = await chainReports(deps.clickhouse.query, projectOf(res), fromMs, toMs, {
      failScore: deps.config.detection.rag.failScore,
    });
    res.json({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), chains });
  });
  return router;
}
