import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { callCollector } from '../../api/client.js';
import {
  createDataset,
  datasetCreateSchema,
  listDatasets,
  showDataset,
  type DatasetListing,
  type DatasetManifest,
} from '../../datasets/create.js';
import { EXPORT_FORMATS, exportDataset, type ExportFormat, type ExportSplit } from '../../datasets/export.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import {
  configAndProject,
  fromStoredData,
  withDataSourceOptions,
  type DataSourceFlags,
} from '../data-source.js';
import { progressLine, withElapsed } from '../progress.js';
import { parseInstant } from './detect.js';

interface CommonFlags extends DataSourceFlags {
  json?: boolean;
}

interface CreateFlags extends CommonFlags {
  name: string;
  from: string;
  to: string;
  prompt?: string;
  promptVersion?: string;
  model?: string;
  service?: string;
  tag?: string;
  minScore?: string[];
  maxScore?: string[];
  validation?: string;
  seed?: string;
  dedup?: string;
  limit?: string;
}

interface ExportFlags extends CommonFlags {
  format: string;
  split: string;
  out?: string;
  datasetVersion?: string;
}

function scoreBounds(values: string[] | undefined, flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const match = /^([^=]+)=(-?\d+(?:\.\d+)?)$/.exec(v);
    if (!match) throw new LlmwatchError('usage', `${flag}: expected name=number, got ${v}`);
    out[match[1]!] = Number(match[2]);
  }
  return out;
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

