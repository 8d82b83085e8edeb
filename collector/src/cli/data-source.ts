import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Command } from 'commander';
import { loadConfigFile, parseConfig, type LlmwatchConfig } from '../config/index.js';
import { LlmwatchError } from '../errors.js';
import { openClickHouse } from '../storage/clickhouse.js';
import { runningCollectorOf } from '../storage/data-dir.js';

/** The flags of every CLI command that reads stored data (`report`, `detect`, `eval`, `rag`, …). */
export interface DataSourceFlags {
  collector?: string;
  apiKey?: string;
  data?: string;
  clickhouseUrl?: string;
  config?: string;
  project?: string;
}

/** The config (`--config`, else the defaults) and the project a command works on. */
export function configAndProject(flags: DataSourceFlags): { config: LlmwatchConfig; project: string } {
  const config = flags.config ? loadConfigFile(flags.config) : parseConfig({});
  return { config, project: flags.project ?? config.projects[0]?.id ?? 'default' };
}

/** The one rule, as `--help` of every reading command states it. */
export const DATA_SOURCE_HELP = `
Where the data is read from (the first that applies):
  1. a flag: --clickhouse-url <url>, --collector <url> or --data <dir> (only one; never a fallback)
  2. the config's storage.url (a ClickHouse server)
  3. the collector answering on the config's server.host:server.port (default 127.0.0.1:4318)
  4. the config's storage.dataDir (default ./.llmwatch/data), read directly
A data directory held by a running collector cannot be read directly: ask that collector
with --collector <its url> (the error names it).`;

/** The options of a command that reads stored data, with DATA_SOURCE_HELP after its --help. */
export function withDataSourceOptions(command: Command): Command {
  return command
    .option('--project <id>', 'project (default: the first configured, or "default")')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--collector <url>', 'collector to ask (default: from the config, http://127.0.0.1:4318)')
    .option('--api-key <key>', 'project key for the collector (or LLMWATCH_API_KEY)')
    .option('--data <dir>', 'embedded data directory when no collector runs')
    .option('--clickhouse-url <url>', 'use a ClickHouse server directly')
    .addHelpText('after', DATA_SOURCE_HELP);
}

/** Where a running collector would answer, from the config (a wildcard host means loopback). */
export function collectorUrlOf(config: LlmwatchConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

/** How a command reads: over a collector's HTTP API, or with SQL on a ClickHouse client. */
export interface StoredDataReader<T> {
  remote: (collectorUrl: string, apiKey: string | undefined) => Promise<T | undefined>;
  local: (client: ClickHouseClient) => Promise<T>;
}

/** Runs a read against the source chosen by DATA_SOURCE_HELP's rule; says which on stderr. */
export async function fromStoredData<T>(
  flags: DataSourceFlags,
  config: LlmwatchConfig,
  read: StoredDataReader<T>,
): Promise<T> {
  const given = (['clickhouseUrl', 'collector', 'data'] as const).filter((f) => flags[f] !== undefined);
  if (given.length > 1)
    throw new LlmwatchError(
      'usage',
      `pass only one of --clickhouse-url, --collector, --data (got ${given.map(flagName).join(' and ')})`,
    );
  const apiKey = flags.apiKey ?? process.env.LLMWATCH_API_KEY ?? config.projects[0]?.keys[0];
  if (flags.clickhouseUrl !== undefined) return fromServer(flags.clickhouseUrl, config, read);
  if (flags.collector !== undefined) {
    note(`reading through the collector at ${flags.collector} (--collector)`);
    const answer = await read.remote(flags.collector, apiKey);
    if (answer === undefined)
      throw new LlmwatchError('unavailable', `no collector answers at ${flags.collector} (--collector)`);
    return answer;
  }
  if (flags.data !== undefined) return fromDataDir(resolve(flags.data), '--data', read);
  if (config.storage.url) return fromServer(config.storage.url, config, read);
  const url = collectorUrlOf(config);
  const answer = await read.remote(url, apiKey);
  if (answer !== undefined) {
    note(`reading through the collector at ${url} (the config's server port)`);
    return answer;
  }
  return fromDataDir(resolve(config.storage.dataDir), `no collector at ${url}; storage.dataDir`, read);
}

function flagName(flag: 'clickhouseUrl' | 'collector' | 'data'): string {
  return { clickhouseUrl: '--clickhouse-url', collector: '--collector', data: '--data' }[flag];
}

function note(text: string): void {
  process.stderr.write(`llmwatch: ${text}\n`);
}

async function fromServer<T>(url: string, config: LlmwatchConfig, read: StoredDataReader<T>): Promise<T> {
  note(`reading the ClickHouse server at ${url}`);
  const { username, password, database } = config.storage;
  const client = await openClickHouse({ mode: 'server', url, username, password, database }, 'query');
  return withClient(client, read.local);
}

async function fromDataDir<T>(dataDir: string, why: string, read: StoredDataReader<T>): Promise<T> {
  if (!existsSync(dataDir))
    throw new LlmwatchError(
      'unavailable',
      `no data in ${dataDir} (${why}); start a collector with: llmwatch start, or pass --collector <url>`,
    );
  const holder = runningCollectorOf(dataDir);
  if (holder)
    throw new LlmwatchError(
      'unavailable',
      `${dataDir} is in use by the collector at ${holder.url} (pid ${holder.pid}); ask it with --collector ${holder.url}`,
    );
  note(`reading the data directory ${dataDir} (${why})`);
  let client: ClickHouseClient;
  try {
    client = await openClickHouse({ mode: 'embedded', dataDir }, 'query');
  } catch (error) {
    throw new LlmwatchError(
      'unavailable',
      `cannot open ${dataDir}: another process holds it (a collector or another llmwatch command); if a collector runs on it, ask it with --collector <its url>`,
      { cause: error },
    );
  }
  return withClient(client, read.local);
}

async function withClient<T>(
  client: ClickHouseClient,
  read: (client: ClickHouseClient) => Promise<T>,
): Promise<T> {
  try {
    return await read(client);
  } finally {
    await client.close();
  }
}
