import { Router } from 'express';
import { z } from 'zod';
import type { Detection, DetectionKind } from '../detect/types.js';
import { LlmwatchError } from '../errors.js';
import { projectOf, type AppDeps } from '../server/deps.js';
import { queryRows } from '../storage/clickhouse.js';
import { parseInput } from './query-params.js';
import { measure, minuteRange, type CallFilter, type CallMeasures } from './series.js';

const HOUR_MS = 3_600_000;
const POINTS = 90;

const alertParamsSchema = z
  .object({ id: z.string().regex(/^[0-9a-f]{8,64}$/, 'an alert id from GET /api/alerts') })
  .strict();

/**
 * The measure charted around an alert of each kind (series fields of GET /api/overview); kinds
 * not measured on calls (knowledge_gap) chart the call count.
 */
const METRIC_OF: Partial<Record<DetectionKind, keyof CallMeasures>> = {
  cost_spike: 'costUsd',
  latency_regression: 'p95Ms',
  error_rate: 'errorRate',
  pii_leak: 'piiCalls',
  drift: 'outputTokens',
  prompt_regression: 'p95Ms',
};

const SUMS = new Set<keyof CallMeasures>([
  'calls',
  'errors',
  'costUsd',
  'piiCalls',
  'inputTokens',
  'outputTokens',
]);

function metricFor(d: Detection): keyof CallMeasures {
  if (d.kind === 'latency_regression' && /ttft/.test(d.rule)) return 'ttftP95Ms';
  if (d.kind === 'drift' && /input/.test(d.rule)) return 'inputTokens';
  return METRIC_OF[d.kind] ?? 'calls';
}

/**
 * `GET /api/alerts/:id` → `{alert, state, history, chart}`: one detection of the key's project
 * (ids come from GET /api/alerts and from notifications) with its evidence, the current state of
 * its alert, the last detections of the same rule and subject, and the charted measure per bucket
 * from a few hours before the detection window to an hour after it.
 */
export function createAlertDetailRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/api/alerts/:id', async (req, res) => {
    const { id } = parseInput(alertParamsSchema, req.params);
    const project = projectOf(res);
    const client = deps.clickhouse.query;
    const [found] = await queryRows<{ json: string; rule: string; subjectKey: string; notified: boolean }>(
      client,
      `SELECT Json AS json, Rule AS rule, SubjectKey AS subjectKey, Notified AS notified FROM detections
       WHERE ProjectId = {project:String} AND Id = {id:String} ORDER BY DetectedAt DESC LIMIT 1`,
      { project, id },
    );
    if (!found) throw new LlmwatchError('not_found', `no alert ${id} in this project`);
    const alert = JSON.parse(found.json) as Detection;
    const keyParams = { project, rule: found.rule, subjectKey: found.subjectKey };
    const [states, history] = await Promise.all([
      queryRows<{
        status: string;
        severity: string;
        firstFiredAt: string;
        lastFiredAt: string;
        resolvedAt: string | null;
        latestId: string;
      }>(
        client,
        `SELECT Status AS status, Severity AS severity,
           formatDateTime(FirstFiredAt, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS firstFiredAt,
           formatDateTime(LastFiredAt, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS lastFiredAt,
           if(ResolvedAt IS NULL, NULL, formatDateTime(assumeNotNull(ResolvedAt), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')) AS resolvedAt,
           JSONExtractString(Json, 'id') AS latestId
         FROM alert_state FINAL
         WHERE ProjectId = {project:String} AND Rule = {rule:String} AND SubjectKey = {subjectKey:String}`,
        keyParams,
      ),
      queryRows<{
        id: string;
        status: string;
        severity: string;
        windowTo: string;
        observed: number;
        baseline: number;
      }>(
        client,
        `SELECT Id AS id, Status AS status, Severity AS severity,
           formatDateTime(WindowTo, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS windowTo, Observed AS observed, Baseline AS baseline
         FROM detections
         WHERE ProjectId = {project:String} AND Rule = {rule:String} AND SubjectKey = {subjectKey:String}
         ORDER BY WindowTo DESC, DetectedAt DESC LIMIT 50`,
        keyParams,
      ),
    ]);
    const windowFrom = Date.parse(alert.window.from);
    const windowTo = Date.parse(alert.window.to);
    const context = Math.max(3 * HOUR_MS, 4 * (windowTo - windowFrom));
    const range = minuteRange(windowFrom - context, Math.min(Date.now(), windowTo + HOUR_MS));
    const bucketSeconds = Math.max(60, Math.ceil((range.toMs - range.fromMs) / 1000 / POINTS / 60) * 60);
    const filter: CallFilter = {};
    for (const key of ['service', 'provider', 'model', 'promptName', 'promptVersion', 'userId'] as const) {
      const value = alert.subject[key];
      if (value) filter[key] = value;
    }
    const metric = metricFor(alert);
    const { series: points } = await measure(client, project, range, bucketSeconds, filter);
    res.json({
      alert,
      notified: found.notified,
      state: states[0] ?? null,
      history,
      chart: {
        metric,
        filter,
        bucketSeconds,
        window: alert.window,
        // A sum is 0 in a bucket without calls; a rate or a percentile has no value there.
        points: points.map((p) => ({
          time: p.time,
          value: p.calls || SUMS.has(metric) ? p[metric] : null,
          calls: p.calls,
        })),
      },
    });
  });
  return router;
}
