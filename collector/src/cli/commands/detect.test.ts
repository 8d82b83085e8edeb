import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../../storage/clickhouse.js';
import { migrate } from '../../storage/migrations/index.js';
import { formatDetection, runDetect } from './detect.js';

const HOUR = 3_600_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('llmwatch detect without a running collector', () => {
  let dir: string;
  let configFile: string;
  const incident = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-cli-detect-'));
    const client = await openClickHouse({ mode: 'embedded', dataDir: join(dir, 'data') }, 'admin');
    await migrate(client);
    const rows: Record<string, unknown>[] = [];
    for (let t = incident - 30 * HOUR, i = 0; t < incident + HOUR; t += 60_000, i++) {
      const error = t >= incident ? i % 3 === 0 : i % 100 === 0;
      rows.push({
        ProjectId: 'default',
        Timestamp: (t / 1000).toFixed(3),
        Provider: 'openai',
        Model: 'gpt-4o',
        Status: error ? 'error' : 'ok',
        ErrorType: error ? 'APITimeoutError' : '',
        LatencyMs: 800,
      });
    }
    await client.insert({ table: 'llm_calls', values: rows, format: 'JSONEachRow' });
    await client.close();
    // Nothing listens on this port: the command must fall back to the data directory.
    configFile = join(dir, 'llmwatch.config.yaml');
    writeFileSync(
      configFile,
      `server:\n  port: ${await freePort()}\nstorage:\n  dataDir: ${join(dir, 'data')}\n`,
    );
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backtests the embedded data directory itself and prints readable lines', async () => {
    const detections = await runDetect({
      from: new Date(incident - HOUR).toISOString(),
      to: new Date(incident + HOUR).toISOString(),
      config: configFile,
      dryRun: true,
    });
    expect(detections.map((d) => [d.status, d.rule, d.window.from, d.evidence.dominantErrorType])).toEqual([
      ['firing', 'error_rate.model', new Date(incident).toISOString(), 'APITimeoutError'],
    ]);
    expect(formatDetection(detections[0]!)).toMatch(
      /^\S+Z {2}firing {3}critical error_rate\.model +model gpt-4o\n {4}Error rate of model gpt-4o is 33%/,
    );
  });

  it('rejects a bad range as a usage error', async () => {
    await expect(
      runDetect({ from: 'yesterday', to: new Date().toISOString(), config: configFile }),
    ).rejects.toMatchObject({
      code: 'usage',
      exitCode: 2,
    });
    await expect(
      runDetect({
        from: new Date().toISOString(),
        to: new Date(Date.now() - HOUR).toISOString(),
        config: configFile,
      }),
    ).rejects.toMatchObject({ exitCode: 2 });
  });

  it('exits 2 with a one-line reason when --from is missing, and prints JSON lines with --json', () => {
    const cli = (args: string[]) =>
      spawnSync(
        process.execPath,
        ['--conditions=@llmwatch/source', '--import', 'tsx', 'collector/src/cli/main.ts', ...args],
        {
          cwd: join(import.meta.dirname, '../../../..'),
          encoding: 'utf8',
        },
      );
    const missing = cli(['detect', '--to', new Date().toISOString()]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--from <iso>'");
    const json = cli([
      'detect',
      '--from',
      new Date(incident).toISOString(),
      '--to',
      new Date(incident + HOUR).toISOString(),
      '--config',
      configFile,
      '--json',
      '--dry-run',
    ]);
    expect(json.status).toBe(0);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; status: string });
    expect(lines.map((l) => `${l.kind} ${l.status}`)).toEqual(['error_rate firing']);
  });
});
