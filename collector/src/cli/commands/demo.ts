import { relative } from 'node:path';
import type { Command } from 'commander';
import { describeSubject, type Detection } from '../../detect/types.js';
import { runDemo, type DemoResult } from '../../demo/run.js';
import { LlmwatchError } from '../../errors.js';
import { renderReport } from '../../report/render.js';

interface DemoFlags {
  collector?: string;
  apiKey?: string;
  data?: string;
  loop?: boolean;
  json?: boolean;
}

const SEVERITY_MARK: Record<Detection['severity'], string> = { critical: '✖', warning: '▲', info: '•' };

export function renderDetections(detections: Detection[]): string {
  if (!detections.length) return 'alerts raised: none\n';
  const lines = [`alerts raised (${detections.length}):`];
  const order = { critical: 0, warning: 1, info: 2 } as const;
  for (const d of [...detections].sort(
    (a, b) => order[a.severity] - order[b.severity] || a.kind.localeCompare(b.kind),
  ))
    lines.push(
      `  ${SEVERITY_MARK[d.severity]} ${d.severity.padEnd(8)} ${d.kind.padEnd(18)} ${describeSubject(d.subject)}: ${d.message}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The demo writes here unless told otherwise: never the default data directory of `llmwatch start`. */
export const DEMO_DATA_DIR = '.llmwatch/demo/data';

/** The command that shows the demo's data again (its collector stopped; the data stays). */
export function reportCommand(result: DemoResult, collector: string | undefined): string {
  const source = collector
    ? `--collector ${collector}`
    : `--data ${shellQuote(relative(process.cwd(), result.dataDir ?? DEMO_DATA_DIR) || '.')}`;
  return `pnpm llmwatch report ${source} --since 4d`;
}

function shellQuote(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function summary(result: DemoResult): string {
  return (
    `demo finished in ${result.seconds.toFixed(1)} s: ${result.baselineSpans} baseline + ${result.liveCalls} live calls ` +
    `(${result.liveErrors} failed as scripted), ${result.detections.length} alert(s) raised\n`
  );
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('Send realistic LLM traffic with injected incidents and show what llmwatch detects')
    .option('--collector <url>', 'use this running collector (default: start one on embedded storage)')
    .option('--api-key <key>', 'project key for --collector (default: LLMWATCH_API_KEY)')
    .option(
      '--data <dir>',
      `data directory of the collector the demo starts (wiped first; default ${DEMO_DATA_DIR})`,
    )
    .option('--loop', 'keep sending a new round every minute (a traffic source for the compose stack)')
    .option('--json', 'print {detections, report} as JSON instead of tables')
    .action(async (flags: DemoFlags) => {
      if (flags.collector !== undefined && flags.data !== undefined)
        throw new LlmwatchError(
          'usage',
          '--data is for the collector the demo starts; with --collector the data goes to that collector',
        );
      const apiKey = flags.apiKey ?? process.env.LLMWATCH_API_KEY;
      for (let round = 0; ; round++) {
        const result = await runDemo({
          ...(flags.collector ? { collectorUrl: flags.collector } : { dataDir: flags.data ?? DEMO_DATA_DIR }),
          ...(apiKey ? { apiKey } : {}),
          seed: 20260101 + round,
          baseline: round === 0,
        });
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({ detections: result.detections, report: result.report }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(
            `\n${renderReport(result.report)}\n${renderDetections(result.detections)}\n${summary(result)}` +
              `report on the demo's data: ${reportCommand(result, flags.collector)}\n`,
          );
        }
        if (!flags.loop) break;
        await new Promise((r) => setTimeout(r, 60_000));
      }
    });
}