/** The create request the flags describe; a bad flag is a usage error naming it. */
export function createRequestOf(flags: CreateFlags) {
  const parsed = datasetCreateSchema.safeParse({
    name: flags.name,
    filters: {
      from: parseInstant(flags.from, '--from'),
      to: parseInstant(flags.to, '--to'),
      ...(flags.prompt !== undefined ? { promptName: flags.prompt } : {}),
      ...(flags.promptVersion !== undefined ? { promptVersion: flags.promptVersion } : {}),
      ...(flags.model !== undefined ? { model: flags.model } : {}),
      ...(flags.service !== undefined ? { service: flags.service } : {}),
      ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
      minScores: scoreBounds(flags.minScore, '--min-score'),
      maxScores: scoreBounds(flags.maxScore, '--max-score'),
    },
    ...(flags.validation !== undefined ? { validationShare: num(flags.validation) } : {}),
    ...(flags.seed !== undefined ? { seed: num(flags.seed) } : {}),
    ...(flags.dedup !== undefined ? { dedupThreshold: num(flags.dedup) } : {}),
    ...(flags.limit !== undefined ? { limit: num(flags.limit) } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LlmwatchError('usage', `${issue?.path.join('.') || 'dataset'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export async function runCreate(flags: CreateFlags): Promise<DatasetManifest> {
  const req = createRequestOf(flags);
  const { config, project } = configAndProject(flags);
  return fromStoredData(flags, config, {
    remote: (url, apiKey) =>
      withElapsed(
        `dataset: the collector at ${url} is building ${req.name}`,
        callCollector<DatasetManifest>(url, '/api/datasets', { apiKey, body: req, timeoutMs: 6 * 3_600_000 }),
      ),
    local: async (client) => {
      await migrate(client, { retention: config.storage.retentionDays });
      const progress = progressLine();
      const manifest = await createDataset(client, project, req, (p) =>
        progress.update(`dataset: ${p.scanned}/${p.total} calls read, ${p.items} items kept`),
      );
      progress.done();
      return manifest;
    },
  });
}

function formatManifest(m: DatasetManifest): string {
  const c = m.counts;
  const pii = Object.entries(m.piiRemoved)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  return [
    `${m.name} v${m.version}  ${m.hash}  created ${m.createdAt}`,
    `  items ${c.items} (train ${c.train}, validation ${c.validation}) from ${c.callsMatched} calls`,
    `  dropped: ${c.exactDuplicates} exact duplicates, ${c.nearDuplicates} near duplicates (cosine ≥ ${m.dedupThreshold}), ${c.empty} without a user and an assistant turn`,
    `  PII removed: ${pii || 'none found'}`,
    `  split: seed ${m.split.seed}, validation share ${m.split.validationShare}`,
    `  filters: ${JSON.stringify(m.filters)}`,
  ].join('\n');
}

async function exportRemote(
  url: string,
  apiKey: string | undefined,
  name: string,
  query: URLSearchParams,
  out: Writable,
): Promise<number | undefined> {
  let response: Response;
  try {
    response = await fetch(
      `${url.replace(/\/$/, '')}/api/datasets/${encodeURIComponent(name)}/export?${query}`,
      {
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      },
    );
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL') return undefined;
    throw new LlmwatchError('unavailable', `collector at ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok || !response.body) {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    throw new LlmwatchError(
      response.status === 400 ? 'usage' : 'unavailable',
      `collector at ${url}: HTTP ${response.status} ${text}`,
    );
  }
  const progress = progressLine();
  let lines = 0;
  for await (const chunk of response.body) {
    const buffer = Buffer.from(chunk as Uint8Array);
    for (const byte of buffer) if (byte === 0x0a) lines++;
    if (!out.write(buffer)) await once(out, 'drain');
    progress.update(`dataset: ${lines} items written`);
  }
  progress.done();
  return lines;
}

export async function runExport(name: string, flags: ExportFlags): Promise<number> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format))
    throw new LlmwatchError('usage', `--format: one of ${EXPORT_FORMATS.join(', ')}`);
  if (!['train', 'validation', 'all'].includes(flags.split))
    throw new LlmwatchError('usage', '--split: one of train, validation, all');
  const version = num(flags.datasetVersion);
  if (version !== undefined && !(Number.isInteger(version) && version > 0))
    throw new LlmwatchError('usage', '--dataset-version: a positive integer');
  const { config, project } = configAndProject(flags);
  const out: Writable = flags.out ? createWriteStream(flags.out) : process.stdout;
  const request = {
    name,
    format: flags.format as ExportFormat,
    split: flags.split as ExportSplit,
    ...(version ? { version } : {}),
  };
  try {
    return await fromStoredData(flags, config, {
      remote: (url, apiKey) =>
        exportRemote(
          url,
          apiKey,
          name,
          new URLSearchParams({
            format: request.format,
            split: request.split,
            ...(version ? { version: String(version) } : {}),
          }),
          out,
        ),
      local: async (client) => {
        const progress = progressLine();
        const result = await exportDataset(client, project, request, out, (written, total) =>
          progress.update(`dataset: ${written}/${total} items written`),
        );
        progress.done();
        return result.written;
      },
    });
  } finally {
    if (flags.out) {
      out.end();
      await once(out, 'close');
    }
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  const dataset = program
    .command('dataset')
    .description('Datasets curated from production calls (fine-tuning)');
  withDataSourceOptions(
    dataset
      .command('create')
      .description('Create a frozen, content-hashed dataset version from stored calls')
      .requiredOption('--name <name>', 'dataset name')
      .requiredOption('--from <iso>', 'start of the calls (ISO 8601)')
      .requiredOption('--to <iso>', 'end of the calls (ISO 8601)')
      .option('--prompt <name>', 'prompt name')
      .option('--prompt-version <v>', 'prompt version')
      .option('--model <model>', 'model')
      .option('--service <name>', 'service')
      .option('--tag <key=value>', 'tag')
      .option(
        '--min-score <name=value>',
        'keep calls whose score averages at least value (repeatable)',
        collect,
      )
      .option(
        '--max-score <name=value>',
        'keep calls whose score averages at most value (repeatable)',
        collect,
      )
      .option('--validation <share>', 'validation share 0..0.5 (default 0.1)')
      .option('--seed <n>', 'split seed (default 0)')
      .option('--dedup <cosine>', 'near-duplicate threshold on input sketches (default 0.95)')
      .option('--limit <n>', 'at most this many items')
      .option('--json', 'print the manifest as JSON'),
  ).action(async (flags: CreateFlags) => {
    const manifest = await runCreate(flags);
    process.stdout.write(
      flags.json ? `${JSON.stringify(manifest, null, 2)}\n` : `${formatManifest(manifest)}\n`,
    );
  });

  withDataSourceOptions(dataset.command('list').description('List datasets').option('--json', 'JSON')).action(
    async (flags: CommonFlags) => {
      const { config, project } = configAndProject(flags);
      const list = await fromStoredData<DatasetListing[]>(flags, config, {
        remote: async (url, apiKey) =>
          (
            await callCollector<{ datasets: DatasetListing[] }>(url, '/api/datasets', {
              apiKey,
              timeoutMs: 30_000,
            })
          )?.datasets,
        local: (client) => listDatasets(client, project),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else if (list.length === 0) process.stdout.write('no datasets\n');
      else
        for (const d of list)
          process.stdout.write(
            `${d.name.padEnd(30)} v${d.latestVersion} (${d.versions} versions)  ${d.items} items  ${d.latestHash}\n`,
          );
    },
  );

  withDataSourceOptions(
    dataset
      .command('show <name>')
      .description('Show the manifest of a dataset version')
      .option('--dataset-version <n>', 'version (default: the latest)')
      .option('--json', 'JSON'),
  ).action(async (name: string, flags: CommonFlags & { datasetVersion?: string }) => {
    const { config, project } = configAndProject(flags);
    const version = num(flags.datasetVersion);
    const manifest = await fromStoredData(flags, config, {
      remote: (url, apiKey) =>
        callCollector<DatasetManifest>(
          url,
          `/api/datasets/${encodeURIComponent(name)}${version ? `?version=${version}` : ''}`,
          { apiKey, timeoutMs: 30_000 },
        ),
      local: (client) => showDataset(client, project, name, version),
    });
    process.stdout.write(
      flags.json ? `${JSON.stringify(manifest, null, 2)}\n` : `${formatManifest(manifest)}\n`,
    );
  });

  withDataSourceOptions(
    dataset
      .command('export <name>')
      .description('Export a dataset version as JSONL (streamed)')
      .option('--format <format>', `${EXPORT_FORMATS.join(' | ')}`, 'openai')
      .option('--split <split>', 'train | validation | all', 'train')
      .option('--out <file>', 'write to this file (default: stdout)')
      .option('--dataset-version <n>', 'version (default: the latest)'),
  ).action(async (name: string, flags: ExportFlags) => {
    const written = await runExport(name, flags);
    process.stderr.write(`dataset: ${written} items exported${flags.out ? ` to ${flags.out}` : ''}\n`);
  });
}
