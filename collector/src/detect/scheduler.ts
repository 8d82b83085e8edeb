import { noLog } from '../logging.js';
import type { BaselineStatus } from './baseline.js';
import { livePass, type DetectDeps } from './engine.js';

export interface Scheduler {
  stop(): Promise<void>;
  /** Runs one pass now (tests, `POST /api/detect` does not need it). Resolves when it is done. */
  runOnce(): Promise<void>;
  /** Per detector and project, the baseline of the last pass: who is still "learning". */
  baselines(): readonly BaselineStatus[];
}

/**
 * Evaluates the most recent window every `intervalSeconds`, ending `lagSeconds` before now so
 * late spans are in, plus the last `fastWindowMinutes` for cost and errors (engine.livePass).
 * Passes never overlap: the next is scheduled when the previous has finished.
 * The timer is unref'd, so the scheduler never keeps the process alive on its own.
 */
export function startScheduler(deps: DetectDeps, now: () => number = Date.now): Scheduler {
  const log = deps.log ?? noLog;
  const cfg = deps.detection;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastBaselines: readonly BaselineStatus[] = [];

  const pass = async (): Promise<void> => {
    const toMs = now() - cfg.lagSeconds * 1000;
    const started = Date.now();
    try {
      const pass = await livePass(deps.client, cfg, toMs, undefined, log);
      const outcome = { window: pass.window, ran: pass.ran, detections: pass.detections };
      const found = deps.recorder ? await deps.recorder.record(outcome) : pass.detections;
      lastBaselines = pass.baselines;
      const learning = new Set(pass.baselines.filter((b) => b.state === 'learning').map((b) => b.project));
      log.info(
        { detections: found.length, learningProjects: [...learning], ms: Date.now() - started },
        'detection pass',
      );
    } catch (error) {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'detection pass failed');
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
  if (cfg.enabled) schedule();

  return {
    runOnce,
    baselines: () => lastBaselines,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      // Give in-flight notifications a moment; a dead receiver must not hold up shutdown.
      if (deps.recorder) {
        let timeout: NodeJS.Timeout | undefined;
        await Promise.race([
          deps.recorder.flush(),
          new Promise<void>((r) => {
            timeout = setTimeout(r, 5_000);
          }),
        ]);
        clearTimeout(timeout);
      }
    },
  };
}
