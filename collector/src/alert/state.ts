import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import type { AlertsConfig } from './config.js';
import type { Dispatcher, Log } from './notify.js';
import { noLog } from './notify.js';
import type { PassRecorder, RecordedPass } from '../detect/engine.js';
import { subjectKey, type Detection, type DetectionKind } from '../detect/types.js';

/**
 * The alert state machine: per (project, rule, subject) an alert is firing or resolved.
 * - A detection for a key that is not firing opens an episode (firing) and notifies, unless the
 *   key was notified less than `cooldownMinutes` ago (flapping stays quiet).
 * - A detection for a firing key just refreshes it: no duplicate notifications.
 * - A firing key that its detector evaluated and did not find again resolves (and notifies the
 *   resolution when its firing was notified). Keys whose detector failed or did not run stay as
 *   they are: missing evidence is not good news.
 * Time is the event time of the window end, so backtests behave as if run live.
 */
export interface AlertState {
  project: string;
  rule: string;
  subjectKey: string;
  kind: DetectionKind;
  status: 'firing' | 'resolved';
  firstFiredMs: number;
  lastNotifiedMs: number | null;
  episodeNotified: boolean;
  detection: Detection;
}

interface StateRow {
  project: string;
  rule: string;
  subjectKey: string;
  kind: DetectionKind;
  status: 'firing' | 'resolved';
  firstFiredMs: number;
  lastNotifiedMs: number | null;
  episodeNotified: boolean;
  json: string;
}

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

export async function loadStates(
  client: ClickHouseClient,
  project: string | undefined,
): Promise<Map<string, AlertState>> {
  const rows = await queryRows<StateRow>(
    client,
    `SELECT ProjectId AS project, Rule AS rule, SubjectKey AS subjectKey, Kind AS kind, Status AS status,
       toUnixTimestamp64Milli(FirstFiredAt) AS firstFiredMs,
       if(LastNotifiedAt IS NULL, NULL, toUnixTimestamp64Milli(assumeNotNull(LastNotifiedAt))) AS lastNotifiedMs,
       EpisodeNotified AS episodeNotified, Json AS json
     FROM alert_state FINAL
     WHERE {project:String} = '' OR ProjectId = {project:String}`,
    { project: project ?? '' },
  );
  return new Map(
    rows.map((r) => [
      stateKey(r.project, r.rule, r.subjectKey),
      {
        ...r,
        firstFiredMs: Number(r.firstFiredMs),
        lastNotifiedMs: r.lastNotifiedMs === null ? null : Number(r.lastNotifiedMs),
        detection: JSON.parse(r.json) as Detection,
      },
    ]),
  );
}

function stateKey(project: string, rule: string, subject: string): string {
  return `${project}\n${rule}\n${subject}`;
}

let lastVersion = 0;
/** Strictly increasing across the process: ReplacingMergeTree keeps the highest. */
function nextVersion(): string {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1000);
  return String(lastVersion);
}

export type PassInput = RecordedPass;

export interface AlertEngineDeps {
  client: ClickHouseClient;
  alerts: AlertsConfig;
  dispatcher?: Dispatcher;
  log?: Log;
}

/** The alert state machine as detection's recorder (detect never imports alert; callers wire this in). */
export function alertRecorder(deps: AlertEngineDeps): PassRecorder {
  return {
    record: (pass) => applyPass(deps, pass),
    flush: () => deps.dispatcher?.flush() ?? Promise.resolve(),
  };
}

