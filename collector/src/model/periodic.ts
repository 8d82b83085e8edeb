/** A background job of the collector (detection, evaluation): what the server starts and stops. */
export interface PeriodicJob {
  /** Runs one pass now, or joins the pass under way; resolves when it is done. */
  runOnce(): Promise<void>;
  /** No further passes; resolves when the pass under way (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` when `enabled`. Passes never overlap: the next is scheduled when
 * the previous has finished, and `runOnce` joins a pass already under way. The timer is unref'd,
 * so the job never keeps the process alive on its own. `pass` handles its own errors.
 */
export function startPeriodic(pass: () => Promise<void>, intervalMs: number, enabled: boolean): PeriodicJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

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
    }, intervalMs);
    timer.unref();
  };
  if (enabled) schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
