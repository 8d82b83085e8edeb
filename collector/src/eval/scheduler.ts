import type { ClickHouseClient } from '@clickhouse/client';
import type { EvaluationConfig } from './config.js';
import { evaluateRange } from './run.js';

/** Where passes are logged (the collector's pino logger fits). */
export interface EvalLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
const noLog: EvalLog = { info() {}, error() {} };

export interface EvalScheduler {
  stop(): Promise<void>;
  /** Runs one pass now and resolves when it is done (tests). */
  runOnce(): Promise<void>;
}

/**
 * Scores new calls every `schedule.intervalSeconds`, with the configured per-prompt sampling.
 * Each pass covers from where the previous one ended to `lagSeconds` before now; a pass that
 * fails is retried over the same slice next time (calls already scored are skipped), and passes
 * never overlap. The timer is unref'd: it never keeps the process alive on its own.
 */
export function startEvalScheduler(
  client: ClickHouseClient,
  config: EvaluationConfig,
  log: EvalLog = noLog,
  now: () => number = Date.now,
): EvalScheduler {
  const cfg = config.schedule;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
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

  const runOnce = (): Promise<void> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().then(schedule);
    }, cfg.intervalSeconds * 1000);
    timer.unref();
  };
  if (cfg.enabled && config.evaluators.length > 0) schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
