import type { ClickHouseClient } from '@clickhouse/client';
import { LlmwatchError } from '../errors.js';
import { queryRows } from '../storage/clickhouse.js';
import { builtinEvaluator, type BuiltinEvaluator, type ScoreResult, type StoredCall } from './builtin.js';
import type { EvaluationConfig, SamplingConfig } from './config.js';
import { createJudge, type Judge } from './judge.js';

/** Calls read and scored per step: bounds memory and the work a crash can lose. */
const PAGE_SIZE = 500;
const DAY_MS = 86_400_000;

export interface EvalRequest {
  fromMs: number;
  toMs: number;
  /** One project; every project when undefined (the scheduled job). */
  project?: string;
  /** Names of the configured evaluators to run; all when undefined. */
  evaluators?: readonly string[];
  /** Share of calls scored (0..1) for every prompt; the configured per-prompt sampling when undefined. */
  sampleRate?: number;
  /** Score, but store nothing (and spend nothing on judges: they are not called). */
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluatorSummary {
  name: string;
  version: string;
  type: string;
  /** Scores written (or computed, in a dry run). */
  scored: number;
  /** Mean of those scores (built-ins: pass rate; judges: 0..1). */
  mean: number | null;
  /** Calls this evaluator had scored before with the same version. */
  alreadyScored: number;
  /** Calls the check does not apply to (e.g. no text whose language could be told). */
  notApplicable: number;
  /** Judge requests that failed or timed out: no score written for them. */
  failed: number;
  /** Judges only. */
  costUsd?: number;
  meanLatencyMs?: number | null;
  /** Why a judge stopped before the end of the range. */
  stopped?: 'budget' | 'daily_budget';
  errors?: string[];
}

export interface EvalResult {
  from: string;
  to: string;
  /** Calls in the range that were sampled and had output to evaluate. */
  calls: number;
  dryRun: boolean;
  evaluators: EvaluatorSummary[];
}

type Evaluator = { kind: 'builtin'; impl: BuiltinEvaluator } | { kind: 'judge'; impl: Judge };

interface CallRow extends StoredCall {
  project: string;
}

/** The configured evaluators a request asks for; an unknown name is a usage error. */
export function selectEvaluators(config: EvaluationConfig, names?: readonly string[]): Evaluator[] {
  const known = new Map(config.evaluators.map((e) => [e.name, e]));
  for (const name of names ?? [])
    if (!known.has(name))
      throw new LlmwatchError(
        'bad_request',
        `evaluator ${name} is not configured (configured: ${[...known.keys()].join(', ') || 'none'})`,
      );
  const chosen = names ? names.map((n) => known.get(n)!) : config.evaluators;
  return chosen.map((e) =>
    e.type === 'judge'
      ? { kind: 'judge', impl: createJudge(e) }
      : { kind: 'builtin', impl: builtinEvaluator(e) },
  );
}

/** Deterministic sampling: the same calls are picked on every pass, so reruns fill gaps only. */
function samplingParams(sampling: SamplingConfig, sampleRate: number | undefined): Record<string, unknown> {
  if (sampleRate !== undefined) return { spNames: [], spRates: [], spDefault: sampleRate };
  const entries = Object.entries(sampling.prompts);
  return {
    spNames: entries.map(([n]) => n),
    spRates: entries.map(([, r]) => r),
    spDefault: sampling.default,
  };
}

const CALL_FILTER = `({project:String} = '' OR ProjectId = {project:String})
  AND Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64}) AND Timestamp < fromUnixTimestamp64Milli({toMs:Int64})
  AND Status != 'error' AND OutputContent != ''
  AND cityHash64(SpanId) % 1000000 < toUInt64(1000000 * transform(PromptName, {spNames:Array(String)}, {spRates:Array(Float64)}, {spDefault:Float64}))`;

const PAGE_SQL = `
SELECT ProjectId AS project, TraceId AS traceId, SpanId AS spanId,
  toUnixTimestamp64Milli(Timestamp) AS timeMs, PromptName AS promptName, Model AS model,
  InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent,
  OutputTokens AS outputTokens, FinishReasons AS finishReasons
FROM llm_calls
WHERE ${CALL_FILTER}
  AND (Timestamp, SpanId) > (fromUnixTimestamp64Milli({curMs:Int64}), {curSpan:String})
ORDER BY Timestamp, SpanId
LIMIT ${PAGE_SIZE}`;

const COUNT_SQL = `SELECT toString(count()) AS n FROM llm_calls WHERE ${CALL_FILTER}`;

/** Which (call, evaluator) pairs of a page already have a score from the same evaluator version. */
const DONE_SQL = `
SELECT SpanId AS spanId, Evaluator AS evaluator FROM scores
WHERE ({project:String} = '' OR ProjectId = {project:String})
  AND Timestamp >= fromUnixTimestamp64Milli({fromMs:Int64}) AND Timestamp <= fromUnixTimestamp64Milli({toMs:Int64})
  AND Source = 'eval' AND SpanId IN {spans:Array(String)}
  AND (Evaluator, EvaluatorVersion) IN (SELECT (e[1], e[2]) FROM (SELECT arrayJoin({evs:Array(Array(String))}) AS e))`;

const SPENT_TODAY_SQL = `
SELECT sum(CostUsd) AS spent FROM eval_spend
WHERE ({project:String} = '' OR ProjectId = {project:String}) AND Day = toDate(now(), 'UTC') AND Evaluator = {name:String}`;

interface JudgeState {
  spentUsd: number;
  /** Worst-case cost of the requests in flight. */
  reservedUsd: number;
  budgetUsd: number;
  /** Which limit `budgetUsd` is: the run's or what is left of the day's. */
  limitedBy: 'budget' | 'daily_budget';
  stoppedBy: 'budget' | 'daily_budget' | undefined;
  latencies: number[];
  /** Spend and requests since the last eval_spend write, per project. */
  unrecorded: Map<string, { requests: number; failures: number; costUsd: number }>;
}

/**
 * Runs evaluators over the stored calls of a time range (a backfill; the scheduled job calls it
 * for its latest slice). Every score is written whole, in one insert per page, only after its
 * evaluator finished: a judge that fails or times out writes no score for that call. Calls that
 * already carry a score of the same evaluator version are skipped, so reruns only fill gaps.
 */
export async function evaluateRange(
  client: ClickHouseClient,
  config: EvaluationConfig,
  req: EvalRequest,
): Promise<EvalResult> {
  const evaluators = selectEvaluators(config, req.evaluators);
  const dryRun = req.dryRun ?? false;
  const params = {
    project: req.project ?? '',
    fromMs: req.fromMs,
    toMs: req.toMs,
    ...samplingParams(config.sampling, req.sampleRate),
  };
  const summaries = new Map<string, EvaluatorSummary & { sum: number }>(
    evaluators.map((e) => [
      e.impl.name,
      {
        name: e.impl.name,
        version: e.impl.version,
        type: e.kind === 'judge' ? 'judge' : e.impl.type,
        scored: 0,
        sum: 0,
        mean: null,
        alreadyScored: 0,
        notApplicable: 0,
        failed: 0,
      },
    ]),
  );
  const judges = new Map<string, JudgeState>();
  for (const e of evaluators) {
    if (e.kind !== 'judge') continue;
    const cfg = e.impl.config;
    let dailyLeft = Number.POSITIVE_INFINITY;
    if (cfg.dailyBudgetUsd !== undefined) {
      const [row] = await queryRows<{ spent: number }>(client, SPENT_TODAY_SQL, {
        project: params.project,
        name: cfg.name,
      });
      dailyLeft = Math.max(0, cfg.dailyBudgetUsd - Number(row?.spent ?? 0));
    }
    judges.set(cfg.name, {
      spentUsd: 0,
      reservedUsd: 0,
      budgetUsd: Math.min(cfg.maxSpendUsd, dailyLeft),
      limitedBy: dailyLeft < cfg.maxSpendUsd ? 'daily_budget' : 'budget',
      stoppedBy: undefined,
      latencies: [],
      unrecorded: new Map(),
    });
  }

  const [count] = await queryRows<{ n: string }>(client, COUNT_SQL, params);
  const total = Number(count?.n ?? 0);
  const evs = evaluators.map((e) => [e.impl.name, e.impl.version]);
  let done = 0;
  let cursor = { curMs: req.fromMs - 1, curSpan: '' };
  req.onProgress?.(0, total);

  for (;;) {
    const calls = await queryRows<CallRow>(client, PAGE_SQL, { ...params, ...cursor });
    if (calls.length === 0) break;
    const last = calls[calls.length - 1]!;
    cursor = { curMs: Number(last.timeMs), curSpan: last.spanId };
    const already = new Set(
      (
        await queryRows<{ spanId: string; evaluator: string }>(client, DONE_SQL, {
          ...params,
          spans: calls.map((c) => c.spanId),
          evs,
        })
      ).map((r) => `${r.spanId}\n${r.evaluator}`),
    );
    const rows: Record<string, unknown>[] = [];
    const scoreRow = (call: CallRow, e: Evaluator, s: ScoreResult, costUsd = 0, latencyMs = 0) => ({
      ProjectId: call.project,
      Timestamp: Number(call.timeMs),
      TraceId: call.traceId,
      SpanId: call.spanId,
      Name: e.impl.name,
      Value: s.value,
      Label: s.label,
      Comment: s.comment,
      Source: 'eval',
      Evaluator: e.impl.name,
      EvaluatorVersion: e.impl.version,
      EvalCostUsd: costUsd,
      EvalLatencyMs: latencyMs,
    });

    for (const e of evaluators) {
      const summary = summaries.get(e.impl.name)!;
      const todo: CallRow[] = [];
      for (const call of calls) {
        if (e.impl.prompts && !e.impl.prompts.includes(call.promptName)) continue;
        if (already.has(`${call.spanId}\n${e.impl.name}`)) summary.alreadyScored++;
        else todo.push({ ...call, outputTokens: Number(call.outputTokens), timeMs: Number(call.timeMs) });
      }
      if (e.kind === 'builtin') {
        for (const call of todo) {
          const s = e.impl.evaluate(call);
          if (!s) {
            summary.notApplicable++;
            continue;
          }
          summary.scored++;
          summary.sum += s.value;
          rows.push(scoreRow(call, e, s));
        }
      } else if (!dryRun) {
        const state = judges.get(e.impl.name)!;
        await runJudge(e.impl, state, todo, summary, (call, s, cost, latency) => {
          summary.scored++;
          summary.sum += s.value;
          rows.push(scoreRow(call as CallRow, e, s, cost, latency));
        });
      }
    }

    if (!dryRun) {
      if (rows.length) await client.insert({ table: 'scores', format: 'JSONEachRow', values: rows });
      await recordSpend(client, judges);
    }
    done += calls.length;
    req.onProgress?.(done, total);
    if (calls.length < PAGE_SIZE) break;
  }

  return {
    from: new Date(req.fromMs).toISOString(),
    to: new Date(req.toMs).toISOString(),
    calls: done,
    dryRun,
    evaluators: [...summaries.values()].map(({ sum, ...s }) => {
      const judge = judges.get(s.name);
      return {
        ...s,
        mean: s.scored ? sum / s.scored : null,
        ...(judge
          ? {
              costUsd: Math.round(judge.spentUsd * 1e8) / 1e8,
              meanLatencyMs: judge.latencies.length
                ? judge.latencies.reduce((a, b) => a + b, 0) / judge.latencies.length
                : null,
              ...(judge.stoppedBy ? { stopped: judge.stoppedBy } : {}),
            }
          : {}),
      };
    }),
  };
}

/**
 * Judges `calls` with up to `concurrency` requests in flight. A request is sent only if its
 * worst-case cost fits in what is left of the budget once the requests in flight are counted at
 * their worst case too: the budget is never crossed, however many run at once.
 */
async function runJudge(
  judge: Judge,
  state: JudgeState,
  calls: StoredCall[],
  summary: EvaluatorSummary,
  onScore: (call: StoredCall, score: ScoreResult, costUsd: number, latencyMs: number) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < calls.length && state.stoppedBy === undefined) {
      const call = calls[next++]!;
      const worst = judge.worstCaseCostUsd(call);
      if (state.spentUsd + state.reservedUsd + worst > state.budgetUsd) {
        state.stoppedBy ??= state.limitedBy;
        return;
      }
      state.reservedUsd += worst;
      const outcome = await judge.judge(call);
      state.reservedUsd -= worst;
      state.spentUsd += outcome.costUsd;
      const project = (call as CallRow).project;
      const spend = state.unrecorded.get(project) ?? { requests: 0, failures: 0, costUsd: 0 };
      spend.requests++;
      spend.costUsd += outcome.costUsd;
      state.unrecorded.set(project, spend);
      if (outcome.ok) {
        state.latencies.push(outcome.latencyMs);
        onScore(call, outcome.score, outcome.costUsd, outcome.latencyMs);
      } else {
        spend.failures++;
        summary.failed++;
        summary.errors ??= [];
        if (summary.errors.length < 5) summary.errors.push(outcome.error);
      }
    }
  };
  await Promise.all(Array.from({ length: judge.config.concurrency }, worker));
}

async function recordSpend(client: ClickHouseClient, judges: Map<string, JudgeState>): Promise<void> {
  const day = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
  const rows: Record<string, unknown>[] = [];
  for (const [name, state] of judges) {
    for (const [project, s] of state.unrecorded)
      rows.push({
        ProjectId: project,
        Day: day,
        Evaluator: name,
        Requests: s.requests,
        Failures: s.failures,
        CostUsd: s.costUsd,
      });
    state.unrecorded.clear();
  }
  if (rows.length) await client.insert({ table: 'eval_spend', format: 'JSONEachRow', values: rows });
}
