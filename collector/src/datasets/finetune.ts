import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { queryRows } from '../storage/clickhouse.js';
import { showDataset } from './create.js';

export const fineTuneRunSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'name: 1-100 letters, digits, _ . : -'),
    dataset: z.string().min(1),
    /** The dataset version trained on (the latest when unset). */
    datasetVersion: z.number().int().positive().optional(),
    baseModel: z.string().min(1).max(200),
    /** The model id traffic will carry: an OpenAI `ft:` id, a LoRA adapter name, … */
    resultModel: z.string().min(1).max(300),
    provider: z.string().min(1).max(100).default('openai'),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
    trainingCostUsd: z.number().min(0).optional(),
  })
  .strict();
export type FineTuneRunInput = z.input<typeof fineTuneRunSchema>;

export interface FineTuneRun {
  name: string;
  dataset: string;
  datasetVersion: number;
  datasetHash: string;
  baseModel: string;
  resultModel: string;
  provider: string;
  hyperparameters: Record<string, unknown>;
  trainingCostUsd: number | null;
  createdAt: string;
}

/** Records a fine-tune run against a frozen dataset version (re-registering a name replaces it). */
export async function registerFineTune(
  client: ClickHouseClient,
  project: string,
  input: z.output<typeof fineTuneRunSchema>,
): Promise<FineTuneRun> {
  const manifest = await showDataset(client, project, input.dataset, input.datasetVersion);
  await client.insert({
    table: 'finetune_runs',
    format: 'JSONEachRow',
    values: [
      {
        ProjectId: project,
        Name: input.name,
        DatasetName: input.dataset,
        DatasetVersion: manifest.version,
        DatasetHash: manifest.hash,
        BaseModel: input.baseModel,
        ResultModel: input.resultModel,
        Provider: input.provider,
        Hyperparameters: JSON.stringify(input.hyperparameters),
        TrainingCostUsd: input.trainingCostUsd ?? null,
      },
    ],
  });
  return (await listFineTunes(client, project)).find((r) => r.name === input.name)!;
}

export async function listFineTunes(client: ClickHouseClient, project: string): Promise<FineTuneRun[]> {
  const rows = await queryRows<Omit<FineTuneRun, 'hyperparameters'> & { hyperparameters: string }>(
    client,
    `SELECT Name AS name, DatasetName AS dataset, DatasetVersion AS datasetVersion, DatasetHash AS datasetHash,
       BaseModel AS baseModel, ResultModel AS resultModel, Provider AS provider, Hyperparameters AS hyperparameters,
       TrainingCostUsd AS trainingCostUsd, formatDateTime(CreatedAt, '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS createdAt
     FROM finetune_runs FINAL WHERE ProjectId = {project:String} ORDER BY CreatedAt, Name`,
    { project },
  );
  return rows.map((r) => ({
    ...r,
    datasetVersion: Number(r.datasetVersion),
    hyperparameters: JSON.parse(r.hyperparameters) as Record<string, unknown>,
  }));
}

/** The model ids of a run's lineage: what `compare` selects for "the fine-tuned model" and "its base". */
export async function fineTuneLineage(
  client: ClickHouseClient,
  project: string,
  name: string,
): Promise<{ baseModel: string; resultModel: string }> {
  const run = (await listFineTunes(client, project)).find((r) => r.name === name);
  if (!run) throw new LlmwatchError('bad_request', `no fine-tune run named ${name} (llmwatch finetune list)`);
  return { baseModel: run.baseModel, resultModel: run.resultModel };
}
