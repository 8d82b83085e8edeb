import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseConfig,
  startCollector,
  type ApiCall,
  type LlmwatchConfigInput,
  type RunningCollector,
} from '@llmwatch/collector';

/**
 * The collector side of the end-to-end tests: a real collector on embedded ClickHouse in a fresh
 * temp directory, and polling /api/calls until the calls a test waits for have arrived.
 */

export interface E2eCollector {
  collector: RunningCollector;
  /** The temp directory, removed by close(). */
  dir: string;
  /** The collector's embedded ClickHouse data directory, inside `dir`. */
  dataDir: string;
  /** Closes the collector (draining what it acknowledged), then removes `dir`. */
  close(): Promise<void>;
}

/**
 * Starts a collector on an ephemeral loopback port over a new `llmwatch-<name>-*` temp directory,
 * flushing ingest batches every 50 ms; `overrides` are merged over that.
 */
export async function startE2eCollector(
  name: string,
  overrides: LlmwatchConfigInput = {},
): Promise<E2eCollector> {
  const dir = mkdtempSync(join(tmpdir(), `llmwatch-${name}-`));
  const dataDir = join(dir, 'data');
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  let collector: RunningCollector;
  try {
    collector = await startCollector(
      parseConfig({
        ...overrides,
        server: { port: 0, ...overrides.server },
        storage: { dataDir, ...overrides.storage },
        ingest: { flushIntervalMs: 50, ...overrides.ingest },
      }),
    );
  } catch (error) {
    remove();
    throw error;
  }
  return {
    collector,
    dir,
    dataDir,
    close: async () => {
      await collector.close();
      remove();
    },
  };
}

/**
 * Polls `GET /api/calls?limit=100<query>` (`query` like `&promptName=x`) until it lists at least
 * `count` calls, and returns them; throws when it answers with an error, or after `timeoutMs` with
 * the latest calls in the message.
 */
export async function waitForCalls(
  url: string,
  count: number,
  query = '',
  timeoutMs = 20_000,
): Promise<ApiCall[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/api/calls?limit=100${query}`);
    if (!res.ok) throw new Error(`/api/calls answered ${res.status}: ${(await res.text()).slice(0, 1500)}`);
    const body = (await res.json()) as { calls: ApiCall[]; total: number };
    if (body.calls.length >= count) return body.calls;
    if (Date.now() > deadline) {
      const latest = await (await fetch(`${url}/api/calls?limit=5`)).text();
      throw new Error(
        `${body.calls.length} of ${count} calls matching '${query}' after ${timeoutMs} ms; latest: ${latest.slice(0, 1500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
