import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  normalizeSpan,
  seededRandom,
  type AttributeAliases,
  type Attributes,
} from '../packages/core/src/index.js';
import { parseConfig } from '../collector/src/config/index.js';
import type { DetectionConfig } from '../collector/src/detect/config.js';
import { livePass, runDetectors } from '../collector/src/detect/engine.js';
import {
  DETECTION_KINDS,
  subjectKey,
  type Detection,
  type DetectionKind,
} from '../collector/src/detect/types.js';
import { openClickHouse } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { decodedSpan } from '../packages/core/test/decoded-span.js';
import type { BenchResult } from './types.js';

type ClickHouseClient = Awaited<ReturnType<typeof openClickHouse>>;

/**
 * `pnpm bench detect-quality`: detection quality over many seeded worlds, not one. Each scenario
 * draws its history length (1–14 days), traffic (0.5–50 calls/min, log-uniform), daily and weekly
 * cycles, models, users and prompts, the attribute dialect its emitter uses for prompt and user
 * (read through core's normalizeSpan, as ingest does), and either clean traffic or one incident —
 * its kind, size, start, duration and affected subject. Rows go straight into llm_calls (real
 * schema, generated inside ClickHouse); the detectors then run as the live scheduler would at
 * chosen times (engine.livePass), one embedded ClickHouse for the whole run.
 *
 * Reported per incident kind: recall over the scenarios at or above the documented minimum effect
 * (docs/detection.md, "Evaluation"), recall over all, and the median time from onset to the first
 * detection that names the affected subject; on clean scenarios, false alerts (distinct alert
 * keys) per simulated project-day of live passes.
 */

const MIN = 60_000;
const READ_DAYS = 8.5;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const CLEAN_SEEDS = 100_001;
const INCIDENTS = ['cost_burst', 'error_burst', 'latency_regression', 'creep', 'prompt_regression'] as const;
type IncidentKind = (typeof INCIDENTS)[number];

const DIALECTS: Record<string, (name: string, version: string, user: string) => Attributes> = {
  llmwatch: (n, v, u) => ({ 'gen_ai.prompt.name': n, 'llmwatch.prompt.version': v, 'user.id': u }),
  genai: (n, v, u) => ({ 'gen_ai.prompt.name': n, 'gen_ai.prompt.version': v, 'user.id': u }),
  openllmetry: (n, v, u) => ({
    'traceloop.prompt.key': n,
    'traceloop.prompt.version': v,
    'traceloop.association.properties.user_id': u,
  }),
  openinference: (n, v, u) => ({
    'openinference.span.kind': 'LLM',
    'prompt.id': n,
    'llm.prompt_template.version': v,
    'user.id': u,
  }),
  openlit: (n, v, u) => ({ 'gen_ai.prompt.name': n, 'gen_ai.prompt.version': v, 'gen_ai.request.user': u }),
  langfuse: (n, v, u) => ({
    'langfuse.observation.prompt.name': n,
    'langfuse.observation.prompt.version': v,
    'langfuse.user.id': u,
  }),
  vercelAi: (n, v, u) => ({
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.telemetry.metadata.langfusePrompt': JSON.stringify({ name: n, version: v }),
    'ai.telemetry.metadata.userId': u,
  }),
  custom: (n, v, u) => ({ 'app.prompt': n, 'app.prompt.rev': v, 'app.customer': u }),
};
const CUSTOM_ALIASES: AttributeAliases = {
  promptName: ['app.prompt'],
  promptVersion: ['app.prompt.rev'],
  userId: ['app.customer'],
};

const MODELS = [
  { provider: 'openai', model: 'gpt-4o-mini', costPerToken: 0.6e-6, latencyMs: 700 },
  { provider: 'openai', model: 'gpt-4o', costPerToken: 10e-6, latencyMs: 1400 },
  { provider: 'anthropic', model: 'claude-sonnet-4-5', costPerToken: 15e-6, latencyMs: 1800 },
];