/** Applies one detection pass: returns the firing detections plus the resolutions it caused. */
export async function applyPass(deps: AlertEngineDeps, pass: PassInput): Promise<Detection[]> {
  const log = deps.log ?? noLog;
  const states = await loadStates(deps.client, pass.project);
  const nowMs = pass.window.toMs;
  const cooldownMs = deps.alerts.cooldownMinutes * 60_000;
  const minRank = SEVERITY_RANK[deps.alerts.minSeverity];
  const out: Detection[] = [];
  const stateRows: Record<string, unknown>[] = [];
  const historyRows: Record<string, unknown>[] = [];
  const notify: Detection[] = [];
  const seen = new Set<string>();

  for (const d of pass.detections) {
    const key = stateKey(d.project, d.rule, subjectKey(d.subject));
    if (seen.has(key)) continue;
    seen.add(key);
    const prev = states.get(key);
    const continuing = prev?.status === 'firing';
    const cooling = prev?.lastNotifiedMs != null && nowMs - prev.lastNotifiedMs < cooldownMs;
    const escalated = continuing && SEVERITY_RANK[d.severity] > SEVERITY_RANK[prev.detection.severity];
    const shouldNotify =
      SEVERITY_RANK[d.severity] >= minRank && ((!continuing && !cooling) || (escalated && !cooling));
    if (shouldNotify) notify.push(d);
    out.push(d);
    stateRows.push({
      ProjectId: d.project,
      Rule: d.rule,
      SubjectKey: subjectKey(d.subject),
      Kind: d.kind,
      Status: 'firing',
      Severity: continuing && !escalated ? prev.detection.severity : d.severity,
      FirstFiredAt: continuing ? prev.firstFiredMs : nowMs,
      LastFiredAt: nowMs,
      ResolvedAt: null,
      LastNotifiedAt: shouldNotify ? nowMs : (prev?.lastNotifiedMs ?? null),
      EpisodeNotified: shouldNotify || (continuing && prev.episodeNotified),
      Json: JSON.stringify(d),
      Version: nextVersion(),
    });
    historyRows.push(historyRow(d, shouldNotify));
  }

  for (const [key, prev] of states) {
    if (prev.status !== 'firing' || seen.has(key) || !pass.ran.includes(prev.kind)) continue;
    if (pass.project !== undefined && prev.project !== pass.project) continue;
    // Only an evaluation that covers the alert's time resolves it (a backtest of an older window does not).
    if (nowMs <= Date.parse(prev.detection.window.to)) continue;
    const resolved: Detection = {
      ...prev.detection,
      status: 'resolved',
      window: {
        from: new Date(pass.window.fromMs).toISOString(),
        to: new Date(pass.window.toMs).toISOString(),
      },
      message: `Resolved: ${prev.detection.message}`,
      evidence: { ...prev.detection.evidence, firingSince: new Date(prev.firstFiredMs).toISOString() },
    };
    const shouldNotify = deps.alerts.notifyResolved && prev.episodeNotified;
    if (shouldNotify) notify.push(resolved);
    out.push(resolved);
    stateRows.push({
      ProjectId: prev.project,
      Rule: prev.rule,
      SubjectKey: prev.subjectKey,
      Kind: prev.kind,
      Status: 'resolved',
      Severity: prev.detection.severity,
      FirstFiredAt: prev.firstFiredMs,
      LastFiredAt: Date.parse(prev.detection.window.to),
      ResolvedAt: nowMs,
      LastNotifiedAt: prev.lastNotifiedMs,
      EpisodeNotified: prev.episodeNotified,
      Json: JSON.stringify(resolved),
      Version: nextVersion(),
    });
    historyRows.push(historyRow(resolved, shouldNotify));
  }

  if (historyRows.length)
    await deps.client.insert({ table: 'detections', values: historyRows, format: 'JSONEachRow' });
  if (stateRows.length)
    await deps.client.insert({ table: 'alert_state', values: stateRows, format: 'JSONEachRow' });
  // Stored first, notified after: a crash in between loses a message, never the record of it.
  if (deps.dispatcher) for (const d of notify) deps.dispatcher.enqueue(d);
  else if (notify.length && deps.alerts.notifiers.length)
    log.warn({ count: notify.length }, 'no dispatcher: notifications skipped');
  return out;
}

function historyRow(d: Detection, notified: boolean): Record<string, unknown> {
  return {
    ProjectId: d.project,
    WindowTo: Date.parse(d.window.to),
    WindowFrom: Date.parse(d.window.from),
    Id: d.id,
    Kind: d.kind,
    Status: d.status,
    Severity: d.severity,
    Rule: d.rule,
    SubjectKey: subjectKey(d.subject),
    Observed: Number.isFinite(d.observed) ? d.observed : 0,
    Baseline: Number.isFinite(d.baseline) ? d.baseline : 0,
    Message: d.message,
    Json: JSON.stringify(d),
    Notified: notified,
  };
}

/** Alerts for GET /api/alerts: current state, newest first. */
export async function listAlerts(
  client: ClickHouseClient,
  q: { project: string; status?: 'firing' | 'resolved'; sinceMs?: number; limit?: number },
): Promise<Array<Detection & { firstFiredAt: string; lastNotifiedAt: string | null }>> {
  const rows = await queryRows<{ json: string; first: string; notified: string | null }>(
    client,
    `SELECT Json AS json, formatDateTime(FirstFiredAt, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS first,
       if(LastNotifiedAt IS NULL, NULL, formatDateTime(assumeNotNull(LastNotifiedAt), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')) AS notified
     FROM alert_state FINAL
     WHERE ProjectId = {project:String} AND ({status:String} = '' OR Status = {status:String})
       AND greatest(LastFiredAt, ifNull(ResolvedAt, LastFiredAt)) >= fromUnixTimestamp64Milli({since:Int64})
     ORDER BY greatest(LastFiredAt, ifNull(ResolvedAt, LastFiredAt)) DESC
     LIMIT {limit:UInt32}`,
    { project: q.project, status: q.status ?? '', since: q.sinceMs ?? 0, limit: q.limit ?? 500 },
  );
  return rows.map((r) => ({
    ...(JSON.parse(r.json) as Detection),
    firstFiredAt: r.first,
    lastNotifiedAt: r.notified,
  }));
}
