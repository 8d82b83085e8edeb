import { Router } from 'express';
import { z } from 'zod';
import { createDataset, datasetCreateSchema, listDatasets, showDataset } from '../datasets/create.js';
import { EXPORT_FORMATS, exportDataset } from '../datasets/export.js';
import { fineTuneRunSchema, listFineTunes, registerFineTune } from '../datasets/finetune.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { instantSchema, parseInput } from './query-params.js';

const time = z.union([instantSchema, z.number().int().nonnegative()]);
/** The create request, with `filters.from`/`filters.to` also accepted as ISO 8601. */
const createBodySchema = z
  .object({ filters: z.object({ from: time, to: time }).catchall(z.unknown()) })
  .catchall(z.unknown())
  .pipe(datasetCreateSchema);

const versionQuery = z.object({ version: z.coerce.number().int().positive().optional() }).strict();
const exportQuery = z
  .object({
    version: z.coerce.number().int().positive().optional(),
    format: z.enum(EXPORT_FORMATS).default('openai'),
    split: z.enum(['train', 'validation', 'all']).default('train'),
  })
  .strict();

/**
 * Datasets curated from the key's project's calls (docs/fine-tuning.md):
 * `POST /api/datasets` creates a version; `GET /api/datasets` lists them; `GET
 * /api/datasets/:name?version=` returns a manifest; `GET /api/datasets/:name/export?format=
 * openai|anthropic|hf&split=train|validation|all&version=` streams JSONL. Fine-tune runs:
 * `POST /api/finetunes` registers one (dataset version → base model → resulting model id),
 * `GET /api/finetunes` lists them.
 */
export function createDatasetsRouter(deps: AppDeps): Router {
  const router = Router();
  router.post('/api/datasets', async (req, res) => {
    const body = parseInput(createBodySchema, req.body ?? {});
    res.json(await createDataset(deps.clickhouse.query, projectOf(res), body));
  });
  router.get('/api/datasets', async (_req, res) => {
    res.json({ datasets: await listDatasets(deps.clickhouse.query, projectOf(res)) });
  });
  router.get('/api/datasets/:name', async (req, res) => {
    const q = parseInput(versionQuery, req.query);
    res.json(await showDataset(deps.clickhouse.query, projectOf(res), req.params.name, q.version));
  });
  router.get('/api/datasets/:name/export', async (req, res) => {
    const q = parseInput(exportQuery, req.query);
    const project = projectOf(res);
    // Resolve the version first: a missing dataset is a 404, not a truncated 200 stream.
    const manifest = await showDataset(deps.clickhouse.query, project, req.params.name, q.version);
    res.type('application/x-ndjson');
    res.set('x-llmwatch-dataset-version', String(manifest.version));
    res.set('x-llmwatch-dataset-hash', manifest.hash);
    await exportDataset(
      deps.clickhouse.query,
      project,
      { name: req.params.name, version: manifest.version, format: q.format, split: q.split },
      res,
    );
    res.end();
  });
  router.post('/api/finetunes', async (req, res) => {
    const body = parseInput(fineTuneRunSchema, req.body ?? {});
    res.json(await registerFineTune(deps.clickhouse.query, projectOf(res), body));
  });
  router.get('/api/finetunes', async (_req, res) => {
    res.json({ finetunes: await listFineTunes(deps.clickhouse.query, projectOf(res)) });
  });
  return router;
}
