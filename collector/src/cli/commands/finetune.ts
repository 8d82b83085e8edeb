import type { Command } from 'commander';
import { callCollector } from '../../api/client.js';
import {
  fineTuneRunSchema,
  listFineTunes,
  registerFineTune,
  type FineTuneRun,
} from '../../datasets/finetune.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import {
  configAndProject,
  fromStoredData,
  withDataSourceOptions,
  type DataSourceFlags,
} from '../data-source.js';

interface FineTuneFlags extends DataSourceFlags {
  json?: boolean;
}

interface RegisterFlags extends FineTuneFlags {
  name: string;
  dataset: string;
  datasetVersion?: string;
  base: string;
  model: string;
  provider?: string;
  hyperparameters?: string;
  cost?: string;
}

export async function runRegister(flags: RegisterFlags): Promise<FineTuneRun> {
  let hyperparameters: unknown = {};
  if (flags.hyperparameters !== undefined) {
    try {
      hyperparameters = JSON.parse(flags.hyperparameters);
    } catch {
      throw new LlmwatchError('usage', `--hyperparameters: not JSON: ${flags.hyperparameters}`);
    }
  }
  const parsed = fineTuneRunSchema.safeParse({
    name: flags.name,
    dataset: flags.dataset,
    ...(flags.datasetVersion !== undefined ? { datasetVersion: Number(flags.datasetVersion) } : {}),
    baseModel: flags.base,
    resultModel: flags.model,
    ...(flags.provider !== undefined ? { provider: flags.provider } : {}),
    hyperparameters,
    ...(flags.cost !== undefined ? { trainingCostUsd: Number(flags.cost) } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LlmwatchError(
      'usage',
      `${issue?.path.join('.') || 'finetune'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { config, project } = configAndProject(flags);
  return fromStoredData(flags, config, {
    remote: (url, apiKey) =>
      callCollector<FineTuneRun>(url, '/api/finetunes', { apiKey, body: parsed.data, timeoutMs: 30_000 }),
    local: async (client) => {
      await migrate(client, { retention: config.storage.retentionDays });
      return registerFineTune(client, project, parsed.data);
    },
  });
}

const describeRun = (r: FineTuneRun) =>
  `${r.name}: ${r.dataset} v${r.datasetVersion} (${r.datasetHash.slice(0, 19)}…) → ${r.baseModel} → ${r.resultModel} [${r.provider}]${r.trainingCostUsd !== null ? `, training $${r.trainingCostUsd}` : ''}`;

/** Every finetune subcommand reads stored data and can print JSON. */
function withSource(command: Command): Command {
  return withDataSourceOptions(command).option('--json', 'print JSON');
}

export function register(program: Command): void {
  const finetune = program.command('finetune').description('Fine-tune runs and model lineage');
  withSource(
    finetune
      .command('register')
      .description('Record a fine-tune run: dataset version → base model → resulting model id')
      .requiredOption('--name <name>', 'run name (compare with --b finetune=<name> --a finetune-base=<name>)')
      .requiredOption('--dataset <name>', 'dataset trained on')
      .option('--dataset-version <n>', 'dataset version (default: the latest)')
      .requiredOption('--base <model>', 'base model')
      .requiredOption('--model <id>', 'resulting model id as traffic carries it (ft:… id, LoRA adapter name)')
      .option('--provider <name>', 'provider serving it (openai, vllm, …)')
      .option('--hyperparameters <json>', 'hyperparameters as JSON')
      .option('--cost <usd>', 'training cost in USD'),
  ).action(async (flags: RegisterFlags) => {
    const run = await runRegister(flags);
    process.stdout.write(flags.json ? `${JSON.stringify(run, null, 2)}\n` : `${describeRun(run)}\n`);
  });
  withSource(finetune.command('list').description('List fine-tune runs')).action(
    async (flags: FineTuneFlags) => {
      const { config, project } = configAndProject(flags);
      const runs = await fromStoredData<FineTuneRun[]>(flags, config, {
        remote: async (url, apiKey) =>
          (
            await callCollector<{ finetunes: FineTuneRun[] }>(url, '/api/finetunes', {
              apiKey,
              timeoutMs: 30_000,
            })
          )?.finetunes,
        local: (client) => listFineTunes(client, project),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      else
        process.stdout.write(runs.length ? `${runs.map(describeRun).join('\n')}\n` : 'no fine-tune runs\n');
    },
  );
}
