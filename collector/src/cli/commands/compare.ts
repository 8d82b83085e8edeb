import type { Command } from 'commander';
import { callCollector } from '../../api/client.js';
import {
  compareCohorts,
  compareOptionsSchema,
  parseCohortSpec,
  type Comparison,
} from '../../compare/compare.js';
import { LlmwatchError } from '../../errors.js';
import { migrate } from '../../storage/migrations/index.js';
import {
  configAndProject,
  fromStoredData,
  withDataSourceOptions,
  type DataSourceFlags,
} from '../data-source.js';
import { withElapsed } from '../progress.js';
import { parseInstant } from './detect.js';

interface CompareFlags extends DataSourceFlags {
  a: string;
  b: string;
  from?: string;
  to?: string;
  margin?: string;
  alpha?: string;
  minCalls?: string;
  json?: boolean;
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new LlmwatchError('usage', `${flag}: not a number: ${value}`);
  return n;
}

/** Compares cohort B with cohort A, wherever the data is. */
export async function runCompare(flags: CompareFlags): Promise<Comparison> {
  const toMs = flags.to ? parseInstant(flags.to, '--to') : Date.now();
  const fromMs = flags.from ? parseInstant(flags.from, '--from') : toMs - 7 * 86_400_000;
  if (!(toMs > fromMs)) throw new LlmwatchError('usage', '--to must be after --from');
  const a = parseCohortSpec(flags.a, { from: fromMs, to: toMs });
  const b = parseCohortSpec(flags.b, { from: fromMs, to: toMs });
  const parsed = compareOptionsSchema.safeParse({
    ...(flags.margin !== undefined ? { margin: numberFlag(flags.margin, '--margin') } : {}),
    ...(flags.alpha !== undefined ? { alpha: numberFlag(flags.alpha, '--alpha') } : {}),
    ...(flags.minCalls !== undefined ? { minCalls: numberFlag(flags.minCalls, '--min-calls') } : {}),
  });
  if (!parsed.success)
    throw new LlmwatchError(
      'usage',
      `--${String(parsed.error.issues[0]?.path[0])}: ${parsed.error.issues[0]?.message}`,
    );
  const options = parsed.data;
  const { config, project } = configAndProject(flags);
  return fromStoredData(flags, config, {
    remote: (url, apiKey) =>
      withElapsed(
        `compare: asking the collector at ${url}`,
        callCollector<Comparison>(url, '/api/compare', {
          apiKey,
          body: { a, b, options },
          timeoutMs: 120_000,
        }),
      ),
    local: async (client) => {
      await migrate(client, { retention: config.storage.retentionDays });
      return compareCohorts(client, project, a, b, options);
    },
  });
}

const fmt = (x: number | null, unit: string): string => {
  if (x === null) return '-';
  if (unit === 'USD') return `$${x.toPrecision(3)}`;
  if (unit === 'ratio') return `${(x * 100).toFixed(1)}%`;
  if (unit === 'score') return x.toFixed(3);
  return x.toFixed(0);
};

export function formatComparison(c: Comparison): string {
  const rows = c.metrics.map((m) => {
    const rel =
      m.change.relative === null
        ? ''
        : ` (${m.change.relative >= 0 ? '+' : ''}${(m.change.relative * 100).toFixed(1)}%)`;
    const ci = m.change.ci ? ` [${fmt(m.change.ci[0], m.unit)}, ${fmt(m.change.ci[1], m.unit)}]` : '';
    const p =
      m.pAdjusted === null ? '' : `  p_adj ${m.pAdjusted < 0.001 ? '<0.001' : m.pAdjusted.toFixed(3)}`;
    const ni =
      m.nonInferiority?.pAdjusted != null
        ? `  NI p_adj ${m.nonInferiority.pAdjusted < 0.001 ? '<0.001' : m.nonInferiority.pAdjusted.toFixed(3)}`
        : '';
    const more = m.moreCallsNeeded ? `  (~${m.moreCallsNeeded} more calls)` : '';
    return `  ${m.metric.padEnd(24)} A ${fmt(m.a.value, m.unit).padStart(10)} (n=${m.a.n})  B ${fmt(m.b.value, m.unit).padStart(10)} (n=${m.b.n})  Δ ${fmt(m.change.absolute, m.unit)}${rel}${ci}${p}${ni}  → ${m.verdict}${more}`;
  });
  return `${c.summary}\n\n${rows.join('\n')}\n\n  tests: Holm-corrected over ${c.metrics.length} metrics, alpha ${c.options.alpha}; score margin ${c.options.margin}\n`;
}

export function register(program: Command): void {
  withDataSourceOptions(
    program
      .command('compare')
      .description(
        'Is cohort B better than cohort A? Cost, latency, TTFT, errors, output tokens and every score',
      )
      .requiredOption(
        '--a <cohort>',
        'cohort A as key=value,…: prompt, version, model, provider, service, finetune, finetune-base, tag.<key>, from, to',
      )
      .requiredOption('--b <cohort>', 'cohort B, same keys (unset keys are not filtered)')
      .option('--from <iso>', 'start of both cohorts unless they set their own (default: 7 days before --to)')
      .option('--to <iso>', 'end of both cohorts unless they set their own (default: now)')
      .option('--margin <score>', 'non-inferiority margin for scores on 0..1 (default 0.05)')
      .option('--alpha <p>', 'family-wise significance level (default 0.05)')
      .option('--min-calls <n>', 'fewest calls per cohort before concluding (default 30)')
      .option('--json', 'print the comparison as JSON'),
  ).action(async (flags: CompareFlags) => {
    const result = await runCompare(flags);
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatComparison(result));
  });
}
