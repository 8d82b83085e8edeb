import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ProjectHistory } from './baseline.js';
import type { DetectionConfig } from './config.js';

export const DETECTION_KINDS = [
  'pii_leak',
  'cost_spike',
  'latency_regression',
  'error_rate',
  'drift',
  'prompt_regression',
  'creep',
  'knowledge_gap',
] as const;
export type DetectionKind = (typeof DETECTION_KINDS)[number];
export type Severity = 'info' | 'warning' | 'critical';
export type DetectionStatus = 'firing' | 'resolved';

export interface Subject {
  model?: string;
  provider?: string;
  promptName?: string;
  promptVersion?: string;
  userId?: string;
  service?: string;
}

/** docs/api.md (POST /api/detect): what detectors produce, what is stored, notified and returned by the API. */
export interface Detection {
  id: string;
  kind: DetectionKind;
  status: DetectionStatus;
  severity: Severity;
  project: string;
  /** `<kind>.<what>`, e.g. `latency_regression.ttft_p95`; alerts are deduped by (rule, subject). */
  rule: string;
  subject: Subject;
  window: { from: string; to: string };
  /** The headline number in the current window (its unit is named in evidence.unit). */
  observed: number;
  /** The same number in the baseline. */
  baseline: number;
  message: string;
  evidence: Record<string, unknown>;
}

/** The current window, epoch milliseconds, [fromMs, toMs). */
export interface DetectWindow {
  fromMs: number;
  toMs: number;
}

export interface DetectContext {
  client: ClickHouseClient;
  config: DetectionConfig;
  window: DetectWindow;
  /** Restrict to one project; all projects when undefined. */
  project?: string;
  /**
   * Baseline of the distribution detectors for this run (the engine picks it from the project's
   * history); `config.distributionBaseline` when undefined.
   */
  baseline?: 'seasonal' | 'recent';
  /** History per project (engine-provided; detectors that need it query it otherwise). */
  histories?: ReadonlyMap<string, ProjectHistory>;
}

export interface Detector {
  kind: DetectionKind;
  run(ctx: DetectContext): Promise<Detection[]>;
  /** Judges projects still learning (no baseline yet) against absolute limits only. */
  guard?(ctx: DetectContext): Promise<Detection[]>;
}

const SUBJECT_KEYS = ['service', 'provider', 'model', 'promptName', 'promptVersion', 'userId'] as const;

/** Stable text form of a subject: the dedup key of alerts together with the rule. */
export function subjectKey(subject: Subject): string {
  return SUBJECT_KEYS.filter((k) => subject[k] !== undefined && subject[k] !== '')
    .map((k) => `${k}=${subject[k]}`)
    .join('|');
}

/** Drops empty fields so a subject names only what it is about. */
export function cleanSubject(subject: Subject): Subject {
  const out: Subject = {};
  for (const k of SUBJECT_KEYS) {
    const v = subject[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

export function describeSubject(subject: Subject): string {
  const parts: string[] = [];
  if (subject.service) parts.push(`service ${subject.service}`);
  if (subject.promptName)
    parts.push(`prompt ${subject.promptName}${subject.promptVersion ? `@${subject.promptVersion}` : ''}`);
  if (subject.model) parts.push(`model ${subject.model}`);
  if (subject.provider && !subject.model) parts.push(`provider ${subject.provider}`);
  if (subject.userId) parts.push(`user ${subject.userId}`);
  return parts.length ? parts.join(', ') : 'whole project';
}

export function detection(
  fields: Omit<Detection, 'id' | 'status' | 'window' | 'subject'> & { subject: Subject },
  window: DetectWindow,
): Detection {
  const subject = cleanSubject(fields.subject);
  const from = new Date(window.fromMs).toISOString();
  const to = new Date(window.toMs).toISOString();
  const id = createHash('sha256')
    .update(`${fields.project}\n${fields.rule}\n${subjectKey(subject)}\n${from}\n${to}`)
    .digest('hex')
    .slice(0, 24);
  return { id, status: 'firing', ...fields, subject, window: { from, to } };
}

/** Rounds for messages and evidence: numbers people read, not 17 digits. */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}