interface Scenario {
  seed: number;
  project: string;
  dialect: string;
  historyDays: number;
  perMinute: number;
  dailyAmplitude: number;
  weeklyDip: number;
  models: number;
  users: number;
  endMs: number;
  incident: null | {
    kind: IncidentKind;
    /** cost: spend multiple; errors: added error ratio; latency: multiple; creep: daily growth; prompt: output multiple. */
    size: number;
    onsetMs: number;
    durationMs: number;
    /** Which subject is affected: the detection must name it. */
    subject: { model?: string; userId?: string; promptName?: string };
    /** At or above the documented minimum effect for its kind. */
    aboveMinimum: boolean;
  };
}

interface Identity {
  promptName: string;
  promptVersion: string;
  userId: string;
}

/** Identity values as ingest reads them from this dialect's attributes. */
export function identity(dialect: string, name: string, version: string, user: string): Identity {
  const call = normalizeSpan(
    decodedSpan({
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1,
        ...DIALECTS[dialect]!(name, version, user),
      },
      resource: { 'service.name': 'app' },
    }),
    'p',
    dialect === 'custom' ? CUSTOM_ALIASES : undefined,
  );
  return {
    promptName: call?.promptName ?? '',
    promptVersion: call?.promptVersion ?? '',
    userId: call?.userId ?? '',
  };
}

/**
 * Expected counts an incident of that size produces, the basis of the documented minimum effect
 * per kind (docs/detection.md): enough affected calls for any test to see it, and a size well
 * clear of ordinary variation.
 */
function aboveMinimum(
  kind: IncidentKind,
  size: number,
  affectedPerMinute: number,
  s: Omit<Scenario, 'incident'>,
  durationMs: number,
): boolean {
  const minutes = durationMs / MIN;
  switch (kind) {
    case 'cost_burst':
      return size >= 5 && minutes >= 20 && affectedPerMinute * minutes >= 20;
    case 'error_burst':
      return size >= 0.2 && minutes >= 20 && size * affectedPerMinute * Math.min(minutes, 60) >= 15;
    case 'latency_regression':
      return size >= 2 && affectedPerMinute * 60 >= 40;
    case 'creep':
      return size >= 0.01 && s.historyDays >= 8 && affectedPerMinute >= 2;
    case 'prompt_regression':
      return size >= 1.5 && affectedPerMinute * 120 >= 60;
  }
}

export function drawScenario(seed: number, endMs: number, clean: boolean): Scenario {
  const rand = seededRandom(seed * 7919 + 13);
  const between = (a: number, b: number) => a + (b - a) * rand();
  const logBetween = (a: number, b: number) => Math.exp(between(Math.log(a), Math.log(b)));
  const dialects = Object.keys(DIALECTS);
  const base = {
    seed,
    project: `s${seed}`,
    dialect: dialects[Math.floor(rand() * dialects.length)]!,
    historyDays: between(1, 14),
    perMinute: logBetween(0.5, 50),
    dailyAmplitude: between(0, 0.6),
    weeklyDip: between(0, 0.4),
    models: 1 + Math.floor(rand() * 3),
    users: 5 + Math.floor(rand() * 45),
    endMs,
  };
  if (clean) return { ...base, incident: null };
  const kind = INCIDENTS[Math.floor(rand() * INCIDENTS.length)]!;
  if (kind === 'creep') base.historyDays = between(6, 14);
  const model = MODELS[Math.floor(rand() * base.models)]!.model;
  const modelShare = 1 / base.models;
  let size: number;
  let durationMs: number;
  let subject: NonNullable<Scenario['incident']>['subject'];
  let affected: number;
  switch (kind) {
    case 'cost_burst': {
      size = logBetween(2, 40);
      durationMs = between(10, 90) * MIN;
      const by = rand();
      subject = by < 0.4 ? { userId: 'runaway' } : by < 0.7 ? { model } : {};
      affected = base.perMinute * (size - 1);
      break;
    }
    case 'error_burst':
      size = between(0.05, 0.7);
      durationMs = between(10, 120) * MIN;
      subject = { model };
      affected = base.perMinute * modelShare;
      break;
    case 'latency_regression':
      size = logBetween(1.3, 4);
      durationMs = 3 * HOUR;
      subject = { model };
      affected = base.perMinute * modelShare;
      break;
    case 'creep':
      size = logBetween(0.003, 0.04);
      durationMs = 7 * DAY;
      subject = base.models > 1 && rand() < 0.5 ? { model } : {};
      affected = base.perMinute * (subject.model ? modelShare : 1);
      break;
    case 'prompt_regression':
      size = logBetween(1.15, 3);
      durationMs = 3 * HOUR;
      subject = { promptName: 'answer' };
      affected = base.perMinute * 0.5;
      break;
  }
  // Onset at least 1 h after the history starts and early enough that the evaluation fits.
  const onsetMs =
    kind === 'creep'
      ? endMs - durationMs
      : Math.floor((endMs - durationMs - between(0, 6) * HOUR) / MIN) * MIN;
  const s = { ...base, historyDays: Math.max(base.historyDays, (endMs - onsetMs) / DAY + 1 / 24) };
  return {
    ...s,
    incident: {
      kind,
      size,
      onsetMs,
      durationMs,
      subject,
      aboveMinimum: aboveMinimum(kind, size, affected, s, durationMs),
    },
  };
}

