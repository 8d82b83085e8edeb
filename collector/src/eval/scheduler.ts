import type { ClickHouseClient } from '@clickhouse/client';
import { noLog, type Log } from '../logging.js';
import { startPeriodic, type PeriodicJob } from '../model/periodic.js';
import type { EvaluationConfig } from './config.js';
import { evaluateRange } from './run.js';

/**
 * Scores new calls every `schedule.intervalSeconds`, with the configured per-prompt sampling.
 * Each pass covers from where the previous one ended to `lagSeconds` before now; a pass that
 * fails is retried over the same slice next time (calls already scored are skipped), and passes
 * never overlap. The timer is unref'd: it never keeps the process alive on its own.
 */
export function startEvalScheduler(
  client: ClickHouseClient,
  config: EvaluationConfig,
  log: Log = noLog,
  now: () => number = Date.now,
): PeriodicJob {
  const cfg = config.schedule;
  let fromMs = now() - cfg.lagSeconds * 1000 - cfg.intervalSeconds * 1000;

  const pass = async (): Promise<void> => {
    const toMs = now() - cfg.lagSeconds * 1000;
    if (toMs <= fromMs) return;
    const started = Date.now();
    try {
      const result = await evaluateRange(client, config, {
        fromMs,
        toMs,
        ...(cfg.evaluators ? { evaluators: cfg.evaluators } : {}),
      });
      fromMs = toMs;
      log.info(
        {
          calls: result.calls,
          scored: Object.fromEntries(result.evaluators.map((e) => [e.name, e.scored])),
          ms: Date.now() - started,
        },
        'evaluation pass',
      );
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'evaluation pass failed');
    }
  };

  return startPeriodic(pass, cfg.intervalSeconds * 1000, cfg.enabled && config.evaluators.length > 0);
}
