import { queryRows } from '../storage/clickhouse.js';
import type { DetectionConfig } from './config.js';
import { CURRENT_RANGE, FROM, PROJECT_FILTER, RECENT, windowParams } from './sql.js';
import { poissonSf } from './stats.js';
import {
  detection,
  describeSubject,
  type DetectContext,
  type Detection,
  type DetectWindow,
  type Detector,
  type Severity,
} from './types.js';

export interface PiiRow {
  project: string;
  rule: 'output' | 'exposure';
  service: string;
  provider: string;
  model: string;
  promptName: string;
  type: string;
  findings: number;
  spans: number;
  actions: string[];
  examples: Array<[string, string]>;
}

/**
 * Two rules over pii_findings in the window:
 * - output: a value found in a call's output whose keyed hash is not among that same span's
 *   input/system/tool findings — the model produced PII it was not given.
 *   Values the model has been producing routinely (in outputs of several calls of the recent
 *   baseline, e.g. a support address in the prompt template) and values given anywhere else in
 *   the same trace (retrieval, an earlier step) are not leaks.
 * - exposure: PII in what was sent to an external provider. The collector's redaction only
 *   protects storage: the provider already received the value, whatever the storage action.
 *   Always for secrets, cards, SSNs and IBANs; for routine types (emails and phones in user
 *   text) only when their rate jumps well above the recent baseline.
 */
export const PII_SQL = `
SELECT ProjectId AS project, rule, ServiceName AS service, Provider AS provider, Model AS model,
  PromptName AS promptName, toString(Type) AS type, toUInt32(sum(Count)) AS findings, toUInt32(uniqExact(SpanId)) AS spans,
  groupUniqArray(toString(Action)) AS actions, groupArray(5)((TraceId, SpanId)) AS examples
FROM (
  SELECT *, 'output' AS rule FROM pii_findings
  WHERE ${CURRENT_RANGE} AND ${PROJECT_FILTER} AND Place = 'output' AND Type IN {leakTypes:Array(String)}
    AND (ProjectId, TraceId, Type, ValueHash) NOT IN (
      SELECT ProjectId, TraceId, Type, ValueHash FROM pii_findings
      WHERE ${CURRENT_RANGE} AND ${PROJECT_FILTER} AND Place != 'output')
    AND (ProjectId, Type, ValueHash) NOT IN (
      SELECT ProjectId, Type, ValueHash FROM pii_findings
      WHERE Timestamp >= ${RECENT} AND Timestamp < ${FROM} AND ${PROJECT_FILTER} AND Place = 'output'
      GROUP BY ProjectId, Type, ValueHash HAVING uniqExact(SpanId) >= {knownMin:UInt32})
  UNION ALL
  SELECT *, 'exposure' AS rule FROM pii_findings
  WHERE ${CURRENT_RANGE} AND ${PROJECT_FILTER} AND Place != 'output'
    AND (Type IN {exposureTypes:Array(String)} OR Type IN {rateTypes:Array(String)})
    AND Provider != '' AND lower(Provider) NOT IN {internal:Array(String)}
)
GROUP BY project, rule, service, provider, model, promptName, type`;

/** Findings of the routine exposure types in the recent baseline, per subject and type. */
export const PII_BASELINE_SQL = `
SELECT ProjectId AS project, ServiceName AS service, Provider AS provider, Model AS model, PromptName AS promptName,
  toString(Type) AS type, toUInt32(sum(Count)) AS findings
FROM pii_findings
WHERE Timestamp >= ${RECENT} AND Timestamp < ${FROM} AND ${PROJECT_FILTER} AND Place != 'output'
  AND Type IN {rateTypes:Array(String)}
GROUP BY project, service, provider, model, promptName, type`;

export type PiiBaselineRow = Omit<PiiRow, 'rule' | 'spans' | 'actions' | 'examples'>;

/**
 * Pure: drops routine-type exposure rows whose count is not well above what the recent baseline
 * predicts for a window of this length: it must reach minRoutineFindings and rateFactor × the
 * expected count, and be improbable under a Poisson rate of 1.5 × the baseline average (the
 * busiest hours of a daily cycle run about that much above the mean).
 */
