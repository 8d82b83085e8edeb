import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecorder } from '../alert/state.js';
import { parseConfig } from '../config/index.js';
import { openClickHouse, queryRows } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { startScheduler } from './scheduler.js';

const HOUR = 3_600_000;

describe('detection scheduler', () => {
  let dir: string;
  let client: ClickHouseClient;
  const now = Math.floor(Date.now() / HOUR) * HOUR;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-sched-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    // Two days of calls with 1% errors; the last hour fails 40% of the time.
    const rows: Record<string, unknown>[] = [];
    for (let t = now - 48 * HOUR, i = 0; t < now; t += 30_000, i++) {
      const error = t >= now - HOUR ? i % 5 < 2 : i % 100 === 0;
      rows.push({
        ProjectId: 'p1',
        Timestamp: (t / 1000).toFixed(3),
        Provider: 'anthropic',
        Model: 'claude-sonnet-4',
        Status: error ? 'error' : 'ok',
        ErrorType: error ? 'OverloadedError' : '',
        LatencyMs: 900,
      });
    }
    await client.insert({ table: 'llm_calls', values: rows, format: 'JSONEachRow' });
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('judges the last window before now minus the lag, once at a time, and records the alert', async () => {
    const config = parseConfig({ detection: { enabled: false, lagSeconds: 0, windowMinutes: 60 } });
    const scheduler = startScheduler(
      { client, detection: config.detection, recorder: alertRecorder({ client, alerts: config.alerts }) },
      () => now,
    );
    const a = scheduler.runOnce();
    // A second call while a pass runs joins it instead of starting an overlapping one.
    expect(scheduler.runOnce()).toBe(a);
    await a;
    await scheduler.stop();
    const state = await queryRows<{ rule: string; status: string; subject: string }>(
      client,
      `SELECT Rule AS rule, Status AS status, SubjectKey AS subject FROM alert_state FINAL`,
    );
    expect(state).toEqual([
      { rule: 'error_rate.model', status: 'firing', subject: 'provider=anthropic|model=claude-sonnet-4' },
    ]);
  });

  it('never keeps the process alive on its own and stops cleanly when never run', async () => {
    const config = parseConfig({ detection: { intervalSeconds: 3600 } });
    const scheduler = startScheduler({
      client,
      detection: config.detection,
      recorder: alertRecorder({ client, alerts: config.alerts }),
    });
    await expect(scheduler.stop()).resolves.toBeUndefined();
  });
});
