import type { ClickHouseClient } from '@clickhouse/client';
import { noLog, type Log } from '../logging.js';
import {
  baselineStatus,
  STATUS_KINDS,
  historyHours,
  projectHistories,
  type BaselineStatus,
  type ProjectHistory,
} from './baseline.js';
import type { DetectionConfig } from './config.js';
import { costSpikeDetector } from './cost-spike.js';
import { driftDetector } from './drift.js';
import { errorRateDetector } from './error-rate.js';
import { latencyDetector } from './latency.js';
import { piiLeakDetector } from './pii-leak.js';
import { promptRegressionDetector } from './prompt-regression.js';
import { creepDetector } from './creep.js';
import { knowledgeGapDetector } from './knowledge-gap.js';
import { subjectKey, type Detection, type DetectionKind, type DetectWindow, type Detector } from './types.js';

export const DETECTORS: readonly Detector[] = [
  piiLeakDetector,
  costSpikeDetector,
  latencyDetector,
  errorRateDetector,
  driftDetector,
  promptRegressionDetector,
  creepDetector,
  knowledgeGapDetector,
];

export interface PassResult {
  detections: Detection[];
  /** Kinds that ran to completion. */
  ran: DetectionKind[];
  failed: Array<{ kind: DetectionKind; error: string }>;
  /** Per detector and project: the baseline it could use ("learning" instead of silence). */
  baselines: BaselineStatus[];
}

/** Detectors that compare a window with a time baseline, run once per baseline tier. */
const DISTRIBUTION_KINDS: ReadonlySet<DetectionKind> = new Set(['latency_regression', 'error_rate', 'drift']);
/** Detectors whose baseline is not a window-vs-time-range (versions, values seen, a daily trend). */
const NON_TEMPORAL_KINDS: ReadonlySet<DetectionKind> = new Set(['prompt_regression', 'pii_leak', 'creep']);

/**
 * Every enabled detector over one window. A failing detector is reported, never fatal to the
 * others. Distribution detectors judge each project against the baseline its history supports
 * (seasonal, else the recent hours; a project still learning is reported as such and judged
 * only by the detectors that have absolute guards),
 * and every detection's evidence names that baseline and the history behind it.
 */
export async function runDetectors(
  client: ClickHouseClient,
  config: DetectionConfig,
  window: DetectWindow,
  project?: string,
  log: Log = noLog,
  kinds?: ReadonlySet<DetectionKind>,
): Promise<PassResult> {
  const result: PassResult = { detections: [], ran: [], failed: [], baselines: [] };
  const histories = new Map(
    (await projectHistories(client, config, window, project)).map((h) => [h.project, h]),
  );
  const scoped = project !== undefined ? { project } : {};
  for (const detector of DETECTORS) {
    if (!config[detector.kind].enabled || (kinds && !kinds.has(detector.kind))) continue;
    try {
      let found: Detection[];
      if (DISTRIBUTION_KINDS.has(detector.kind)) {
        found = [];
        // Each tier of history with its own baseline; projects still learning only by a guard.
        for (const tier of ['seasonal', 'recent', 'learning'] as const) {
          const judge = tier === 'learning' ? detector.guard : detector.run;
          const members = [...histories.values()].filter((h) => h.tier === tier);
          if (!judge || members.length === 0) continue;
          const baseline = tier === 'seasonal' ? config.distributionBaseline : 'recent';
          const only =
            members.length === 1 && project === undefined ? { project: members[0]!.project } : scoped;
          const inTier = new Set(members.map((h) => h.project));
          const judged = tier === 'learning' ? 'guard' : baseline;
          for (const d of await judge.call(detector, {
            client,
            config,
            window,
            histories,
            baseline,
            ...only,
          }))
            if (inTier.has(d.project)) found.push(withBaseline(d, histories.get(d.project), judged));
        }
      } else {
        found = (await detector.run({ client, config, window, histories, ...scoped })).map((d) =>
          withBaseline(
            d,
            histories.get(d.project),
            NON_TEMPORAL_KINDS.has(detector.kind) ? 'none' : undefined,
          ),
        );
      }
      result.detections.push(...found);
      result.ran.push(detector.kind);
      if (STATUS_KINDS.includes(detector.kind))
        for (const h of histories.values()) result.baselines.push(baselineStatus(detector.kind, h, config));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result.failed.push({ kind: detector.kind, error: message });
      log.error({ detector: detector.kind, err: message }, 'detector failed');
    }
  }
  return result;
}