export function filterRoutineExposure(
  rows: PiiRow[],
  baseline: PiiBaselineRow[],
  window: DetectWindow,
  baselineMs: number,
  cfg: DetectionConfig,
): PiiRow[] {
  const c = cfg.pii_leak;
  const rate = new Set<string>(c.exposureRateTypes);
  const always = new Set<string>(c.exposureTypes);
  const key = (r: PiiBaselineRow) =>
    [r.project, r.service, r.provider, r.model, r.promptName, r.type].join('\n');
  const base = new Map(baseline.map((b) => [key(b), Number(b.findings)]));
  const scale = (window.toMs - window.fromMs) / Math.max(1, baselineMs);
  return rows.filter((r) => {
    if (r.rule !== 'exposure' || always.has(r.type) || !rate.has(r.type)) return true;
    const expected = (base.get(key(r)) ?? 0) * scale;
    return (
      r.findings >= c.minRoutineFindings &&
      r.findings >= c.rateFactor * expected &&
      poissonSf(r.findings, Math.max(1.5 * expected, 0.5)) < c.alpha
    );
  });
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Pure: one detection per (rule, service, provider, model, prompt), severity of its worst type. */
export function evaluatePii(rows: PiiRow[], window: DetectWindow, cfg: DetectionConfig): Detection[] {
  const groups = new Map<string, PiiRow[]>();
  for (const r of rows) {
    const k = [r.project, r.rule, r.service, r.provider, r.model, r.promptName].join('\n');
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: Detection[] = [];
  for (const list of groups.values()) {
    const first = list[0]!;
    list.sort((a, b) => b.findings - a.findings);
    let severity: Severity = 'info';
    for (const r of list) {
      const s = cfg.pii_leak.severity[r.type as keyof typeof cfg.pii_leak.severity] ?? 'warning';
      if (RANK[s] > RANK[severity]) severity = s;
    }
    const findings = list.reduce((s, r) => s + r.findings, 0);
    const spans = list.reduce((s, r) => s + r.spans, 0);
    const subject = {
      service: first.service,
      provider: first.provider,
      model: first.model,
      promptName: first.promptName,
    };
    const types = list.map((r) => `${r.type} ×${r.findings}`).join(', ');
    out.push(
      detection(
        {
          kind: 'pii_leak',
          severity,
          project: first.project,
          rule: `pii_leak.${first.rule}`,
          subject,
          observed: findings,
          baseline: 0,
          message:
            first.rule === 'output'
              ? `The model returned personal data or secrets it was not given in ${describeSubject(subject)}: ${types} in ${spans} call(s).`
              : `Personal data or secrets were sent to external provider ${first.provider} from ${describeSubject(subject)}: ${types} in ${spans} call(s).`,
          evidence: {
            unit: 'findings',
            types: Object.fromEntries(list.map((r) => [r.type, r.findings])),
            calls: spans,
            storageActions: [...new Set(list.flatMap((r) => r.actions))],
            examples: list
              .flatMap((r) => r.examples.map(([traceId, spanId]) => ({ traceId, spanId, type: r.type })))
              .slice(0, 5),
          },
        },
        window,
      ),
    );
  }
  return out;
}

export const piiLeakDetector: Detector = {
  kind: 'pii_leak',
  async run(ctx: DetectContext): Promise<Detection[]> {
    const c = ctx.config.pii_leak;
    const params = {
      ...windowParams(ctx),
      leakTypes: c.leakTypes,
      exposureTypes: c.exposureTypes,
      rateTypes: c.exposureRateTypes,
      internal: c.internalProviders.map((p) => p.toLowerCase()),
      knownMin: c.knownValueMinCalls,
    };
    let rows = await queryRows<PiiRow>(ctx.client, PII_SQL, params);
    if (rows.some((r) => r.rule === 'exposure' && c.exposureRateTypes.includes(r.type as never))) {
      const baseline = await queryRows<PiiBaselineRow>(ctx.client, PII_BASELINE_SQL, params);
      rows = filterRoutineExposure(
        rows,
        baseline,
        ctx.window,
        ctx.config.recentBaselineHours * 3_600_000,
        ctx.config,
      );
    }
    return evaluatePii(rows, ctx.window, ctx.config);
  },
};
