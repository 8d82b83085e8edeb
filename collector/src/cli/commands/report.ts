import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, parseConfig, type LlmwatchConfig } from '../../config/index.js';
import { LlmwatchError } from '../../errors.js';
import { buildReport, parseSince, type Report } from '../../report/build.js';
import { renderReport } from '../../report/render.js';
import { openClickHouse } from '../../storage/clickhouse.js';

interface ReportFlags {
  since: string;
  json?: boolean;
  config?: string;
  collector?: string;
  apiKey?: string;
  project?: string;
  data?: string;
  clickhouseUrl?: string;
}

/** Where a running collector would answer, from the config (a wildcard host means loopback). */
export function collectorUrlOf(config: LlmwatchConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

/** Asks a running collector; `undefined` when none listens there. */
export async function fetchReport(
  url: string,
  since: string,
  apiKey: string | undefined,
): Promise<Report | undefined> {
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, '')}/api/report?since=${encodeURIComponent(since)}`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL') return undefined;
    throw new LlmwatchError('unavailable', `collector at ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (response.status === 401 || response.status === 403)
    throw new LlmwatchError(
      'usage',
      `collector at ${url} refused the key (use --api-key or LLMWATCH_API_KEY)`,
    );
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    throw new LlmwatchError(
      'unavailable',
      `collector at ${url}: HTTP ${response.status} ${body.slice(0, 200)}`,
    );
  }
  return (await response.json()) as Report;
}

/**
 * The report, from wherever the data is: a ClickHouse server directly; else a running collector
 * over HTTP (it owns the embedded data directory: chDB allows one process per directory); else
 * the embedded data directory itself.
 */
export async function loadReport(flags: ReportFlags): Promise<Report> {
  const sinceMs = parseSince(flags.since);
  const config = flags.config ? loadConfigFile(flags.config) : parseConfig({});
  const project = flags.project ?? config.projects[0]?.id ?? 'default';
  const serverUrl = flags.clickhouseUrl ?? config.storage.url;
  if (serverUrl) {
    const client = await openClickHouse(
      {
        mode: 'server',
        url: serverUrl,
        username: config.storage.username,
        password: config.storage.password,
        database: config.storage.database,
      },
      'query',
    );
    try {
      return await buildReport(client, { project, sinceMs });
    } finally {
      await client.close();
    }
  }
  const url = flags.collector ?? collectorUrlOf(config);
  const apiKey = flags.apiKey ?? process.env.LLMWATCH_API_KEY ?? config.projects[0]?.keys[0];
  const remote = await fetchReport(url, flags.since, apiKey);
  if (remote) return remote;
  if (flags.collector) throw new LlmwatchError('unavailable', `no collector answers at ${flags.collector}`);

  const dataDir = resolve(flags.data ?? config.storage.dataDir);
  if (!existsSync(dataDir))
    throw new LlmwatchError(
      'unavailable',
      `no collector at ${url} and no data in ${dataDir} (start one with: llmwatch start)`,
    );
  let client;
  try {
    client = await openClickHouse({ mode: 'embedded', dataDir }, 'query');
  } catch (error) {
    throw new LlmwatchError('unavailable', `cannot open ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return await buildReport(client, { project, sinceMs });
  } finally {
    await client.close();
  }
}

export function register(program: Command): void {
  program
    .command('report')
    .description('Cost, tokens, latency, errors, PII and open alerts per model and prompt')
    .option('--since <duration>', 'window ending now: 30m, 24h, 7d', '24h')
    .option('--json', 'print the report as JSON')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--collector <url>', 'collector to ask (default: from the config, http://127.0.0.1:4318)')
    .option('--api-key <key>', 'project key for the collector (default: LLMWATCH_API_KEY)')
    .option('--project <id>', 'project, when reading storage directly (default: first configured)')
    .option('--data <dir>', 'embedded data directory, when no collector runs')
    .option('--clickhouse-url <url>', 'read a ClickHouse server directly')
    .action(async (flags: ReportFlags) => {
      const report = await loadReport(flags);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    });
}
