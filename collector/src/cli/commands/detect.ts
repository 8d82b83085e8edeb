import type { ClickHouseClient } from '@clickhouse/client';
import type { Command } from 'commander';
import { createNotifiers, Dispatcher } from '../../alert/notify.js';
import { loadConfigFile, parseConfig, type LlmwatchConfig } from '../../config/index.js';
import { detectRange } from '../../detect/engine.js';
import { describeSubject, type Detection } from '../../detect/types.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import { fetchDetections, fromStoredData, type DataSourceFlags } from '../data-source.js';

interface DetectFlags extends DataSourceFlags {
  from: string;
  to: string;
  project?: string;
  json?: boolean;
  dryRun?: boolean;
  config?: string;
}

function instant(value: string, flag: string): number {
  const ms = /^\d{10,16}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new LlmwatchError('usage', `${flag}: not an ISO 8601 time: ${value}`);
  return ms;
}

async function detectLocal(
  client: ClickHouseClient,
  config: LlmwatchConfig,
  req: { fromMs: number; toMs: number; project: string; dryRun: boolean },
): Promise<Detection[]> {
  await migrate(client, { retention: config.storage.retentionDays });
  const dispatcher = req.dryRun
    ? undefined
    : new Dispatcher(createNotifiers(config.alerts), config.alerts.delivery, {
        info() {},
        warn: (o, m) => process.stderr.write(`llmwatch: ${m ?? ''} ${JSON.stringify(o)}\n`),
        error: (o, m) => process.stderr.write(`llmwatch: ${m ?? ''} ${JSON.stringify(o)}\n`),
      });
  const progress = process.stderr.isTTY;
  const found = await detectRange(
    { client, detection: config.detection, alerts: config.alerts, ...(dispatcher ? { dispatcher } : {}) },
    {
      ...req,
      onProgress: (done, total) => {
        if (progress && total > 1) process.stderr.write(`\rdetect: ${done}/${total} windows`);
      },
    },
  );
  if (progress) process.stderr.write('\r\x1b[K');
  await dispatcher?.close();
  return found;
}

/** The detections of a range, from wherever the data is (see `fromStoredData`). */
export async function runDetect(flags: DetectFlags): Promise<Detection[]> {
  const fromMs = instant(flags.from, '--from');
  const toMs = instant(flags.to, '--to');
  if (!(toMs > fromMs)) throw new LlmwatchError('usage', '--to must be after --from');
  const config = flags.config ? loadConfigFile(flags.config) : parseConfig({});
  const project = flags.project ?? config.projects[0]?.id ?? 'default';
  const dryRun = flags.dryRun ?? false;
  return fromStoredData(flags, config, {
    remote: async (url, apiKey) => {
      if (process.stderr.isTTY) process.stderr.write(`detect: asking the collector at ${url}…\r`);
      const request = { from: fromMs, to: toMs, ...(flags.project ? { project } : {}), dryRun };
      const detections = await fetchDetections(url, request, apiKey);
      if (process.stderr.isTTY) process.stderr.write('\x1b[K');
      return detections;
    },
    local: (client) => detectLocal(client, config, { fromMs, toMs, project, dryRun }),
  });
}

export function formatDetection(d: Detection): string {
  return `${d.window.from}  ${d.status.padEnd(8)} ${d.severity.padEnd(8)} ${d.rule.padEnd(28)} ${describeSubject(d.subject)}\n    ${d.message}`;
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('Run every enabled detector over a past window of event time (backtest)')
    .requiredOption('--from <iso>', 'start of the range (ISO 8601)')
    .requiredOption('--to <iso>', 'end of the range (ISO 8601)')
    .option('--project <id>', 'project (default: the first configured, or "default")')
    .option('--json', 'one JSON detection per line')
    .option('--dry-run', 'do not store or notify, only print')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--collector <url>', 'collector to ask (default: from the config, http://127.0.0.1:4318)')
    .option('--api-key <key>', 'project key for the collector (or LLMWATCH_API_KEY)')
    .option('--data <dir>', 'embedded data directory when no collector runs')
    .option('--clickhouse-url <url>', 'read a ClickHouse server directly')
    .action(async (flags: DetectFlags) => {
      const detections = await runDetect(flags);
      if (flags.json) {
        process.stdout.write(detections.map((d) => `${JSON.stringify(d)}\n`).join(''));
        return;
      }
      if (detections.length === 0) {
        process.stdout.write('no detections\n');
        return;
      }
      process.stdout.write(`${detections.map(formatDetection).join('\n')}\n`);
      const firing = detections.filter((d) => d.status === 'firing').length;
      process.stderr.write(`detect: ${firing} firing, ${detections.length - firing} resolved\n`);
    });
}