/**
 * The scenario's calls, generated inside ClickHouse by thinning a Poisson stream: the normal
 * traffic (daily and weekly cycles) over the whole history, or (`burst`) a cost burst's extra
 * calls — a runaway client or a retry loop — over the burst's minutes.
 */
export function insertSql(
  s: Scenario,
  ids: { v1: Identity; v2: Identity; runaway: string; userPrefix: string },
  burst: boolean,
): string {
  const inc = s.incident;
  // No detector reads further back than 8 days (creep; the others 7 + the window), and none looks at
  // more than the first call's time beyond that: older history is one call at its start.
  const from = burst ? inc!.onsetMs : s.endMs - Math.round(Math.min(s.historyDays, READ_DAYS) * DAY);
  const to = burst ? inc!.onsetMs + inc!.durationMs : s.endMs;
  const peak = burst ? s.perMinute * (inc!.size - 1) : s.perMinute * (1 + s.dailyAmplitude);
  const n = Math.ceil(((to - from) / MIN) * peak);
  const on = inc ? `(t >= ${inc.onsetMs} AND t < ${inc.onsetMs + inc.durationMs})` : '0';
  const affectedModel = inc?.subject.model ? `Model = '${inc.subject.model}'` : '1';
  const models = MODELS.slice(0, s.models);
  const sq = (x: string) => `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const modelArr = `[${models.map((m) => sq(m.model)).join(',')}]`;
  const providerArr = `[${models.map((m) => sq(m.provider)).join(',')}]`;
  const priceArr = `[${models.map((m) => m.costPerToken).join(',')}]`;
  const latArr = `[${models.map((m) => m.latencyMs).join(',')}]`;
  const creepFactor =
    inc?.kind === 'creep'
      ? `if(${on} AND ${affectedModel}, pow(1 + ${inc.size}, (t - ${inc.onsetMs}) / ${DAY}), 1)`
      : '1';
  const latencyFactor =
    inc?.kind === 'latency_regression' ? `if(${on} AND ${affectedModel}, ${inc.size}, 1)` : '1';
  const promptNew =
    inc?.kind === 'prompt_regression' ? `(t >= ${inc.onsetMs} AND PromptName = 'answer')` : '0';
  const outFactor = inc?.kind === 'prompt_regression' ? `if(${promptNew}, ${inc.size}, 1)` : '1';
  const errorBoost = inc?.kind === 'error_burst' ? `if(${on} AND ${affectedModel}, ${inc.size}, 0)` : '0';
  const model =
    burst && inc?.subject.model ? sq(inc.subject.model) : `${modelArr}[1 + toUInt32(u1 * ${s.models})]`;
  const user =
    burst && inc?.subject.userId
      ? sq(ids.runaway)
      : `concat(${sq(ids.userPrefix)}, toString(toUInt32(u9 * ${s.users})))`;
  const keep = burst
    ? '1'
    : `u0 < (1 + ${s.dailyAmplitude} * sin(2 * pi() * (t % ${DAY}) / ${DAY} + ${s.seed % 7})) / ${1 + s.dailyAmplitude}
        * if(toDayOfWeek(fromUnixTimestamp64Milli(toInt64(t))) >= 6, ${1 - s.weeklyDip}, 1)`;
  const u = (k: number) => `cityHash64(number, ${s.seed}, ${burst ? 100 + k : k}) / 18446744073709551616`;
  return `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Dialect, Provider, Operation,
    RequestModel, ResponseModel, Model, InputTokens, OutputTokens, CostUsd, PriceVersion, LatencyMs, Status, ErrorType,
    PromptName, PromptVersion, UserId)
  SELECT ${sq(s.project)}, fromUnixTimestamp64Milli(toInt64(t)), lower(hex(cityHash64(number, ${s.seed}, ${burst ? 120 : 20}))), lower(hex(cityHash64(number, ${s.seed}, ${burst ? 121 : 21}))),
    'app', ${sq(s.dialect)}, ${providerArr}[indexOf(${modelArr}, Model)], 'chat', Model, Model, Model,
    InputTokens, OutputTokens,
    (InputTokens * 0.2 + OutputTokens) * ${priceArr}[indexOf(${modelArr}, Model)] * ${creepFactor},
    'bench',
    ${latArr}[indexOf(${modelArr}, Model)] * exp(0.35 * sqrt(-2 * log(u2 + 1e-12)) * cos(2 * pi() * u3))
      * ${latencyFactor} * if(Status = 'error', 0.2, 1),
    Status, if(Status = 'error', 'RateLimitError', ''), if(PromptName = 'answer', ${sq(ids.v1.promptName)}, PromptName),
    if(PromptName = 'answer', if(${promptNew}, ${sq(ids.v2.promptVersion)}, ${sq(ids.v1.promptVersion)}), '1'),
    ${user}
  FROM (
    SELECT number, t, u1, u2, u3, u9, ${model} AS Model,
      toUInt32(200 + u4 * 800) AS InputTokens,
      ['answer', 'summarize', 'classify'][1 + toUInt32(u8 * 2 + (u8 > 0.5))] AS PromptName,
      if(u7 < 0.01 + ${errorBoost}, 'error', 'ok') AS Status,
      if(Status = 'error', 0, toUInt32(150 * exp(0.5 * sqrt(-2 * log(u5 + 1e-12)) * cos(2 * pi() * u6)) * ${outFactor})) AS OutputTokens
    FROM (
      SELECT number, ${from} + (number + ${u(0)}) * ${MIN / peak} AS t,
        ${u(1)} AS u1, ${u(2)} AS u2, ${u(3)} AS u3, ${u(4)} AS u4, ${u(5)} AS u5, ${u(6)} AS u6,
        ${u(7)} AS u7, ${u(8)} AS u8, ${u(9)} AS u9, ${u(10)} AS u0
      FROM numbers(${n})
    )
    WHERE ${keep}
  )`;
}

/** The first call of a history longer than what the detectors read: it sets the history length. */
function firstCallSql(s: Scenario): string {
  const at = s.endMs - Math.round(s.historyDays * DAY);
  return `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, ServiceName, Provider, Operation, Model, Status)
    VALUES ('${s.project}', fromUnixTimestamp64Milli(${at}), 'first', 'first', 'app', 'openai', 'chat', 'gpt-4o-mini', 'ok')`;
}

interface Outcome {
  scenario: Scenario;
  detected: boolean;
  ttdMinutes: number | null;
  firstDetection?: string;
  /** Detections of the incident's kind that did not name its subject (why a miss was a miss). */
  seen: string[];
}

/** Does the detection name the affected subject (a project-wide incident: the project, or its only model)? */
function names(d: Detection, s: Scenario): boolean {
  const subject = s.incident!.subject;
  if (subject.userId !== undefined) return d.subject.userId === subject.userId;
  if (subject.model !== undefined) return d.subject.model === subject.model;
  if (subject.promptName !== undefined) return d.subject.promptName === subject.promptName;
  return !d.subject.userId && !d.subject.promptName && (!d.subject.model || s.models === 1);
}

const KIND_OF: Record<IncidentKind, DetectionKind> = {
  cost_burst: 'cost_spike',
  error_burst: 'error_rate',
  latency_regression: 'latency_regression',
  creep: 'creep',
  prompt_regression: 'prompt_regression',
};

/** Minutes after onset at which the live scheduler is emulated. */
const CHECKS: Record<IncidentKind, number[]> = {
  cost_burst: [2, 5, 10, 15, 20, 30, 45, 60, 90, 120],
  error_burst: [2, 5, 10, 15, 20, 30, 45, 60, 90, 120],
  latency_regression: [15, 30, 45, 60, 90, 120, 180],
  creep: [],
  prompt_regression: [30, 60, 90, 120, 180],
};

function only(config: DetectionConfig, kind: DetectionKind): DetectionConfig {
  const cfg = { ...config };
  for (const k of DETECTION_KINDS) Object.assign(cfg, { [k]: { ...config[k], enabled: k === kind } });
  return cfg;
}

async function evaluate(client: ClickHouseClient, config: DetectionConfig, s: Scenario): Promise<Outcome> {
  const inc = s.incident!;
  const kind = KIND_OF[inc.kind];
  const cfg = only(config, kind);
  if (inc.kind === 'creep') {
    const pass = await runDetectors(client, cfg, { fromMs: s.endMs - HOUR, toMs: s.endMs }, s.project);
    const hit = pass.detections.find((d) => d.kind === kind && names(d, s));
    const seen = pass.detections
      .filter((d) => d.kind === kind)
      .map((d) => `${d.rule} ${subjectKey(d.subject)}`);
    return {
      scenario: s,
      detected: !!hit,
      ttdMinutes: null,
      seen,
      ...(hit ? { firstDetection: hit.rule } : {}),
    };
  }
  const seen = new Set<string>();
  for (const minutes of CHECKS[inc.kind]) {
    const at = inc.onsetMs + minutes * MIN;
    if (at > s.endMs) break;
    const pass = await livePass(client, cfg, at, s.project);
    const hit = pass.detections.find((d) => d.kind === kind && names(d, s));
    if (hit) return { scenario: s, detected: true, ttdMinutes: minutes, firstDetection: hit.rule, seen: [] };
    for (const d of pass.detections)
      if (d.kind === kind) seen.add(`${minutes} min: ${d.rule} ${subjectKey(d.subject)}`);
  }
  return { scenario: s, detected: false, ttdMinutes: null, seen: [...seen] };
}

/** Clean traffic: live passes every `stepMinutes` over the last `hours`; distinct alert keys are false alerts. */
async function falseAlerts(
  client: ClickHouseClient,
  config: DetectionConfig,
  s: Scenario,
  hours: number,
  stepMinutes: number,
): Promise<{ keys: string[]; projectDays: number }> {
  const keys = new Set<string>();
  for (let at = s.endMs - hours * HOUR + stepMinutes * MIN; at <= s.endMs; at += stepMinutes * MIN) {
    const pass = await livePass(client, config, at, s.project);
    for (const d of pass.detections) keys.add(`${d.rule} ${subjectKey(d.subject)}`);
  }
  return { keys: [...keys], projectDays: hours / 24 };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  // LLMWATCH_BENCH_DQ_PART=incidents|clean runs one half (two processes halve the wall time).
  const part = process.env.LLMWATCH_BENCH_DQ_PART;
  const incidents =
    part === 'clean' ? 0 : options.quick ? 20 : Number(process.env.LLMWATCH_BENCH_DQ_INCIDENTS ?? 200);
  const cleans =
    part === 'incidents' ? 0 : options.quick ? 3 : Number(process.env.LLMWATCH_BENCH_DQ_CLEAN ?? 30);
  const cleanHours = 24;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-dq-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  const config = parseConfig({}).detection;
  // A fixed end, so a seed is the same world on every run.
  const endMs = Date.UTC(2026, 10, 20, 0, 0, 0) + 17 * HOUR;
  const outcomes: Outcome[] = [];
  const clean: Array<{
    seed: number;
    keys: string[];
    projectDays: number;
    perMinute: number;
    historyDays: number;
  }> = [];
  const t0 = performance.now();
  try {
    await migrate(client);
    // Clean worlds have seeds of their own (from 100001), whichever half runs;
    // LLMWATCH_BENCH_DQ_SEEDS=39,100004 re-runs chosen worlds.
    const chosen = process.env.LLMWATCH_BENCH_DQ_SEEDS?.split(',').map(Number);
    const seeds = chosen ?? [
      ...Array.from({ length: incidents }, (_, i) => i + 1),
      ...Array.from({ length: cleans }, (_, i) => CLEAN_SEEDS + i),
    ];
    const total = seeds.length;
    for (let i = 0; i < total; i++) {
      const isClean = seeds[i]! >= CLEAN_SEEDS;
      const s = drawScenario(seeds[i]!, endMs, isClean);
      const ids = {
        v1: identity(s.dialect, 'answer', '7', 'u-0'),
        v2: identity(s.dialect, 'answer', '8', 'u-0'),
        runaway: identity(s.dialect, 'answer', '7', 'runaway').userId,
        userPrefix: identity(s.dialect, 'answer', '7', 'u-').userId,
      };
      await client.command({ query: insertSql(s, ids, false) });
      if (s.historyDays > READ_DAYS) await client.command({ query: firstCallSql(s) });
      if (s.incident?.kind === 'cost_burst') await client.command({ query: insertSql(s, ids, true) });
      if (isClean) {
        const r = await falseAlerts(client, config, s, cleanHours, 120);
        clean.push({ seed: s.seed, ...r, perMinute: s.perMinute, historyDays: s.historyDays });
      } else outcomes.push(await evaluate(client, config, s));
      process.stderr.write(
        `\rdetect-quality: ${i + 1}/${total} scenarios (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    process.stderr.write('\n');
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const rows = INCIDENTS.map((kind) => {
    const all = outcomes.filter((o) => o.scenario.incident!.kind === kind);
    const above = all.filter((o) => o.scenario.incident!.aboveMinimum);
    const ttd = median(all.filter((o) => o.ttdMinutes !== null).map((o) => o.ttdMinutes!));
    const ttdAbove = median(above.filter((o) => o.ttdMinutes !== null).map((o) => o.ttdMinutes!));
    return {
      kind,
      scenarios: all.length,
      aboveMinimum: above.length,
      recallAboveMinimum: above.length ? above.filter((o) => o.detected).length / above.length : null,
      recallAll: all.length ? all.filter((o) => o.detected).length / all.length : null,
      medianTtdMinutes: ttd,
      medianTtdAboveMinimumMinutes: ttdAbove,
      missedAboveMinimum: above
        .filter((o) => !o.detected)
        .map((o) => ({
          seed: o.scenario.seed,
          size: Number(o.scenario.incident!.size.toFixed(3)),
          perMinute: Number(o.scenario.perMinute.toFixed(2)),
          historyDays: Number(o.scenario.historyDays.toFixed(1)),
          minutes: o.scenario.incident!.durationMs / MIN,
          subject: o.scenario.incident!.subject,
          dialect: o.scenario.dialect,
          seen: o.seen,
        })),
    };
  });
  const cleanDays = clean.reduce((a, c) => a + c.projectDays, 0);
  const falseCount = clean.reduce((a, c) => a + c.keys.length, 0);
  const pctText = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  const markdown = [
    `## Detection quality over seeded worlds (${outcomes.length} incident scenarios, ${clean.length} clean; ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    '',
    '| incident kind | scenarios | at/above minimum effect | recall above minimum | recall, all sizes | median time to detect (above minimum) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.scenarios} | ${r.aboveMinimum} | ${pctText(r.recallAboveMinimum)} | ${pctText(r.recallAll)} | ${
          r.kind === 'creep'
            ? 'daily'
            : r.medianTtdAboveMinimumMinutes === null
              ? '–'
              : `${r.medianTtdAboveMinimumMinutes} min`
        } |`,
    ),
    '',
    `False alerts on clean traffic: ${falseCount} in ${cleanDays.toFixed(1)} simulated project-days of live passes every 2 hours (${(
      (falseCount / Math.max(cleanDays, 1e-9)) *
      30
    ).toFixed(2)} per 30 project-days).`,
  ].join('\n');
  return {
    name: 'detect-quality',
    markdown,
    data: {
      kinds: rows,
      clean: {
        projectDays: cleanDays,
        falseAlerts: falseCount,
        perScenario: clean.filter((c) => c.keys.length),
      },
    },
  };
}
