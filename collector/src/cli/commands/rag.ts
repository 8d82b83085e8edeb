import type { Command } from 'commander';
import { callCollector } from '../../api/client.js';
import { LlmwatchError } from '../../errors.js';
import { chainReports, type ChainReport } from '../../rag/chains.js';
import { diagnoseOptions } from '../../rag/config.js';
import { diagnoseRange, type DiagnoseRangeResult } from '../../rag/diagnose.js';
import { verdictRates, verdictTotals, type VerdictRateRow } from '../../rag/store.js';
import { formatUsd } from '../../report/render.js';
import { migrate } from '../../storage/migrations/index.js';
import {
  configAndProject,
  fromStoredData,
  withDataSourceOptions,
  type DataSourceFlags,
} from '../data-source.js';
import { progressLine, withElapsed } from '../progress.js';
import { parseInstant } from './detect.js';

/** `llmwatch rag`: RAG and chain attribution over a range (docs/rag.md). */

export interface CommonFlags extends DataSourceFlags {
  json?: boolean;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

interface RagSummary {
  from: string;
  to: string;
  diagnosed: DiagnoseRangeResult;
  verdicts: VerdictRateRow[];
  chains: ChainReport[];
}

export function renderRagSummary(s: RagSummary): string {
  const lines = [
    `RAG answers and chains from ${s.from} to ${s.to} (${s.diagnosed.diagnosed} newly diagnosed)`,
    '',
  ];
  const totals = verdictTotals(s.verdicts);
  if (totals.length) {
    lines.push(
      `${'pipeline / prompt'.padEnd(36)} ${'answers'.padStart(8)} ${'ok'.padStart(6)} ${'gap'.padStart(6)} ${'miss'.padStart(6)} ${'ungrnd'.padStart(7)} ${'refusal'.padStart(8)} ${'empty'.padStart(6)}`,
    );
    for (const r of totals) {
      const share = (x: number) => pct(x / r.traces).padStart(6);
      lines.push(
        `${`${r.pipeline}${r.promptName ? ` / ${r.promptName}` : ''}`.slice(0, 36).padEnd(36)} ${String(r.traces).padStart(8)} ${share(r.ok)} ${share(r.knowledgeGap)} ${share(r.retrievalMiss)} ${share(r.ungrounded).padStart(7)} ${share(r.refusal).padStart(8)} ${share(r.emptyRetrievals)}`,
      );
    }
  } else lines.push('no RAG answers in this range');
  for (const c of s.chains) {
    lines.push(
      '',
      `chain ${c.pipeline}: ${c.traces} traces, end-to-end success ${pct(c.endToEndSuccess)} (product of step successes ${pct(c.productOfStepSuccess)})` +
        (c.driver ? `; failures driven by ${c.driver}` : ''),
    );
    for (const step of c.steps) {
      const diff = step.riskDifference
        ? `P(fail|step failed) − P(fail|ok) = ${pct(step.riskDifference.value)} [${pct(step.riskDifference.low)}, ${pct(step.riskDifference.high)}]`
        : '';
      lines.push(
        `  ${step.name.slice(0, 28).padEnd(28)} fails ${pct(step.failRatio).padStart(5)}  errors ${pct(step.errorRatio).padStart(5)}  p50 ${step.latencyP50Ms.toFixed(0).padStart(6)} ms  ${formatUsd(step.meanCostUsd).padStart(9)}  ${diff}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  withDataSourceOptions(
    program
      .command('rag')
      .description(
        'Diagnose the RAG answers of a range, then print verdict rates per pipeline and chain statistics',
      )
      .option('--from <iso>', 'start of the range (ISO 8601; default: 24 hours before --to)')
      .option('--to <iso>', 'end of the range (ISO 8601; default: now)')
      .option('--json', 'print JSON'),
  ).action(async (flags: CommonFlags & { from?: string; to?: string }) => {
    const toMs = flags.to ? parseInstant(flags.to, '--to') : Date.now();
    const fromMs = flags.from ? parseInstant(flags.from, '--from') : toMs - 86_400_000;
    if (!(toMs > fromMs)) throw new LlmwatchError('usage', '--to must be after --from');
    const { config, project } = configAndProject(flags);
    const range = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
    const summary = await fromStoredData<RagSummary>(flags, config, {
      remote: async (url, apiKey) => {
        const diagnosed = await withElapsed(
          `rag: the collector at ${url} is diagnosing the range`,
          callCollector<DiagnoseRangeResult>(url, '/api/rag/diagnose', {
            apiKey,
            body: { from: fromMs, to: toMs },
            timeoutMs: 3_600_000,
          }),
        );
        if (!diagnosed) return undefined;
        const q = `from=${fromMs}&to=${toMs}`;
        const rates = await callCollector<{ rows: VerdictRateRow[] }>(url, `/api/rag?${q}&bucket=1440`, {
          apiKey,
          timeoutMs: 60_000,
        });
        const chains = await callCollector<{ chains: ChainReport[] }>(url, `/api/chains?${q}`, {
          apiKey,
          timeoutMs: 120_000,
        });
        return { ...range, diagnosed, verdicts: rates?.rows ?? [], chains: chains?.chains ?? [] };
      },
      local: async (client) => {
        await migrate(client, { retention: config.storage.retentionDays });
        const progress = progressLine();
        const diagnosed = await diagnoseRange(
          client,
          { project, fromMs, toMs },
          diagnoseOptions(config.detection.rag),
          (done, total) => progress.update(`rag: ${done}/${total} traces diagnosed`),
        );
        progress.done();
        return {
          ...range,
          diagnosed,
          verdicts: await verdictRates(client, project, fromMs, toMs, 1440),
          chains: await chainReports(client, project, fromMs, toMs, {
            failScore: config.detection.rag.failScore,
          }),
        };
      },
    });
    process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : renderRagSummary(summary));
  });
}
