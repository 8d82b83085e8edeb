import type { ClickHouseClient } from '@clickhouse/client';
import type { Command } from 'commander';
import { alertRecorder, createNotifiers, Dispatcher } from '../../alert/index.js';
import type { LlmwatchConfig } from '../../config/index.js';
import { detectRange } from '../../detect/engine.js';
import { describeSubject, type Detection } from '../../detect/types.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import { fetchDetections } from '../../api/client.js';
import { configAndProject, DATA_SOURCE_HELP, fromStoredData, type DataSourceFlags } from '../data-source.js';
import { progressLine, withElapsed } from '../progress.js';

interface DetectFlags extends DataSourceFlags {
  from: string;
  to: string;
  json?: boolean;
  dryRun?: boolean;
}

/** ISO 8601 date or date-time; without an offset it is UTC (so a range means the same anywhere). */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** Parses `--from`/`--to` as the help says: ISO 8601 only (`Nov 1 2026` or epoch numbers are usage errors). */
export function parseInstant(value: string, flag: string): number {
  const m = ISO_8601.exec(value.trim());
  const ms = m ? isoToMs(m) : NaN;
  if (!Number.isFinite(ms))
    throw new LlmwatchError(
      'usage',
      `${flag}: not an ISO 8601 time: ${JSON.stringify(value)} (e.g. 2026-11-01 or 2026-11-01T09:30:00Z)`,
    );
  return ms;
}

function isoToMs(m: RegExpExecArray): number {
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const offset =
    zone.toUpperCase() === 'Z'
      ? 'Z'
      : zone.length === 3
        ? `${zone}:00`
        : zone.replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const text = `${y}-${mo}-${d}T${h}:${mi}:${s}.${(frac + '000').slice(0, 3)}${offset}`;
  const ms = Date.parse(text);
  // Date.parse rolls 2026-02-30 over to March: a date that does not exist is not a time.
  const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const exists =
    calendar.getUTCFullYear() === Number(y) &&
    calendar.getUTCMonth() === Number(mo) - 1 &&
    calendar.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60;
  return exists ? ms : NaN;
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
  const progress = progressLine();
  const found = await detectRange(
    {
      client,
      detection: config.detection,
      recorder: alertRecorder({ client, alerts: config.alerts, ...(dispatcher ? { dispatcher } : {}) }),
    },
    {
      ...req,
      onProgress: (done, total) => {
        if (total > 1) progress.update(`detect: ${done}/${total} windows`);
      },
    },
  );
  progress.done();
  await dispatcher?.close();
  return found;
}

/** The detections of a range, from wherever the data is (see `fromStoredData`). */
export async function runDetect(flags: DetectFlags): Promise<Detection[]> {
  const fromMs = parseInstant(flags.from, '--from');
  const toMs = parseInstant(flags.to, '--to');
  if (!(toMs > fromMs)) throw new LlmwatchError('usage', '--to must be after --from');
  const { config, project } = configAndProject(flags);
  const dryRun = flags.dryRun ?? false;
  return fromStoredData(flags, config, {
    remote: (url, apiKey) => {
      const request = { from: fromMs, to: toMs, ...(flags.project ? { project } : {}), dryRun };
      return withElapsed(
        `detect: the collector at ${url} is working through ${new Date(fromMs).toISOString()} → ${new Date(toMs).toISOString()}`,
        fetchDetections(url, request, apiKey),
      );
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
    .requiredOption('--from <iso>', 'start of the range (ISO 8601, UTC unless it has an offset)')
    .requiredOption('--to <iso>', 'end of the range (ISO 8601, UTC unless it has an offset)')
    .option('--project <id>', 'project (default: the first configured, or "default")')
    .option('--json', 'one JSON detection per line')
    .option('--dry-run', 'do not store or notify, only print')
    .option('--config <file>', 'llmwatch.config.yaml')
    .option('--collector <url>', 'ask this running collector')
    .option('--api-key <key>', 'project key for the collector (or LLMWATCH_API_KEY)')
    .option('--data <dir>', 'read this embedded data directory (no collector may hold it)')
    .option('--clickhouse-url <url>', 'read a ClickHouse server directly')
    .addHelpText('after', DATA_SOURCE_HELP)
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
