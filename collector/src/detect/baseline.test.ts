import type { ClickHouseClient } from '@clickhouse/client';
import { seededRandom } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { baselineStatus, baselineStatuses } from './baseline.js';
import { livePass, runDetectors } from './engine.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
// The same hour of the daily cycle whenever the suite runs: the traffic, and so the outcome, do
// not depend on the time of day (a run at 08:00 once met a chance burst of one small user).
const now = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 10 * HOUR;
const config = parseConfig({}).detection;

interface Traffic {
  project: string;
  fromMs: number;
  toMs: number;
  perMinute: number;
  /** Per call: overrides of the row at time t (model, cost, status…). */
  shape?: (t: number, rand: () => number, model: string) => Record<string, unknown>;
}

/** Calls at a steady Poisson-like rate with a ±30% daily cycle, two models of one provider, 20 users. */
function calls(t: Traffic, seed: number): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  const rows: Record<string, unknown>[] = [];
  for (let m = t.fromMs; m < t.toMs; m += MIN) {
    const rate = t.perMinute * (1 + 0.3 * Math.sin((2 * Math.PI * m) / (24 * HOUR)));
    const n = Math.floor(rate + rand());
    for (let i = 0; i < n; i++) {
      const ts = m + Math.floor(rand() * MIN);
      const model = rand() < 0.5 ? 'gpt-4o' : 'gpt-4o-mini';
      const out = Math.round(200 + rand() * 200);
      rows.push({
        ProjectId: t.project,
        Timestamp: (ts / 1000).toFixed(3),
        TraceId: `${t.project}-${ts}-${i}`,
        SpanId: `${seed}-${rows.length}`,
        ServiceName: 'app',
        Provider: 'openai',
        Model: model,
        InputTokens: 500,
        OutputTokens: out,
        CostUsd: (model === 'gpt-4o' ? 10 : 0.6) * 1e-6 * out + 1e-6 * 500,
        LatencyMs: 600 + rand() * 400,
        Status: rand() < 0.01 ? 'error' : 'ok',
        UserId: `u-${Math.floor(rand() * 20)}`,
        ...t.shape?.(ts, rand, model),
      });
    }
  }
  return rows;
}

