import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { DAY_MS } from './sql.js';
import type { DetectionKind, DetectWindow } from './types.js';

/**
 * Which baseline a project's traffic can support, from how much history it has before the
 * window: `seasonal` (the same window on previous days: daily cycles are in it) once
 * `minSeasonalDays` days exist, else `recent` (the hours just before the window, with stricter
 * thresholds because a daily cycle is not in it) once `minRecentHours` exist, else `learning`
 * (only absolute guards can fire). A fresh deployment is covered from its first hours.
 */
export type BaselineTier = 'seasonal' | 'recent' | 'learning';

export interface ProjectHistory {
  project: string;
  /** Milliseconds of traffic before the window start, capped at `baselineDays`. */
  historyMs: number;
  tier: BaselineTier;
}

/** What each detection's evidence says about the baseline it was judged against. */
export interface BaselineEvidence {
  kind: 'seasonal' | 'recent' | 'guard' | 'previous_version' | 'none';
  historyHours: number;
}

/** Per detector and subject: the baseline it can use now, and when a better one becomes available. */
export interface BaselineStatus {
  kind: DetectionKind;
  project: string;
  /** `daily_trend`: creep, once `creep.minDays` days of history exist. */
  state: BaselineTier | 'daily_trend';
  historyHours: number;
  /**
   * Hours of history still missing for the next tier (recent, then seasonal; for creep the daily
   * trend); null once at the best one.
   */
  nextTierInHours: number | null;
}

const HOUR_MS = 3_600_000;

export const HISTORY_SQL = `
SELECT ProjectId AS project, toUInt64(toUnixTimestamp64Milli(min(Timestamp))) AS firstMs
FROM llm_calls
WHERE Timestamp >= fromUnixTimestamp64Milli({base:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
  AND ({project:String} = '' OR ProjectId = {project:String})
GROUP BY ProjectId`;

/** Pure: the tier a history supports. */
export function tierOf(historyMs: number, cfg: DetectionConfig): BaselineTier {
  if (historyMs >= cfg.minSeasonalDays * DAY_MS) return 'seasonal';
  if (historyMs >= cfg.minRecentHours * HOUR_MS) return 'recent';
  return 'learning';
}

/** Every project with traffic in [window start − baselineDays, window end), with its tier. */
export async function projectHistories(
  client: ClickHouseClient,
  cfg: DetectionConfig,
  window: DetectWindow,
  project?: string,
): Promise<ProjectHistory[]> {
  const rows = await queryRows<{ project: string; firstMs: number | string }>(client, HISTORY_SQL, {
    base: window.fromMs - cfg.baselineDays * DAY_MS,
    to: window.toMs,
    project: project ?? '',
  });
  return rows.map((r) => {
    const historyMs = Math.max(0, window.fromMs - Number(r.firstMs));
    return { project: r.project, historyMs, tier: tierOf(historyMs, cfg) };
  });
}

export function historyHours(h: ProjectHistory): number {
  return Math.round((h.historyMs / HOUR_MS) * 10) / 10;
}

/** Detectors judged against a time baseline (the others compare versions or values seen). */
export const TEMPORAL_KINDS: readonly DetectionKind[] = [
  'cost_spike',
  'latency_regression',
  'error_rate',
  'drift',
];

/**
 * The baseline every enabled temporal detector can use for one project at `atMs`: what `report`
 * shows, so a fresh deployment reads "learning" instead of an empty alert list.
 */
export async function baselineStatuses(
  client: ClickHouseClient,
  cfg: DetectionConfig,
  project: string,
  atMs: number,
): Promise<BaselineStatus[]> {
  const [h] = await projectHistories(client, cfg, { fromMs: atMs, toMs: atMs + 1 }, project);
  const history = h ?? { project, historyMs: 0, tier: 'learning' as const };
  return STATUS_KINDS.filter((k) => cfg[k].enabled).map((k) => baselineStatus(k, history, cfg));
}

/** Detectors that wait for history, and so report a baseline status: the temporal ones and creep. */
export const STATUS_KINDS: readonly DetectionKind[] = [...TEMPORAL_KINDS, 'creep'];

/** Pure: the status line of one detector for one project. */
export function baselineStatus(kind: DetectionKind, h: ProjectHistory, cfg: DetectionConfig): BaselineStatus {
  const hours = h.historyMs / HOUR_MS;
  if (kind === 'creep') {
    const missing = cfg.creep.minDays * 24 - hours;
    return {
      kind,
      project: h.project,
      state: missing > 0 ? 'learning' : 'daily_trend',
      historyHours: historyHours(h),
      nextTierInHours: missing > 0 ? Math.round(missing * 10) / 10 : null,
    };
  }
  const next =
    h.tier === 'learning'
      ? cfg.minRecentHours - hours
      : h.tier === 'recent'
        ? cfg.minSeasonalDays * 24 - hours
        : null;
  return {
    kind,
    project: h.project,
    state: h.tier,
    historyHours: historyHours(h),
    nextTierInHours: next === null ? null : Math.max(0, Math.round(next * 10) / 10),
  };
}