/** Evidence names the baseline a detection was judged against and the history behind it. */
function withBaseline(
  d: Detection,
  history: ProjectHistory | undefined,
  kind: 'seasonal' | 'recent' | 'guard' | 'none' | undefined,
): Detection {
  if (d.evidence.baseline !== undefined) return d;
  const hours = history ? historyHours(history) : null;
  const baseline =
    d.kind === 'prompt_regression'
      ? { kind: 'previous_version', historyHours: hours }
      : { kind: kind ?? 'none', historyHours: hours };
  return { ...d, evidence: { ...d.evidence, baseline } };
}

/** Keeps one detection per (project, rule, subject): the more severe, the longer window on a tie. */
export function mergeDetections(...passes: Detection[][]): Detection[] {
  const rank = { info: 0, warning: 1, critical: 2 } as const;
  const byKey = new Map<string, Detection>();
  for (const pass of passes)
    for (const d of pass) {
      const key = `${d.project}\n${d.rule}\n${subjectKey(d.subject)}`;
      const seen = byKey.get(key);
      if (!seen || rank[d.severity] > rank[seen.severity]) byKey.set(key, d);
    }
  return [...byKey.values()];
}

/** The kinds judged on the short live window too: the ones where minutes matter. */
export const FAST_KINDS: ReadonlySet<DetectionKind> = new Set(['cost_spike', 'error_rate']);

/**
 * What the scheduler judges at `endMs`: every detector over the last `windowMinutes`, plus cost
 * and error rate over the last `fastWindowMinutes` (a burst shows there within minutes, while it
 * is still a small part of the hour). One detection per alert key.
 */
export async function livePass(
  client: ClickHouseClient,
  config: DetectionConfig,
  endMs: number,
  project?: string,
  log: Log = noLog,
): Promise<PassResult & { window: DetectWindow }> {
  const window = { fromMs: endMs - config.windowMinutes * 60_000, toMs: endMs };
  const full = await runDetectors(client, config, window, project, log);
  if (config.fastWindowMinutes === 0 || config.fastWindowMinutes >= config.windowMinutes)
    return { ...full, window };
  const fast = await runDetectors(
    client,
    config,
    { fromMs: endMs - config.fastWindowMinutes * 60_000, toMs: endMs },
    project,
    log,
    FAST_KINDS,
  );
  return {
    window,
    detections: mergeDetections(full.detections, fast.detections),
    ran: full.ran.filter((k) => !fast.failed.some((f) => f.kind === k)),
    failed: [...full.failed, ...fast.failed],
    baselines: full.baselines,
  };
}

/** One pass's outcome, as the alert state machine takes it. */
export interface RecordedPass {
  window: DetectWindow;
  project?: string;
  /** Detector kinds that ran successfully in this pass: only their alerts may resolve. */
  ran: readonly DetectionKind[];
  detections: Detection[];
}

/**
 * What becomes of each pass: the caller wires the alert state machine in (alert/state.ts
 * `alertRecorder`: stored, deduped, notified, resolved), so detection never imports alerting.
 */
export interface PassRecorder {
  /** Returns the detections to report: firing ones plus the resolutions the pass caused. */
  record(pass: RecordedPass): Promise<Detection[]>;
  /** Resolves when what recording started (notifications in flight) is done. */
  flush(): Promise<void>;
}

export interface DetectDeps {
  client: ClickHouseClient;
  detection: DetectionConfig;
  /** Without it every pass is only computed and returned (a dry run). */
  recorder?: PassRecorder;
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
    if (req.dryRun || !deps.recorder) out.push(...pass.detections);
    else
      out.push(
        ...(await deps.recorder.record({
          window,
          ran: pass.ran,
          detections: pass.detections,
          ...(req.project !== undefined ? { project: req.project } : {}),
        })),
      );
    req.onProgress?.(i + 1, windows.length, window);
  }
  return out;
}
