import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, parseConfig, type LlmwatchConfig } from '../../config/index.js';
import { LlmwatchError } from '../../errors.js';
import { startCollector, type RunningCollector } from '../../server/collector.js';
import { runningCollectorOf } from '../../storage/data-dir.js';

interface StartFlags {
  config?: string;
  port?: string;
  host?: string;
  data?: string;
  clickhouseUrl?: string;
}

/** Config file (if any) with the command-line flags on top. */
export function resolveStartConfig(flags: StartFlags): LlmwatchConfig {
  const base = flags.config ? loadConfigFile(flags.config) : parseConfig({});
  const input = structuredClone(base) as LlmwatchConfig;
  if (flags.port !== undefined) {
    if (!/^\d{1,5}$/.test(flags.port) || Number(flags.port) > 65535) {
      throw new LlmwatchError('usage', `--port: expected 0-65535, got ${JSON.stringify(flags.port)}`);
    }
    input.server.port = Number(flags.port);
  }
  if (flags.host !== undefined) input.server.host = flags.host;
  if (flags.data !== undefined) input.storage.dataDir = flags.data;
  if (flags.clickhouseUrl !== undefined) input.storage.url = flags.clickhouseUrl;
  return parseConfig(input, flags.config ?? 'command line');
}

/**
 * Starts the collector; a data directory another collector holds is named with that collector's
 * URL, instead of the engine's raw lock error.
 */
export async function startHere(config: LlmwatchConfig): Promise<RunningCollector> {
  const holder = config.storage.url ? undefined : runningCollectorOf(config.storage.dataDir);
  if (holder)
    throw new LlmwatchError(
      'unavailable',
      `${resolve(config.storage.dataDir)} is in use by the collector at ${holder.url} (pid ${holder.pid}); give this one another --data`,
    );
  try {
    return await startCollector(config);
  } catch (error) {
    if (error instanceof LlmwatchError) throw error;
    if ((error as { code?: unknown }).code === 'CHDB_CONNECTION')
      throw new LlmwatchError(
        'unavailable',
        `cannot open ${resolve(config.storage.dataDir)}: another process holds it (a collector or an llmwatch command); give this one another --data`,
        { cause: error },
      );
    throw error;
  }
}

export function register(program: Command): void {
  program
    .command('start')
    .description('Run the collector: OTLP/HTTP receiver, storage, query API')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--port <port>', 'port to listen on (0: any free port)', undefined)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./.llmwatch/data)')
    .option('--clickhouse-url <url>', 'use a ClickHouse server instead of the embedded engine')
    .action(async (flags: StartFlags) => {
      const config = resolveStartConfig(flags);
      const collector = await startHere(config);
      process.stdout.write(
        `llmwatch collector listening on ${collector.url} (data: ${resolve(config.storage.dataDir)})\n`,
      );
      await new Promise<void>((resolveStop) => {
        const stop = (signal: NodeJS.Signals): void => {
          // A second signal gets the default action (exit now); the spool keeps what is not inserted.
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          process.stderr.write(`llmwatch: ${signal}: draining and stopping\n`);
          void collector.close().then(resolveStop, resolveStop);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
