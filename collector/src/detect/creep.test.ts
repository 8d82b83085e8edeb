import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { seededRandom } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { openClickHouse } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { creepDetector, weightedTrend } from './creep.js';

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
  let dir: string;
  let client: ClickHouseClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-creep-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    await client.insert({
      table: 'llm_calls',
      values: [...traffic('creeping', 0.01, 1), ...traffic('flat', 0, 2)],
      format: 'JSONEachRow',
    });
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

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

  it('day-to-day variation beyond sampling error widens the slope’s error', () => {
    const steady = [0, 1, 2, 3, 4, 5].map((x) => ({ x, y: 100 + x, variance: 0.01 }));
    const jumpy = [0, 1, 2, 3, 4, 5].map((x) => ({ x, y: 100 + x + (x % 2 ? 3 : -3), variance: 0.01 }));
    expect(weightedTrend(steady)!.t).toBeGreaterThan(weightedTrend(jumpy)!.t * 5);
    expect(weightedTrend(jumpy)!.dispersion).toBeGreaterThan(100);
  });
});
