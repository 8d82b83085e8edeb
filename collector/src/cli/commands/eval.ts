import type { Command } from 'commander';
import { evaluateRange, type EvalResult } from '../../eval/run.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import { callCollector } from '../../api/client.js';
import {
  configAndProject,
  fromStoredData,
  withDataSourceOptions,
  type DataSourceFlags,
} from '../data-source.js';
import { progressLine, withElapsed } from '../progress.js';
import { parseInstant } from './detect.js';

interface EvalFlags extends DataSourceFlags {
  from: string;
  to: string;
  evaluator?: string[];
  sample?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Scores the calls of a range with the configured evaluators, wherever the data is. */
export async function runEval(flags: EvalFlags): Promise<EvalResult> {
  const fromMs = parseInstant(flags.from, '--from');
  const toMs = parseInstant(flags.to, '--to');
  if (!(toMs > fromMs)) throw new LlmwatchError('usage', '--to must be after --from');
  const sampleRate = flags.sample === undefined ? undefined : Number(flags.sample);
  if (sampleRate !== undefined && !(sampleRate >= 0 && sampleRate <= 1))
    throw new LlmwatchError('usage', `--sample: a share between 0 and 1, not ${flags.sample}`);
  const { config, project } = configAndProject(flags);
  const known = config.evaluation.evaluators.map((e) => e.name);
  if (known.length === 0)
    throw new LlmwatchError(
      'usage',
      'no evaluators configured (evaluation.evaluators in llmwatch.config.yaml)',
    );
  for (const name of flags.evaluator ?? [])
    if (!known.includes(name))
      throw new LlmwatchError(
        'usage',
        `--evaluator ${name}: not configured (configured: ${known.join(', ')})`,
      );
  const request = {
    fromMs,
    toMs,
    project,
    dryRun: flags.dryRun ?? false,
    ...(flags.evaluator ? { evaluators: flags.evaluator } : {}),
    ...(sampleRate !== undefined ? { sampleRate } : {}),
  };
  return fromStoredData(flags, config, {
    remote: async (url, apiKey) => {
      const body = {
        from: fromMs,
        to: toMs,
        dryRun: request.dryRun,
        ...(flags.evaluator ? { evaluators: flags.evaluator } : {}),
        ...(sampleRate !== undefined ? { sampleRate } : {}),
      };
      // A long backfill with a judge takes a while: the collector works through it page by page.
      return withElapsed(
        `eval: the collector at ${url} is scoring the range`,
        callCollector<EvalResult>(url, '/api/evals', { apiKey, body, timeoutMs: 6 * 3_600_000 }),
      );
    },
    local: async (client) => {
      await migrate(client, { retention: config.storage.retentionDays });
      const progress = progressLine();
      const result = await evaluateRange(client, config.evaluation, {
        ...request,
        onProgress: (done, total) => progress.update(`eval: ${done}/${total} calls scored`),
      });
      progress.done();
      return result;
    },
  });
}

export function formatEvalResult(result: EvalResult): string {
  const lines = [
    `${result.calls} calls from ${result.from} to ${result.to}${result.dryRun ? ' (dry run: nothing stored)' : ''}`,
  ];
  for (const e of result.evaluators) {
    const mean = e.mean === null ? '-' : e.mean.toFixed(3);
    let line = `  ${e.name.padEnd(20)} ${e.type.padEnd(8)} v${e.version.padEnd(12)} scored ${String(e.scored).padStart(6)}  mean ${mean}`;
    if (e.alreadyScored) line += `  already scored ${e.alreadyScored}`;
    if (e.notApplicable) line += `  n/a ${e.notApplicable}`;
    if (e.type === 'judge') {
      line += `  failed ${e.failed}  cost $${(e.costUsd ?? 0).toFixed(4)}`;
      if (e.meanLatencyMs != null) line += `  latency ${e.meanLatencyMs.toFixed(0)} ms`;
      if (e.stopped)
        line += `  STOPPED: ${e.stopped === 'daily_budget' ? 'daily budget' : 'run budget'} reached`;
      if (e.errors?.length) line += `\n      first error: ${e.errors[0]}`;
    }
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataSourceOptions(
    program
      .command('eval')
      .description('Score stored calls of a time range with the configured evaluators (backfill)')
      .requiredOption('--from <iso>', 'start of the range (ISO 8601)')
      .requiredOption('--to <iso>', 'end of the range (ISO 8601)')
      .option('--evaluator <name...>', 'only these configured evaluators (default: all)')
      .option('--sample <share>', 'score this share of calls, 0..1 (default: evaluation.sampling)')
      .option('--dry-run', 'score but store nothing; judges are not called')
      .option('--json', 'print the result as JSON'),
  ).action(async (flags: EvalFlags) => {
    const result = await runEval(flags);
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatEvalResult(result));
  });
}
