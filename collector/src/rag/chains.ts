import type { ClickHouseClient } from '@clickhouse/client';
import { normalQuantile } from '../detect/stats.js';
import { loadTraces } from './store.js';
import { buildSteps, walk, type Step } from './steps.js';

/**
 * Chains (docs/rag.md): for each pipeline (root span name), each top-level step's error ratio,
 * scores, latency and cost, and which step's failure most raises the chance that the final answer
 * fails — conditional failure rates with confidence intervals — next to end-to-end success vs
 * the product of the steps' success rates, so that compounding errors show.
 *
 * A step fails when it or anything below it errors, or a score on it is below `failScore`; the
 * final answer fails when the root errors, or a score on the root (or the whole trace) is below
 * `failScore`.
 */

export interface ChainOptions {
  /** Scores below this count as a failure. @default 0.5 */
  failScore?: number;
  /** At most this many traces are read per call (the most recent). @default 5000 */
  maxTraces?: number;
  /** Confidence level of the intervals. @default 0.95 */
  confidence?: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface ChainStep {
  name: string;
  /** Median position among the root's children (0 = first). */
  position: number;
  traces: number;
  errorRatio: number;
  failRatio: number;
  meanScore: number | null;
  latencyP50Ms: number;
  meanCostUsd: number;
  /** P(final answer fails | this step failed), with its interval; null when it never failed. */
  finalFailGivenFail: (Interval & { rate: number; n: number }) | null;
  /** P(final answer fails | this step succeeded). */
  finalFailGivenOk: (Interval & { rate: number; n: number }) | null;
  /** The difference of the two, with a Newcombe interval; null when either side is empty. */
  riskDifference: (Interval & { value: number }) | null;
  /**
   * Share of final failures that would go away if this step never failed (population
   * attributable fraction), 0 when its failure does not raise the final failure rate.
   */
  attributableShare: number;
}

export interface ChainReport {
  pipeline: string;
  traces: number;
  finalFailRatio: number;
  /** Observed end-to-end success. */
  endToEndSuccess: number;
  /** Product of each step's success rate: what independent steps would give. */
  productOfStepSuccess: number;
  steps: ChainStep[];
  /** The step whose failures drive final failures most (null when none significantly does). */
  driver: string | null;
}

/** Wilson score interval of a proportion. */
export function wilson(successes: number, n: number, confidence = 0.95): Interval {
  if (n === 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, (centre - margin) / denom), high: Math.min(1, (centre + margin) / denom) };
}

/** Newcombe's hybrid score interval for p1 − p2 (method 10 of Newcombe, Stat Med 1998). */
export function newcombeDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  confidence = 0.95,
): Interval & { value: number } {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const a = wilson(x1, n1, confidence);
  const b = wilson(x2, n2, confidence);
  const value = p1 - p2;
  return {
    value,
    low: value - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: value + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
  };
}

interface TraceOutcome {
  pipeline: string;
  finalFailed: boolean;
  steps: Array<{
    name: string;
    position: number;
    failed: boolean;
    error: boolean;
    score: number | null;
    durationMs: number;
    costUsd: number;
  }>;
}

function subtreeHasError(step: Step): boolean {
  for (const s of walk(step)) if (s.error) return true;
  return false;
}

function subtreeCost(step: Step): number {
  let cost = 0;
  for (const s of walk(step)) cost += s.costUsd;
  return cost;
}

