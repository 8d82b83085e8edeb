import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchReport } from '../api/client.js';
import { parseConfig } from '../config/index.js';
import { insertSeed, seedTraffic } from '../demo/seed.js';
import { silentLogger } from '../logging.js';
import { startCollector, type RunningCollector } from '../server/collector.js';

describe('GET /api/report on a running collector', () => {
  let dir: string;
  let collector: RunningCollector;
  const rows = seedTraffic({ now: new Date(), hours: 2, callsPerHour: 120, projects: ['shop', 'other'] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-report-api-'));
    const config = parseConfig({
      server: { port: 0 },
      projects: [
        { id: 'shop', keys: ['shop-key-123456'] },
        { id: 'other', keys: ['other-key-123456'] },
      ],
      storage: { dataDir: join(dir, 'data') },
    });
    collector = await startCollector(config, { logger: silentLogger, drainTimeoutMs: 2_000 });
    await insertSeed(collector.deps.clickhouse.ingest, rows);
  });
  afterAll(async () => {
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers with the key's project only", async () => {
    const report = (await fetchReport(collector.url, '24h', 'shop-key-123456'))!;
    expect(report.project).toBe('shop');
    expect(report.totals.calls).toBe(rows.llmCalls.filter((r) => r.ProjectId === 'shop').length);
    expect(report.byModel.length).toBe(3);
  });

  it('refuses a missing key and a bad duration', async () => {
    await expect(fetchReport(collector.url, '24h', undefined)).rejects.toThrow(/refused the key/);
    const res = await fetch(`${collector.url}/api/report?since=yesterday`, {
      headers: { authorization: 'Bearer shop-key-123456' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^since:/);
  });

  it('is undefined (not an error) when nothing listens, so the CLI can fall back to the data dir', async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    expect(await fetchReport(`http://127.0.0.1:${port}`, '24h', undefined)).toBeUndefined();
  });
});
