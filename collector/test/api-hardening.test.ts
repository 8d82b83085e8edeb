import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../src/server/collector.js';
import { startTestCollector, stopCollectors, tempDir } from './ingest-helpers.js';

/** Open (no-key, loopback) mode: what a web page or a bad parameter can and cannot do. */
let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    server: { allowedHosts: ['llmwatch.internal'], metrics: { port: 0 } },
  });
});
afterAll(stopCollectors);

/** GET with an explicit Host header (fetch does not let a caller set it; a browser page neither). */
function getWithHost(path: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, collector.url), { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('open mode', () => {
  it('DNS rebinding: a Host header other than loopback names or server.allowedHosts gets 403', async () => {
    const port = new URL(collector.url).port;
    expect(await getWithHost('/api/calls', `attacker.example:${port}`)).toBe(403);
    expect(await getWithHost('/api/calls', `localhost:${port}`)).toBe(200);
    expect(await getWithHost('/api/calls', `127.0.0.1:${port}`)).toBe(200);
    expect(await getWithHost('/api/calls', `[::1]:${port}`)).toBe(200);
    expect(await getWithHost('/api/calls', 'llmwatch.internal')).toBe(200);
  });

  it('/metrics on its own listener (server.metrics.port) and not on the API port', async () => {
    expect(collector.metricsUrl).toBeDefined();
    const metrics = await fetch(`${collector.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/llmwatch_storage_up 1/);
    expect((await fetch(`${collector.url}/metrics`)).status).toBe(404);
  });
});

describe('out-of-range parameters', () => {
  it('out-of-range from/to/since answer 400 naming the parameter, not 500', async () => {
    for (const query of [
      '/api/calls?from=9999-12-31T00:00:00Z',
      '/api/calls?to=9999999999999999',
      '/api/calls?from=1000-01-01',
      '/api/alerts?since=9999999999999999',
      '/api/overview?from=9000000000000000',
    ]) {
      const res = await fetch(`${collector.url}${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message, query).toMatch(/^(from|to|since): /);
    }
    const detect = await fetch(`${collector.url}/api/detect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 1e20, to: Date.now() }),
    });
    expect(detect.status).toBe(400);
  });
});