/** Outcome of one trace: its final result and each top-level step's. Pure. */
export function traceOutcome(root: Step, failScore: number): TraceOutcome {
  const lowScore = (step: Step) => step.scores.some((s) => s.value < failScore);
  return {
    pipeline: root.name,
    finalFailed: root.error || lowScore(root),
    steps: root.children.map((child, position) => {
      const error = subtreeHasError(child);
      const score = child.scores.length
        ? child.scores.reduce((a, s) => a + s.value, 0) / child.scores.length
        : null;
      return {
        name: child.name,
        position,
        failed: error || lowScore(child),
        error,
        score,
        durationMs: child.durationMs,
        costUsd: subtreeCost(child),
      };
    }),
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Aggregates the outcomes of one pipeline's traces. Pure. */
export function chainReport(
  pipeline: string,
  outcomes: readonly TraceOutcome[],
  confidence = 0.95,
): ChainReport {
  const n = outcomes.length;
  const finalFails = outcomes.filter((o) => o.finalFailed).length;
  const names = new Map<string, TraceOutcome['steps']>();
  for (const o of outcomes)
    for (const s of o.steps) {
      const list = names.get(s.name) ?? [];
      list.push(s);
      names.set(s.name, list);
    }
  const steps: ChainStep[] = [];
  for (const [name, runs] of names) {
    // Traces where this step ran, with their final outcome.
    const ran = outcomes.filter((o) => o.steps.some((s) => s.name === name));
    const failedIn = ran.filter((o) => o.steps.some((s) => s.name === name && s.failed));
    const okIn = ran.filter((o) => !o.steps.some((s) => s.name === name && s.failed));
    const ff = failedIn.filter((o) => o.finalFailed).length;
    const fo = okIn.filter((o) => o.finalFailed).length;
    const scores = runs.map((r) => r.score).filter((s): s is number => s !== null);
    const pFinal = ran.length ? ran.filter((o) => o.finalFailed).length / ran.length : 0;
    const pFinalOk = okIn.length ? fo / okIn.length : 0;
    const difference =
      failedIn.length && okIn.length
        ? newcombeDifference(ff, failedIn.length, fo, okIn.length, confidence)
        : null;
    steps.push({
      name,
      position: median(runs.map((r) => r.position)),
      traces: ran.length,
      errorRatio: runs.filter((r) => r.error).length / runs.length,
      failRatio: runs.filter((r) => r.failed).length / runs.length,
      meanScore: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      latencyP50Ms: median(runs.map((r) => r.durationMs)),
      meanCostUsd: runs.reduce((a, r) => a + r.costUsd, 0) / runs.length,
      finalFailGivenFail: failedIn.length
        ? { rate: ff / failedIn.length, n: failedIn.length, ...wilson(ff, failedIn.length, confidence) }
        : null,
      finalFailGivenOk: okIn.length
        ? { rate: pFinalOk, n: okIn.length, ...wilson(fo, okIn.length, confidence) }
        : null,
      riskDifference: difference,
      attributableShare:
        difference && difference.value > 0 && pFinal > 0 ? Math.max(0, (pFinal - pFinalOk) / pFinal) : 0,
    });
  }
  steps.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  const significant = steps.filter((s) => s.riskDifference && s.riskDifference.low > 0);
  const driver = significant.sort((a, b) => b.attributableShare - a.attributableShare)[0]?.name ?? null;
  return {
    pipeline,
    traces: n,
    finalFailRatio: n ? finalFails / n : 0,
    endToEndSuccess: n ? 1 - finalFails / n : 0,
    productOfStepSuccess: steps.reduce((p, s) => p * (1 - s.failRatio), 1),
    steps,
    driver,
  };
}

/** Chain reports of every pipeline with traces in the range (roots that have child steps). */
export async function chainReports(
  client: ClickHouseClient,
  project: string,
  fromMs: number,
  toMs: number,
  options: ChainOptions = {},
): Promise<ChainReport[]> {
  const failScore = options.failScore ?? 0.5;
  const result = await client.query({
    query: `SELECT TraceId FROM otel_traces
      WHERE ProjectId = {project:String} AND ParentSpanId = ''
        AND Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})
      GROUP BY TraceId ORDER BY max(Timestamp) DESC LIMIT {limit:UInt32}`,
    query_params: {
      project,
      from: Math.floor(fromMs),
      to: Math.ceil(toMs),
      limit: options.maxTraces ?? 5_000,
    },
    format: 'JSONEachRow',
  });
  const traceIds = (await result.json<{ TraceId: string }>()).map((r) => r.TraceId);
  const byPipeline = new Map<string, TraceOutcome[]>();
  for (let i = 0; i < traceIds.length; i += 500) {
    for (const trace of await loadTraces(client, project, traceIds.slice(i, i + 500))) {
      const root = buildSteps(trace.rows);
      if (!root || root.spanId === '' || root.children.length < 2) continue;
      const outcome = traceOutcome(root, failScore);
      const list = byPipeline.get(outcome.pipeline) ?? [];
      list.push(outcome);
      byPipeline.set(outcome.pipeline, list);
    }
  }
  return [...byPipeline]
    .map(([pipeline, outcomes]) => chainReport(pipeline, outcomes, options.confidence))
    .sort((a, b) => b.traces - a.traces);
}