describe('baselines that degrade gracefully, and subjects', () => {
  let db: EmbeddedClickHouse;
  let client: ClickHouseClient;

  beforeAll(async () => {
    db = await embeddedClickHouse('baseline');
    client = db.client;
    const rows = [
      // Six hours old; in the last hour one client multiplies the spend for 40 minutes.
      ...calls({ project: 'fresh', fromMs: now - 6 * HOUR, toMs: now, perMinute: 5 }, 1),
      ...calls({ project: 'fresh', fromMs: now - 50 * MIN, toMs: now - 10 * MIN, perMinute: 12 }, 2).map(
        (r) => ({ ...r, UserId: 'runaway', Model: 'gpt-4o', OutputTokens: 4000, CostUsd: 0.04 }),
      ),
      // Six hours of clean traffic: nothing to report.
      ...calls({ project: 'fresh-clean', fromMs: now - 6 * HOUR, toMs: now, perMinute: 5 }, 3),
      // Four days old; for the last 30 minutes half the calls of one of its two models fail.
      ...calls(
        {
          project: 'models',
          fromMs: now - 4 * 24 * HOUR,
          toMs: now,
          perMinute: 4,
          shape: (t, rand, model) =>
            t >= now - 30 * MIN && model === 'gpt-4o-mini' && rand() < 0.5
              ? { Status: 'error', ErrorType: 'RateLimitError' }
              : {},
        },
        4,
      ),
      // Twenty minutes old: learning.
      ...calls({ project: 'new', fromMs: now - 20 * MIN, toMs: now, perMinute: 5 }, 5),
      // Forty minutes old, and for the last half hour most calls are refused (a revoked key).
      ...calls(
        {
          project: 'revoked',
          fromMs: now - 40 * MIN,
          toMs: now,
          perMinute: 3,
          shape: (t, rand) =>
            t >= now - 30 * MIN && rand() < 0.8 ? { Status: 'error', ErrorType: 'AuthenticationError' } : {},
        },
        6,
      ),
    ];
    await client.insert({ table: 'llm_calls', values: rows, format: 'JSONEachRow' });
  });

  afterAll(() => db?.close());

  it('a deployment with 6 hours of history catches a cost burst (recent baseline, named in evidence)', async () => {
    const pass = await runDetectors(client, config, { fromMs: now - HOUR, toMs: now }, 'fresh');
    // One alert, on the runaway user; its model, service and project are contributors, not alerts.
    const cost = pass.detections.filter((d) => d.kind === 'cost_spike');
    expect(cost.map((d) => [d.rule, d.subject])).toEqual([['cost_spike.user', { userId: 'runaway' }]]);
    const user = cost[0]!;
    expect(user.evidence.baseline).toMatchObject({ kind: 'recent' });
    expect((user.evidence.baseline as { historyHours: number }).historyHours).toBeCloseTo(5, 0);
    expect((user.evidence.contributors as Array<{ rule: string }>).map((c) => c.rule).sort()).toEqual([
      'cost_spike.model',
      'cost_spike.project',
      'cost_spike.service',
    ]);
    expect(pass.baselines).toContainEqual(
      expect.objectContaining({ kind: 'cost_spike', project: 'fresh', state: 'recent' }),
    );
  });

  it('six clean hours raise nothing', async () => {
    const pass = await runDetectors(client, config, { fromMs: now - HOUR, toMs: now }, 'fresh-clean');
    expect(pass.detections).toEqual([]);
  });

  it('the live pass flags the burst minutes after it starts', async () => {
    const pass = await livePass(client, config, now - 45 * MIN, 'fresh');
    expect(pass.detections.map((d) => d.kind)).toContain('cost_spike');
  });

  it('an error burst on one model yields one alert naming that model', async () => {
    const pass = await runDetectors(client, config, { fromMs: now - HOUR, toMs: now }, 'models');
    expect(pass.detections.map((d) => [d.rule, d.subject])).toEqual([
      ['error_rate.model', { provider: 'openai', model: 'gpt-4o-mini' }],
    ]);
    expect(pass.detections[0]!.evidence.baseline).toMatchObject({ kind: 'seasonal' });
  });

  it('a project still learning alerts on errors only past the absolute guard, which a failing key passes', async () => {
    const pass = await runDetectors(client, config, { fromMs: now - HOUR, toMs: now }, 'revoked');
    expect(pass.detections.map((d) => [d.rule, d.subject])).toEqual([
      // Both of its models fail: one alert for the provider.
      ['error_rate.provider', { provider: 'openai' }],
    ]);
    expect(pass.detections[0]!.evidence).toMatchObject({
      baseline: { kind: 'guard' },
      dominantErrorType: 'AuthenticationError',
    });
    expect(pass.detections[0]!.message).toContain('too little history to compare');
  });

  it('a project with 20 minutes of history is reported as learning, not judged', async () => {
    const pass = await runDetectors(client, config, { fromMs: now - 10 * MIN, toMs: now }, 'new');
    expect(pass.detections).toEqual([]);
    const states = pass.baselines.filter((b) => b.project === 'new');
    expect(states.length).toBeGreaterThan(0);
    for (const s of states) expect(s).toMatchObject({ state: 'learning', historyHours: expect.any(Number) });
  });

  it('report and /api/detect say per detector which baseline a project has and when it improves', async () => {
    const statuses = await baselineStatuses(client, config, 'fresh', now);
    expect(statuses.map((s) => s.kind)).toEqual([
      'cost_spike',
      'latency_regression',
      'error_rate',
      'drift',
      'creep',
    ]);
    for (const s of statuses.slice(0, 4))
      expect(s).toMatchObject({ state: 'recent', historyHours: 6, nextTierInHours: 42 });
    // Creep fits a trend over whole days: six of them.
    expect(statuses[4]).toMatchObject({ state: 'learning', historyHours: 6, nextTierInHours: 138 });
    const models = await baselineStatuses(client, config, 'models', now);
    // Four days: two more until the daily trend.
    expect(models.find((s) => s.kind === 'creep')).toMatchObject({
      state: 'learning',
      historyHours: 96,
      nextTierInHours: 48,
    });
    expect(
      baselineStatus('creep', { project: 'week', historyMs: 7 * 24 * HOUR, tier: 'seasonal' }, config),
    ).toMatchObject({
      state: 'daily_trend',
      nextTierInHours: null,
    });
    const unknown = await baselineStatuses(client, config, 'nobody', now);
    expect(unknown[0]).toMatchObject({ state: 'learning', historyHours: 0, nextTierInHours: 3 });
  });
});
