import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport } from '../cli/commands/report.js';
import { insertSeed, seedTraffic, type SeedRows } from '../demo/seed.js';
import { openClickHouse } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { buildReport, parseSince } from './build.js';
import { renderReport, sparkline } from './render.js';

// Recent on purpose: rows older than the retention TTL are dropped at insert.
const NOW = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
const HOUR_AGO = new Date(NOW.getTime() - 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

describe('parseSince', () => {
  it('reads 30m, 24h, 7d and rejects the rest', () => {
    expect(parseSince('30m')).toBe(1_800_000);
    expect(parseSince('24h')).toBe(86_400_000);
    expect(parseSince('7d')).toBe(604_800_000);
    expect(() => parseSince('24')).toThrow(/--since/);
    expect(() => parseSince('10s')).toThrow(/between 1m and 400d/);
  });
});

describe('sparkline', () => {
  it('scales to the largest value and shows gaps', () => {
    expect(sparkline([0, 1, 2, 4, 8])).toBe(' ▂▃▅█');
    expect(sparkline([0, 0, 0])).toBe('▁▁▁');
  });
});

describe('buildReport on embedded ClickHouse', () => {
  let dir: string;
  let client: ClickHouseClient;
  let rows: SeedRows;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-report-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    rows = seedTraffic({ now: NOW, hours: 3, callsPerHour: 200, projects: ['default', 'other'] });
    await insertSeed(client, rows);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mine = () => rows.llmCalls.filter((r) => r.ProjectId === 'default');

  it('totals and per-model numbers match the stored calls exactly', async () => {
    const report = await buildReport(client, { project: 'default', sinceMs: 6 * 3_600_000, now: NOW });
    const calls = mine();
    expect(report.totals.calls).toBe(calls.length);
    expect(report.totals.errors).toBe(calls.filter((c) => c.Status === 'error').length);
    expect(report.totals.inputTokens).toBe(calls.reduce((n, c) => n + Number(c.InputTokens), 0));
    expect(report.totals.costUsd).toBeCloseTo(
      calls.reduce((n, c) => n + (c.CostUsd === null ? 0 : Number(c.CostUsd)), 0),
      9,
    );
    expect(report.totals.unpricedCalls).toBe(calls.filter((c) => c.CostUsd === null).length);
    expect(report.byModel.map((g) => g.key).sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'gpt-4o-mini']);
    const mini = report.byModel.find((g) => g.key === 'gpt-4o-mini')!;
    expect(mini.provider).toBe('openai');
    expect(mini.calls).toBe(calls.filter((c) => c.Model === 'gpt-4o-mini').length);
    // Sparkline series add up to the calls; costs are sorted high to low.
    expect(mini.callsSeries.reduce((a, b) => a + b, 0)).toBe(mini.calls);
    expect(report.byModel[0]!.costUsd).toBeGreaterThanOrEqual(report.byModel[1]!.costUsd);
    expect(report.byPrompt.map((g) => g.key).sort()).toEqual(['answer v3', 'classify v2', 'summarize v1']);
    // Percentiles come from the rollup's t-digests: close to the exact ones.
    const sorted = calls.map((c) => Number(c.LatencyMs)).sort((a, b) => a - b);
    const exactP50 = sorted[Math.floor(sorted.length / 2)]!;
    expect(Math.abs(report.totals.p50Ms! - exactP50) / exactP50).toBeLessThan(0.05);
    expect(report.errors.reduce((n, e) => n + e.calls, 0)).toBe(report.totals.errors);
    const pii = rows.piiFindings.filter((r) => r.ProjectId === 'default');
    expect(report.pii.reduce((n, p) => n + p.findings, 0)).toBe(pii.length);
    expect(report.pii.reduce((n, p) => n + p.series.reduce((a, b) => a + b, 0), 0)).toBe(pii.length);
  });

  it('keeps to the window and the project', async () => {
    const report = await buildReport(client, { project: 'default', sinceMs: 3_600_000, now: NOW });
    const inWindow = mine().filter((c) => String(c.Timestamp) >= HOUR_AGO);
    expect(report.totals.calls).toBe(inWindow.length);
    const none = await buildReport(client, { project: 'nobody', sinceMs: 3_600_000, now: NOW });
    expect(none.totals.calls).toBe(0);
    expect(none.byModel).toEqual([]);
    expect(renderReport(none)).toContain('(no calls)');
  });

  it('lists the firing alerts of the project from alert_state, latest version only', async () => {
    const detection = {
      id: 'abc',
      kind: 'cost_spike',
      status: 'firing',
      severity: 'critical',
      project: 'default',
      rule: 'cost_spike.user',
      subject: { userId: 'user-7' },
      window: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' },
      observed: 12,
      baseline: 1,
      message: 'user-7 spent 12x the usual',
      evidence: {},
    };
    const row = (version: number, status: string, project = 'default') => ({
      ProjectId: project,
      Rule: 'cost_spike.user',
      SubjectKey: 'userId=user-7',
      Kind: 'cost_spike',
      Status: status,
      Severity: 'critical',
      FirstFiredAt: '2026-01-01 00:30:00.000',
      LastFiredAt: '2026-01-01 01:00:00.000',
      Json: JSON.stringify(detection),
      Version: version,
    });
    await client.insert({
      table: 'alert_state',
      format: 'JSONEachRow',
      values: [row(1, 'firing'), row(1, 'firing', 'other')],
    });
    let report = await buildReport(client, { project: 'default', sinceMs: 3_600_000, now: NOW });
    // The seeded traffic has firing alerts of its own; this one must be among them, once.
    const mineOnly = () => report.alerts!.filter((a) => a.subject.userId === 'user-7');
    expect(report.alerts!.length).toBeGreaterThan(1);
    expect(mineOnly()).toEqual([
      {
        id: 'abc',
        kind: 'cost_spike',
        severity: 'critical',
        status: 'firing',
        rule: 'cost_spike.user',
        subject: { userId: 'user-7' },
        message: 'user-7 spent 12x the usual',
        firstSeen: '2026-01-01T00:30:00.000Z',
        lastSeen: '2026-01-01T01:00:00.000Z',
      },
    ]);
    expect(renderReport(report)).toContain('userId=user-7');
    await client.insert({ table: 'alert_state', format: 'JSONEachRow', values: [row(2, 'resolved')] });
    report = await buildReport(client, { project: 'default', sinceMs: 3_600_000, now: NOW });
    expect(mineOnly()).toEqual([]);
  });

  it('renders tables with every model and prompt', async () => {
    const text = renderReport(
      await buildReport(client, { project: 'default', sinceMs: 6 * 3_600_000, now: NOW }),
    );
    for (const word of ['gpt-4o-mini', 'claude-sonnet-4-5', 'answer v3', 'PII: type', 'errors: model'])
      expect(text).toContain(word);
    expect(text).toMatch(/[▁▂▃▄▅▆▇█]{4}/);
  });

  it('regression: without a running collector the CLI reads the embedded data directory itself', async () => {
    // A port nobody listens on, so the HTTP attempt is refused and the CLI falls back.
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const config = join(dir, '..', `llmwatch-report-${port}.yaml`);
    writeFileSync(config, `server:\n  port: ${port}\nstorage:\n  dataDir: ${dir}\n`);
    try {
      const report = await loadReport({ since: '400d', config });
      expect(report.project).toBe('default');
      expect(report.totals.calls).toBe(mine().length);
    } finally {
      rmSync(config);
    }
  });
});
