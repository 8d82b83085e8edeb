import type { Command } from 'commander';
import { loadConfigFile, parseConfig, type LlmwatchConfig } from '../../config/index.js';
import { LlmwatchError } from '../../errors.js';
import { startCollector } from '../../server/collector.js';

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
      const collector = await startCollector(config);
      process.stdout.write(`llmwatch collector listening on ${collector.url}\n`);
      await new Promise<void>((resolve) => {
        let signalled = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (signalled) {
            // A second signal: the operator wants out now; the spool keeps what is not inserted.
            process.exit(130);
          }
          signalled = true;
          process.stderr.write(`llmwatch: ${signal}: draining and stopping\n`);
          void collector.close().then(resolve, resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
