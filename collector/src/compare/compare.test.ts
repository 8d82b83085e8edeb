import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { compareCohorts, compareOptionsSchema, parseCohortSpec, type Comparison } from './compare.js';
import { insertSyntheticCohort, type SyntheticCohort } from './seed.js';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const BASE: Omit<SyntheticCohort, 'promptName' | 'promptVersion' | 'seed'> = {
  project: 'p',
  model: 'gpt-4o',
  calls: 600,
  costUsd: 0.01,
  latencyMs: 1000,
  errorRate: 0.02,
  outputTokens: 200,
  score: 0.8,
  scoreName: 'helpfulness',
  startMs: T0,
};
const RANGE = { from: T0, to: T0 + 86_400_000 };
const verdicts = (c: Comparison) => Object.fromEntries(c.metrics.map((m) => [m.metric, m.verdict]));

describe('compare on seeded cohorts', () => {
  let dir: string;
  let client: ClickHouseClient;
  const options = compareOptionsSchema.parse({});
  const cohort = (prompt: string, version: string) => ({
    ...RANGE,
    promptName: prompt,
    promptVersion: version,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-compare-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    const plant = (promptName: string, version: string, seed: number, extra: Partial<SyntheticCohort> = {}) =>
      insertSyntheticCohort(client, { ...BASE, promptName, promptVersion: version, seed, ...extra });
    // Cheaper and faster, same quality.
    await plant('cheap', '1', 1);
    await plant('cheap', '2', 2, { costUsd: 0.001, latencyMs: 600, model: 'gpt-4o-mini' });
    // Worse: lower scores, more errors, longer answers.
    await plant('worse', '1', 3);
    await plant('worse', '2', 4, { score: 0.65, errorRate: 0.12, outputTokens: 260 });
    // No difference at all: the same distributions, different draws.
    await plant('same', '1', 5);
    await plant('same', '2', 6);
    // Too few calls.
    await plant('tiny', '1', 7, { calls: 12 });
    await plant('tiny', '2', 8, { calls: 12 });
  });

  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds B cheaper and faster and not worse in quality, with the headline sentence', async () => {
    const c = await compareCohorts(client, 'p', cohort('cheap', '1'), cohort('cheap', '2'), options);
    expect(c.status).toBe('ok');
    expect(verdicts(c)).toMatchObject({
      cost_per_call_usd: 'better',
      latency_p50_ms: 'better',
      latency_p95_ms: 'better',
      ttft_p50_ms: 'better',
      error_ratio: 'no_difference',
      output_tokens: 'no_difference',
      'score:helpfulness': 'non_inferior',
    });
    const cost = c.metrics.find((m) => m.metric === 'cost_per_call_usd')!;
    expect(cost.change.relative).toBeGreaterThan(-0.95);
    expect(cost.change.relative).toBeLessThan(-0.85);
    expect(cost.change.ci![1]).toBeLessThan(0);
    const p50 = c.metrics.find((m) => m.metric === 'latency_p50_ms')!;
    expect(p50.change.relative).toBeGreaterThan(-0.5);
    expect(p50.change.relative).toBeLessThan(-0.3);
    expect(c.summary).toMatch(
      /^B costs 9\d% less, is [34]\d% faster and starts answering [34]\d% sooner; helpfulness not worse than A by more than 0\.05 \(p (<|=) 0\.0\d+\)\.$/,
    );
  });

  it('finds lower scores, more errors and longer answers in B, each in the right direction', async () => {
    const c = await compareCohorts(client, 'p', cohort('worse', '1'), cohort('worse', '2'), options);
    expect(verdicts(c)).toMatchObject({
      cost_per_call_usd: 'no_difference',
      latency_p50_ms: 'no_difference',
      error_ratio: 'worse',
      output_tokens: 'worse',
      'score:helpfulness': 'worse',
    });
    expect(c.summary).toMatch(/fails more often .*helpfulness WORSE by 0\.1\d/);
  });

  it('finds no difference where none was planted', async () => {
    const c = await compareCohorts(client, 'p', cohort('same', '1'), cohort('same', '2'), options);
    for (const m of c.metrics)
      expect([m.metric, m.verdict]).not.toContainEqual(expect.stringMatching(/better|worse/));
    expect(c.summary).toMatch(/^No significant difference/);
  });

  it('says "not enough data yet" with a number of calls below the guards', async () => {
    const c = await compareCohorts(client, 'p', cohort('tiny', '1'), cohort('tiny', '2'), options);
    expect(c.status).toBe('insufficient');
    expect(c.metrics.every((m) => m.verdict === 'insufficient')).toBe(true);
    expect(c.summary).toMatch(
      /^Not enough data yet: 12 calls in A and 12 in B; about \d+ more calls per cohort needed\.$/,
    );
    const more = Number(/about (\d+)/.exec(c.summary)![1]);
    expect(more).toBeGreaterThanOrEqual(options.minCalls - 12);
  });

  it('selects cohorts by model, tag and time, and parses CLI cohort specs', async () => {
    const byModel = await compareCohorts(
      client,
      'p',
      { ...RANGE, promptName: 'cheap', model: 'gpt-4o' },
      { ...RANGE, promptName: 'cheap', model: 'gpt-4o-mini' },
      options,
    );
    expect(byModel.calls).toEqual({ a: 600, b: 600 });
    expect(parseCohortSpec('prompt=answer, version=3, tag.tier=gold', RANGE)).toEqual({
      ...RANGE,
      promptName: 'answer',
      promptVersion: '3',
      tag: 'tier=gold',
    });
    expect(() => parseCohortSpec('colour=red', RANGE)).toThrow(/unknown key colour/);
  });
});
