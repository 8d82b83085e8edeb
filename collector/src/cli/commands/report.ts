import type { Command } from 'commander';
import { buildReport, parseSince, type Report } from '../../report/build.js';
import { renderReport } from '../../report/render.js';
import { fetchReport } from '../../api/client.js';
import { configAndProject, DATA_SOURCE_HELP, fromStoredData, type DataSourceFlags } from '../data-source.js';

interface ReportFlags extends DataSourceFlags {
  since: string;
  json?: boolean;
}

/** The report of the last `--since`, from wherever the data is (see `fromStoredData`). */
export async function loadReport(flags: ReportFlags): Promise<Report> {
  const sinceMs = parseSince(flags.since);
  const { config, project } = configAndProject(flags);
  return fromStoredData(flags, config, {
    remote: (url, apiKey) => fetchReport(url, flags.since, apiKey),
    local: (client) => buildReport(client, { project, sinceMs }),
  });
}

export function register(program: Command): void {
  program
    .command('report')
    .description('Cost, tokens, latency, errors, PII and open alerts per model and prompt')
    .option('--since <duration>', 'window ending now: 30m, 24h, 7d', '24h')
    .option('--json', 'print the report as JSON')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--collector <url>', 'ask this running collector')
    .option('--api-key <key>', 'project key for the collector (default: LLMWATCH_API_KEY)')
    .option('--project <id>', 'project, when reading storage directly (default: first configured)')
    .option('--data <dir>', 'read this embedded data directory (no collector may hold it)')
    .option('--clickhouse-url <url>', 'read a ClickHouse server directly')
    .addHelpText('after', DATA_SOURCE_HELP)
    .action(async (flags: ReportFlags) => {
      const report = await loadReport(flags);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    });
}
