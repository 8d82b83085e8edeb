import type { ClickHouseClient } from '@clickhouse/client';
import type { AlertsConfig } from '../alert/config.js';
import { applyPass } from '../alert/state.js';
import { noLog, type Dispatcher, type Log } from '../alert/notify.js';
import type { DetectionConfig } from './config.js';
import { costSpikeDetector } from './cost-spike.js';
import { driftDetector } from './drift.js';
import { errorRateDetector } from './error-rate.js';
import { latencyDetector } from './latency.js';
import { piiLeakDetector } from './pii-leak.js';
import { promptRegressionDetector } from './prompt-regression.js';
import type { Detection, DetectionKind, DetectWindow, Detector } from './types.js';

export const DETECTORS: readonly Detector[] = [
  piiLeakDetector,
  costSpikeDetector,
  latencyDetector,
  errorRateDetector,
  driftDetector,
  promptRegressionDetector,
];

export interface PassResult {
  detections: Detection[];
  /** Kinds that ran to completion. */
  ran: DetectionKind[];
  failed: Array<{ kind: DetectionKind; error: string }>;
}

/** Every enabled detector over one window. A failing detector is reported, never fatal to the others. */
export async function runDetectors(
  client: ClickHouseClient,
  config: DetectionConfig,
  window: DetectWindow,
  project?: string,
  log: Log = noLog,
): Promise<PassResult> {
  const result: PassResult = { detections: [], ran: [], failed: [] };
  for (const detector of DETECTORS) {
    if (!config[detector.kind].enabled) continue;
    try {
      const found = await detector.run({
        client,
        config,
        window,
        ...(project !== undefined ? { project } : {}),
      });
      result.detections.push(...found);
      result.ran.push(detector.kind);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result.failed.push({ kind: detector.kind, error: message });
      log.error({ detector: detector.kind, err: message }, 'detector failed');
    }
  }
  return result;
}

export interface DetectDeps {
  client: ClickHouseClient;
  detection: DetectionConfig;
  alerts: AlertsConfig;
  dispatcher?: Dispatcher;
  log?: Log;
}

export interface DetectRequest {
  fromMs: number;
  toMs: number;
  project?: string;
  /** Compute and return only: nothing stored, nothing notified. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number, window: DetectWindow) => void;
}

/** Slices [from, to) into windows of `windowMinutes` (the last may be shorter). */
export function slices(fromMs: number, toMs: number, windowMinutes: number): DetectWindow[] {
  const step = windowMinutes * 60_000;
  const out: DetectWindow[] = [];
  for (let start = fromMs; start < toMs; start += step)
    out.push({ fromMs: start, toMs: Math.min(toMs, start + step) });
  return out;
}

/**
 * Runs the detectors over every window of a range in event-time order and, unless dryRun, feeds
 * each pass through the alert state machine (stored, deduped, notified, resolved): a backtest is
 * the scheduler replayed.
 */
export async function detectRange(deps: DetectDeps, req: DetectRequest): Promise<Detection[]> {
  const windows = slices(req.fromMs, req.toMs, deps.detection.windowMinutes);
  const out: Detection[] = [];
  for (const [i, window] of windows.entries()) {
    const pass = await runDetectors(deps.client, deps.detection, window, req.project, deps.log);
    if (req.dryRun) out.push(...pass.detections);
    else
      out.push(
        ...(await applyPass(
          {
            client: deps.client,
            alerts: deps.alerts,
            ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
            ...(deps.log ? { log: deps.log } : {}),
          },
          {
            window,
            ran: pass.ran,
            detections: pass.detections,
            ...(req.project !== undefined ? { project: req.project } : {}),
          },
        )),
      );
    req.onProgress?.(i + 1, windows.length, window);
  }
  return out;
}
