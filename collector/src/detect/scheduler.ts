import { noLog } from '../logging.js';
import { startPeriodic, type PeriodicJob } from '../model/periodic.js';
import type { BaselineStatus } from './baseline.js';
import { livePass, type DetectDeps } from './engine.js';

export interface Scheduler extends PeriodicJob {
  /** Per detector and project, the baseline of the last pass: who is still "learning". */
  baselines(): readonly BaselineStatus[];
}

/**
 * Evaluates the most recent window every `intervalSeconds`, ending `lagSeconds` before now so
 * late spans are in, plus the last `fastWindowMinutes` for cost and errors (engine.livePass).
 * Passes never overlap and never keep the process alive (model/periodic.ts).
 */
export function startScheduler(deps: DetectDeps, now: () => number = Date.now): Scheduler {
  const log = deps.log ?? noLog;
  const cfg = deps.detection;
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

  const job = startPeriodic(pass, cfg.intervalSeconds * 1000, cfg.enabled);
  return {
    runOnce: job.runOnce,
    baselines: () => lastBaselines,
    async stop() {
      await job.stop();
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
