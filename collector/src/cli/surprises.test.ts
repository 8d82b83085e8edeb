import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config/index.js';
import { silentLogger } from '../logging.js';
import { formatUsd } from '../report/render.js';
import { startCollector, type RunningCollector } from '../server/collector.js';
import { parseInstant, runDetect } from './commands/detect.js';
import { startHere } from './commands/start.js';
import { DEMO_DATA_DIR, reportCommand } from './commands/demo.js';
import { loadReport } from './commands/report.js';

/**
 * Regressions of issue 14's CLI surprises, one test each, named after what surprised a new user.
 * One collector (in this process, on embedded storage) serves the ones that need a running one.
 */
const repoRoot = resolve(import.meta.dirname, '../../..');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(
    process.execPath,
    ['--conditions=@llmwatch/source', '--import', 'tsx', 'collector/src/cli/main.ts', ...args],
    { cwd: repoRoot, encoding: 'utf8' },
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('llmwatch CLI surprises (issue 14)', () => {
  let dir: string;
  let collector: RunningCollector;
  const collectorData = () => join(dir, 'x', 'a');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-cli-surprises-'));
    collector = await startCollector(
      parseConfig({
        server: { port: 0 },
        storage: { dataDir: collectorData() },
        ingest: { workers: 0 },
        detection: { enabled: false },
      }),
      { logger: silentLogger },
    );
  }, 60_000);

  afterAll(async () => {
    await collector?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A config file whose port no collector listens on, pointing at `dataDir`. */
  async function configOn(dataDir: string): Promise<string> {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `server:\n  port: ${await freePort()}\nstorage:\n  dataDir: ${dataDir}\n`);
    return file;
  }

  it('everything a collector owns lives under its --data directory, nothing next to it', () => {
    // --data /x/a used to put spool/ and pii-hash.key in /x, so sibling collectors collided.
    expect(readdirSync(join(dir, 'x'))).toEqual(['a']);
    const own = readdirSync(collectorData());
    expect(own).toEqual(expect.arrayContaining(['spool', 'pii-hash.key', 'collector.json']));
    expect(JSON.parse(readFileSync(join(collectorData(), 'collector.json'), 'utf8'))).toEqual({
      pid: process.pid,
      url: collector.url,
    });
  });

  it('a locked data directory names the running collector and the flag to use, not the engine lock error', async () => {
    // The collector runs on another port than the config says: report fell back to the data
    // directory and printed `Code: 76 ... Cannot lock file`.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const failure = await loadReport({ since: '1h', config: await configOn(collectorData()) }).catch(
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ exitCode: 1 });
      expect((failure as Error).message).toContain(`in use by the collector at ${collector.url}`);
      expect((failure as Error).message).toContain(`--collector ${collector.url}`);
      expect((failure as Error).message).not.toMatch(/Code: 76|Cannot lock/);
    } finally {
      stderr.mockRestore();
    }
  });

  it('start on a data directory another collector holds names that collector, not the engine lock error', async () => {
    const failure = await startHere(
      parseConfig({ server: { port: 0 }, storage: { dataDir: collectorData() } }),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ exitCode: 1 });
    expect((failure as Error).message).toBe(
      `${collectorData()} is in use by the collector at ${collector.url} (pid ${process.pid}); give this one another --data`,
    );
  });

  it('--data is never silently ignored when a collector answers', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      // The config points at the running collector; --data names a directory with no data.
      const config = join(dir, 'running.yaml');
      writeFileSync(config, `server:\n  port: ${collector.port}\n`);
      const empty = join(dir, 'nothing-here');
      await expect(loadReport({ since: '1h', config, data: empty })).rejects.toThrow(`no data in ${empty}`);
      // Without --data the same config reads through the collector.
      await expect(loadReport({ since: '1h', config })).resolves.toMatchObject({ totals: { calls: 0 } });
      // Two sources at once is a usage error, not a silent choice.
      await expect(
        loadReport({ since: '1h', config, data: empty, collector: collector.url }),
      ).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('only one of') });
    } finally {
      stderr.mockRestore();
    }
  });

  it('a start that fails on a busy port creates nothing', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const dataDir = join(dir, 'busy', 'data');
    try {
      await expect(
        startCollector(parseConfig({ server: { port }, storage: { dataDir } }), { logger: silentLogger }),
      ).rejects.toMatchObject({ message: `cannot listen on 127.0.0.1:${port}: EADDRINUSE` });
      expect(existsSync(join(dir, 'busy'))).toBe(false);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('remote detect shows progress while the collector works', async () => {
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const now = Date.now();
      await runDetect({
        from: new Date(now - 3_600_000).toISOString(),
        to: new Date(now).toISOString(),
        collector: collector.url,
        dryRun: true,
      });
    } finally {
      stderr.mockRestore();
    }
    expect(written.join('')).toContain(`detect: the collector at ${collector.url} is working through`);
  });

  it('the demo prints the command that shows its data, and the README runs that command', () => {
    const command = reportCommand(
      { dataDir: resolve(DEMO_DATA_DIR) } as Parameters<typeof reportCommand>[0],
      undefined,
    );
    expect(command).toBe(`pnpm llmwatch report --data ${DEMO_DATA_DIR} --since 4d`);
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).toContain(command);
    expect(
      reportCommand({ collectorUrl: 'http://h:1' } as Parameters<typeof reportCommand>[0], 'http://h:1'),
    ).toBe('pnpm llmwatch report --collector http://h:1 --since 4d');
  });

  it('small costs print with significant digits, not $0.0000', () => {
    expect(formatUsd(0.000042)).toBe('$0.000042');
    expect(formatUsd(0.00000012)).toBe('$0.00000012');
    expect(formatUsd(0.0133)).toBe('$0.013');
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(12.345)).toBe('$12.35');
  });

  it('dates are ISO 8601 only, as the message says: --from "Nov 1 2026" exits 2', () => {
    expect(parseInstant('2026-11-01', '--from')).toBe(Date.UTC(2026, 10, 1));
    expect(parseInstant('2026-11-01T09:30:00Z', '--from')).toBe(Date.UTC(2026, 10, 1, 9, 30));
    expect(parseInstant('2026-11-01T09:30', '--from')).toBe(Date.UTC(2026, 10, 1, 9, 30));
    expect(parseInstant('2026-11-01T09:30:00.5+02:00', '--from')).toBe(Date.UTC(2026, 10, 1, 7, 30, 0, 500));
    for (const bad of ['Nov 1 2026', '1761955200000', '2026-02-30', '2026-11-01T25:00Z', 'yesterday'])
      expect(() => parseInstant(bad, '--from'), bad).toThrow(/not an ISO 8601 time/);
    const run = cli(['detect', '--from', 'Nov 1 2026', '--to', '2026-11-02T00:00:00Z']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'llmwatch: --from: not an ISO 8601 time: "Nov 1 2026" (e.g. 2026-11-01 or 2026-11-01T09:30:00Z)\n',
    );
  });

  it('--version prints the version', () => {
    const run = cli(['--version']);
    expect(run.status).toBe(0);
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'collector/package.json'), 'utf8')) as {
      version: string;
    };
    expect(run.stdout).toBe(`${version}\n`);
  });

  it('--help of report and detect states where data is read from', () => {
    const run = cli(['report', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Where the data is read from (the first that applies)');
  });
});
