import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { LlmwatchConfig } from '../config/index.js';
import type { Detection } from '../detect/types.js';
import { LlmwatchError } from '../errors.js';
import type { Report } from '../report/build.js';
import { openClickHouse } from '../storage/clickhouse.js';

/** The flags of every CLI command that reads stored data (`report`, `detect`). */
export interface DataSourceFlags {
  collector?: string;
  apiKey?: string;
  data?: string;
  clickhouseUrl?: string;
}

/** Where a running collector would answer, from the config (a wildcard host means loopback). */
export function collectorUrlOf(config: LlmwatchConfig): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

const NOTHING_LISTENS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EADDRNOTAVAIL']);

/**
 * Calls a running collector's JSON API; `undefined` when nothing listens at `url`, so the caller
 * can fall back to the storage itself. Every other failure is an error that says what to fix.
 */
async function callCollector<T>(
  url: string,
  path: string,
  options: { apiKey: string | undefined; body?: unknown; timeoutMs: number },
): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, '')}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code && NOTHING_LISTENS.has(code)) return undefined;
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
    const body = (await response.text().catch(() => '')).slice(0, 300);
    throw new LlmwatchError(
      response.status === 400 ? 'usage' : 'unavailable',
      `collector at ${url}: HTTP ${response.status} ${body}`,
    );
  }
  return (await response.json()) as T;
}

/** `GET /api/report` on a running collector; `undefined` when none listens there. */
export function fetchReport(
  url: string,
  since: string,
  apiKey: string | undefined,
): Promise<Report | undefined> {
  return callCollector<Report>(url, `/api/report?since=${encodeURIComponent(since)}`, {
    apiKey,
    timeoutMs: 30_000,
  });
}

/** `POST /api/detect` on a running collector; `undefined` when none listens there. */
export async function fetchDetections(
  url: string,
  request: { from: number | string; to: number | string; project?: string; dryRun?: boolean },
  apiKey: string | undefined,
): Promise<Detection[] | undefined> {
  const answer = await callCollector<{ detections: Detection[] }>(url, '/api/detect', {
    apiKey,
    body: request,
    // A long backtest is many windows: give it time, the collector works through them in order.
    timeoutMs: 30 * 60_000,
  });
  return answer?.detections;
}

/**
 * Runs a read against wherever the data is: a ClickHouse server directly; else a running
 * collector over HTTP (it owns the embedded data directory: chDB allows one process per
 * directory); else the embedded data directory itself.
 */
export async function fromStoredData<T>(
  flags: DataSourceFlags,
  config: LlmwatchConfig,
  read: {
    remote: (collectorUrl: string, apiKey: string | undefined) => Promise<T | undefined>;
    local: (client: ClickHouseClient) => Promise<T>;
  },
): Promise<T> {
  const serverUrl = flags.clickhouseUrl ?? config.storage.url;
  if (serverUrl) {
    const { username, password, database } = config.storage;
    const client = await openClickHouse(
      { mode: 'server', url: serverUrl, username, password, database },
      'query',
    );
    return withClient(client, read.local);
  }
  const url = flags.collector ?? collectorUrlOf(config);
  const apiKey = flags.apiKey ?? process.env.LLMWATCH_API_KEY ?? config.projects[0]?.keys[0];
  const remote = await read.remote(url, apiKey);
  if (remote !== undefined) return remote;
  if (flags.collector) throw new LlmwatchError('unavailable', `no collector answers at ${flags.collector}`);

  const dataDir = resolve(flags.data ?? config.storage.dataDir);
  if (!existsSync(dataDir))
    throw new LlmwatchError(
      'unavailable',
      `no collector at ${url} and no data in ${dataDir} (start one with: llmwatch start)`,
    );
  let client: ClickHouseClient;
  try {
    client = await openClickHouse({ mode: 'embedded', dataDir }, 'query');
  } catch (error) {
    throw new LlmwatchError('unavailable', `cannot open ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
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
