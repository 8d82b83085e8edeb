import type { DetectContext } from './types.js';

export const DAY_MS = 86_400_000;

/** Bound parameters every detector query gets; times are epoch milliseconds (no timezone games). */
export function windowParams(ctx: DetectContext): Record<string, number | string> {
  const seasonal = (ctx.baseline ?? ctx.config.distributionBaseline) === 'seasonal';
  return {
    from: ctx.window.fromMs,
    to: ctx.window.toMs,
    base: ctx.window.fromMs - ctx.config.baselineDays * DAY_MS,
    recent: ctx.window.fromMs - ctx.config.recentBaselineHours * 3_600_000,
    // Distribution detectors: the same window on previous days (seasonal) or the recent hours.
    dist: seasonal
      ? ctx.window.fromMs - ctx.config.baselineDays * DAY_MS
      : ctx.window.fromMs - ctx.config.recentBaselineHours * 3_600_000,
    seasonal: seasonal ? 1 : 0,
    len: ctx.window.toMs - ctx.window.fromMs,
    project: ctx.project ?? '',
  };
}

export const PROJECT_FILTER = `({project:String} = '' OR ProjectId = {project:String})`;
export const FROM = `fromUnixTimestamp64Milli({from:Int64})`;
export const TO = `fromUnixTimestamp64Milli({to:Int64})`;
export const BASE = `fromUnixTimestamp64Milli({base:Int64})`;
export const RECENT = `fromUnixTimestamp64Milli({recent:Int64})`;
/**
 * Baseline of the distribution detectors and current window together: with a seasonal baseline
 * only the window's own hours on each previous day (a daily cycle in latency, errors or content
 * is then in the baseline), else the recent hours before the window.
 */
export const DIST_TO_RANGE = `Timestamp >= fromUnixTimestamp64Milli({dist:Int64}) AND Timestamp < ${TO}
  AND ({seasonal:UInt8} = 0 OR ({to:Int64} - 1 - toUnixTimestamp64Milli(Timestamp)) % ${DAY_MS} < {len:Int64})`;
/** Seasonal baseline and current window together: [base, to). */
export const BASE_TO_RANGE = `Timestamp >= ${BASE} AND Timestamp < ${TO}`;
export const CURRENT_RANGE = `Timestamp >= ${FROM} AND Timestamp < ${TO}`;
/** 0 for the current window, 1 for the baseline (Mann-Whitney / KS take the first sample as index 0). */
export const IDX = `toUInt8(Timestamp < ${FROM})`;

/**
 * `<tuple of 4 string expressions> IN` the `{keys:Array(Array(String))}` parameter, as a hashed
 * set built once per query (a per-row `has()` over the array would cost more than the scan).
 */
export function keyIn(exprs: readonly [string, string, string, string]): string {
  return `(${exprs.map((e) => `toString(${e})`).join(', ')}) IN (SELECT (k[1], k[2], k[3], k[4]) FROM (SELECT arrayJoin({keys:Array(Array(String))}) AS k))`;
}

/**
 * Deterministic baseline subsampling per group, so that the rank tests and centroids read at
 * most about `cap` baseline rows of each group whatever the traffic: the current window is
 * always taken whole. Returns the SQL condition and its parameters.
 */
export function baselineSample(
  groups: ReadonlyArray<{ key: readonly string[]; nBase: number }>,
  keyExprs: readonly string[],
  cap: number,
): { sql: string; params: { sKeys: string[]; sMods: number[] } } {
  const sKeys = groups.map((g) => g.key.join('\u0001'));
  const sMods = groups.map((g) => Math.max(1, Math.floor(Number(g.nBase) / cap)));
  const key = `arrayStringConcat([${keyExprs.map((e) => `toString(${e})`).join(', ')}], '\\x01')`;
  return {
    sql: `(Timestamp >= ${FROM} OR cityHash64(SpanId) % transform(${key}, {sKeys:Array(String)}, {sMods:Array(UInt32)}, toUInt32(1)) = 0)`,
    params: { sKeys, sMods },
  };
}
