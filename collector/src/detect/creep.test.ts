import type { ClickHouseClient } from '@clickhouse/client';
import { seededRandom } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { creepDetector, evaluateCreep, weightedTrend, type CreepDayRow } from './creep.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const end = Math.floor(Date.now() / DAY) * DAY - DAY;
const config = parseConfig({}).detection;

/** Eight days at ~2 calls/min with a daily load cycle; log-normal cost, tokens and latency per call. */
function traffic(project: string, dailyGrowth: number, seed: number): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const rows: Record<string, unknown>[] = [];
  for (let t = end - 8 * DAY; t < end; t += MIN / 3) {
    if (rand() > 0.6 + 0.4 * Math.sin((2 * Math.PI * t) / DAY)) continue;
    const growth = (1 + dailyGrowth) ** ((t - (end - 8 * DAY)) / DAY);
    const out = Math.round(300 * Math.exp(0.4 * normal()));
    rows.push({
      ProjectId: project,
      Timestamp: (t / 1000).toFixed(3),
      SpanId: `${project}-${t}`,
      Provider: 'openai',
      Model: rand() < 0.7 ? 'gpt-4o-mini' : 'gpt-4o',
      OutputTokens: out,
      CostUsd: 0.002 * Math.exp(0.5 * normal()) * growth,
      LatencyMs: 800 * Math.exp(0.3 * normal()),
      Status: rand() < 0.01 ? 'error' : 'ok',
    });
  }
  return rows;
}

describe('creep', () => {
  let db: EmbeddedClickHouse;
  let client: ClickHouseClient;

  beforeAll(async () => {
    db = await embeddedClickHouse('creep');
    client = db.client;
    await client.insert({
      table: 'llm_calls',
      values: [...traffic('creeping', 0.01, 1), ...traffic('flat', 0, 2)],
      format: 'JSONEachRow',
    });
  });

  afterAll(() => db?.close());

  it('finds cost per call rising 1% a day over a week, once, for the whole project', async () => {
    const found = await creepDetector.run({
      client,
      config,
      window: { fromMs: end - 60 * MIN, toMs: end },
      project: 'creeping',
    });
    expect(found.map((d) => [d.rule, d.subject])).toEqual([['creep.cost_per_call', {}]]);
    expect(found[0]!.evidence.rise as number).toBeGreaterThan(0.04);
    expect(found[0]!.evidence.rise as number).toBeLessThan(0.1);
  });

  it('finds nothing on flat traffic', async () => {
    const found = await creepDetector.run({
      client,
      config,
      window: { fromMs: end - 60 * MIN, toMs: end },
      project: 'flat',
    });
    expect(found).toEqual([]);
  });

  it('names the project when its models creep alike, though its own mixed trend rises less', () => {
    const day = (model: string, d: number, costMean: number, costVar: number): CreepDayRow => ({
      project: 'p',
      model,
      day: d,
      calls: 1000,
      costMean,
      costVar,
      outMean: 150,
      outVar: 900,
      errMean: 0.01,
      p95: 1000,
      p95Parts: Array<number>(8).fill(1000),
    });
    const rows: CreepDayRow[] = [];
    for (let d = 0; d < 8; d++) {
      const growth = 1.016 ** (7 - d);
      for (const [model, price] of [
        ['gpt-4o', 0.01],
        ['gpt-4o-mini', 0.0006],
        ['claude-sonnet-4-5', 0.006],
      ] as const)
        rows.push(day(model, d, price * growth, (0.2 * price) ** 2));
      // The project's cost per call mixes the three: far noisier, and its fit rises less.
      rows.push(day('', d, 0.005 * 1.01 ** (7 - d) * (1 + 0.02 * Math.sin(d * 2.1)), 0.006 ** 2));
    }
    const found = evaluateCreep(rows, { fromMs: end - 60 * MIN, toMs: end }, config);
    expect(found.map((d) => [d.rule, d.subject])).toEqual([['creep.cost_per_call', {}]]);
    const contributors = found[0]!.evidence.contributors as Array<{ subject: { model: string } }>;
    expect(contributors.map((c) => c.subject.model).sort()).toEqual([
      'claude-sonnet-4-5',
      'gpt-4o',
      'gpt-4o-mini',
    ]);
  });

  it('regression: a flat p95 is no creep when the days whose 8 subsamples happened to agree lie on a slope', () => {
    // detect-quality clean world 100010: per day the p95 and the variance its subsamples gave.
    const days: Array<[number, number, number]> = [
      [7, 3251.3867, 5823],
      [6, 3134.2234, 2181],
      [5, 3169.237, 991],
      [4, 3255.7744, 3206],
      [3, 3246.1938, 5056],
      [2, 3232.45, 3410],
      [1, 3318.3728, 2764],
      [0, 3320.1995, 903],
    ];
    const rows = days.map(([day, p95, variance]): CreepDayRow => {
      const s = Math.sqrt(7 * variance);
      return {
        project: 'p',
        model: 'claude-sonnet-4-5',
        day,
        calls: 5600,
        costMean: 0.01,
        costVar: 1e-6,
        outMean: 150,
        outVar: 900,
        errMean: 0.01,
        p95,
        p95Parts: Array.from({ length: 8 }, (_, k) => p95 + (k % 2 ? s : -s)),
      };
    });
    expect(evaluateCreep(rows, { fromMs: end - 60 * MIN, toMs: end }, config)).toEqual([]);
  });

  it('day-to-day variation beyond sampling error widens the slope’s error', () => {
    const steady = [0, 1, 2, 3, 4, 5].map((x) => ({ x, y: 100 + x, variance: 0.01 }));
    const jumpy = [0, 1, 2, 3, 4, 5].map((x) => ({ x, y: 100 + x + (x % 2 ? 3 : -3), variance: 0.01 }));
    expect(weightedTrend(steady)!.t).toBeGreaterThan(weightedTrend(jumpy)!.t * 5);
    expect(weightedTrend(jumpy)!.dispersion).toBeGreaterThan(100);
  });
});
