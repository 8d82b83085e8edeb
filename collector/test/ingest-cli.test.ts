import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import { LlmwatchError } from '../src/errors.js';
import { startCollector } from '../src/server/collector.js';
import {
  numberedSpans,
  postSpans,
  rows,
  runCli,
  spawnCollector,
  startTestCollector,
  stopCollectors,
  tempDir,
} from './ingest-helpers.js';

const dir = tempDir();
afterAll(stopCollectors);

describe('llmwatch start', () => {
  it('exits 2 with a one-line reason on a bad flag or a bad config', async () => {
    const badPort = await runCli(['start', '--port', 'http', '--data', join(dir, 'unused')]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim().split('\n')).toEqual(['llmwatch: --port: expected 0-65535, got "http"']);
    const missing = await runCli(['start', '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read config file/);
  });

  it('refuses to listen beyond loopback without project keys', async () => {
    const config = parseConfig({
      server: { host: '0.0.0.0', port: 0 },
      storage: { dataDir: join(dir, 'x') },
    });
    await expect(startCollector(config)).rejects.toMatchObject({
      code: 'config',
      message: expect.stringMatching(/refusing to listen on 0\.0\.0\.0/) as unknown,
    });
    await expect(startCollector(config)).rejects.toBeInstanceOf(LlmwatchError);
    const cli = await runCli(['start', '--host', '0.0.0.0', '--port', '0', '--data', join(dir, 'x')]);
    expect(cli.code).toBe(2);
  });

  it('drains on SIGTERM: what was acknowledged is inserted and the spool is empty', async () => {
    const { proc, url } = await spawnCollector(dir);
    expect((await postSpans(url, numberedSpans('c1', 50))).status).toBe(200);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(join(dir, 'data', 'spool')).filter((f) => f.endsWith('.seg'))).toEqual([]);
    const reopened = await startTestCollector(dir);
    const [count] = await rows<{ n: string }>(
      reopened,
      "SELECT toString(count()) AS n FROM otel_traces WHERE startsWith(SpanId, 'c1')",
    );
    expect(count?.n).toBe('50');
  });
  it('refuses a spool directory another live collector owns', async () => {
    // After the child-process test: this process now holds the data directory.
    const spoolDir = join(dir, 'spool-shared');
    await startTestCollector(dir, { ingest: { spoolDir } });
    await expect(startTestCollector(dir, { ingest: { spoolDir } })).rejects.toMatchObject({
      code: 'config',
      message: expect.stringMatching(/is in use by process \d+/) as unknown,
    });
  });
});
