import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '@llmwatch/collector';
import { startE2eCollector, type E2eCollector } from '../helpers/collector.js';
import { HOUR } from './traffic.js';
import { seededRandom } from '@llmwatch/core';

/**
 * Alert delivery end to end: a collector with a webhook (HMAC-signed) and a Slack notifier, the
 * Slack receiver failing its first requests. A backtest over an error-rate incident must deliver
 * the firing and the resolved message to both, exactly once each, and a re-run must not repeat them.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

async function receiver(failFirst: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  let seen = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = seen++ < failFirst ? 500 : 200;
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end(status === 200 ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for deliveries');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('alert notifications', () => {
  let e2e: E2eCollector;
  let collector: RunningCollector;
  let webhook: Awaited<ReturnType<typeof receiver>>;
  let slack: Awaited<ReturnType<typeof receiver>>;
  const incidentFrom = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

  beforeAll(async () => {
    webhook = await receiver(0);
    slack = await receiver(2);
    e2e = await startE2eCollector('notify', {
      logging: { level: 'silent' },
      detection: { enabled: false },
      alerts: {
        notifiers: [
          { type: 'webhook', url: webhook.url, secret: 's3cret', headers: { 'x-team': 'llm' } },
          { type: 'slack', url: slack.url },
          // Nothing listens here: this notifier fails every attempt and must not hold anything up.
          { type: 'webhook', url: 'http://127.0.0.1:9/dead' },
        ],
        delivery: { attempts: 4, initialBackoffMs: 20, maxBackoffMs: 100, timeoutMs: 1000 },
      },
    });
    collector = e2e.collector;
    // Three days of gpt-4o-mini calls with 1% errors, then one hour with 30% RateLimitError.
    const r = seededRandom(3);
    const rows: Record<string, unknown>[] = [];
    for (let t = incidentFrom - 3 * 24 * HOUR; t < incidentFrom + 2 * HOUR; t += 60_000) {
      const incident = t >= incidentFrom && t < incidentFrom + HOUR;
      const error = r() < (incident ? 0.3 : 0.01);
      rows.push({
        ProjectId: 'default',
        Timestamp: (t / 1000).toFixed(3),
        ServiceName: 'app',
        Provider: 'openai',
        Model: 'gpt-4o-mini',
        Status: error ? 'error' : 'ok',
        ErrorType: error ? 'RateLimitError' : '',
        LatencyMs: 400 + 100 * r(),
        InputTokens: 100,
        OutputTokens: error ? 0 : 20,
        CostUsd: 0.0001,
      });
    }
    await collector.deps.clickhouse.ingest.insert({
      table: 'llm_calls',
      values: rows,
      format: 'JSONEachRow',
    });
  });

  afterAll(async () => {
    await e2e?.close();
    webhook?.server.close();
    slack?.server.close();
  });

  const detect = async () => {
    const started = Date.now();
    const res = await fetch(`${collector.url}/api/detect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: new Date(incidentFrom - HOUR).toISOString(),
        to: new Date(incidentFrom + 2 * HOUR).toISOString(),
      }),
    });
    expect(res.status).toBe(200);
    return {
      body: (await res.json()) as { detections: Array<{ status: string; rule: string }> },
      ms: Date.now() - started,
    };
  };

  it('delivers firing and resolved to the webhook (signed) and to Slack after it recovers', async () => {
    const { body, ms } = await detect();
    expect(body.detections.map((d) => `${d.status} ${d.rule}`)).toEqual([
      'firing error_rate.model',
      'resolved error_rate.model',
    ]);
    // The dead notifier retries with backoff in the background; the API answered without it.
    expect(ms).toBeLessThan(10_000);

    await until(() => webhook.got.length >= 2 && slack.got.filter((g) => g.status === 200).length >= 2);
    const [firing, resolved] = webhook.got.map((g) => JSON.parse(g.body) as Record<string, unknown>);
    expect(firing).toMatchObject({
      kind: 'error_rate',
      status: 'firing',
      severity: 'critical',
      project: 'default',
      rule: 'error_rate.model',
      subject: { provider: 'openai', model: 'gpt-4o-mini' },
      window: { from: new Date(incidentFrom).toISOString(), to: new Date(incidentFrom + HOUR).toISOString() },
      evidence: { dominantErrorType: 'RateLimitError' },
    });
    expect(Object.keys(firing!).sort()).toEqual(
      [
        'baseline',
        'evidence',
        'id',
        'kind',
        'message',
        'observed',
        'project',
        'rule',
        'severity',
        'status',
        'subject',
        'window',
      ].sort(),
    );
    expect(resolved).toMatchObject({ status: 'resolved', rule: 'error_rate.model', id: firing!.id });
    for (const g of webhook.got) {
      const expected = `sha256=${createHmac('sha256', 's3cret').update(g.body).digest('hex')}`;
      expect(g.headers['x-llmwatch-signature']).toBe(expected);
      expect(g.headers['x-team']).toBe('llm');
      expect(g.headers['content-type']).toBe('application/json');
    }
    expect(webhook.got.map((g) => g.headers['x-llmwatch-event'])).toEqual(['firing', 'resolved']);

    // Slack failed twice, then got both messages (retries of the same payload).
    expect(slack.got.slice(0, 2).map((g) => g.status)).toEqual([500, 500]);
    const delivered = slack.got
      .filter((g) => g.status === 200)
      .map((g) => JSON.parse(g.body) as { text: string; blocks: unknown[] });
    expect(delivered).toHaveLength(2);
    const texts = delivered.map((d) => d.text).join('\n');
    expect(texts).toContain('CRITICAL: error rate — model gpt-4o-mini');
    expect(texts).toContain('Resolved: error rate — model gpt-4o-mini');
    expect(texts).toContain('mostly RateLimitError');
    expect(delivered[0]!.blocks.length).toBeGreaterThanOrEqual(3);
  });

  it('does not notify again when the same range is backtested again (dedup + cooldown)', async () => {
    const before = webhook.got.length;
    await detect();
    await new Promise((r) => setTimeout(r, 300));
    expect(webhook.got.length).toBe(before);
  });

  it('lists the alert in GET /api/alerts with its current state', async () => {
    const res = await fetch(`${collector.url}/api/alerts?status=resolved`);
    const body = (await res.json()) as { alerts: Array<{ rule: string; status: string; subject: unknown }> };
    expect(body.alerts.map((a) => [a.rule, a.status, a.subject])).toEqual([
      ['error_rate.model', 'resolved', { provider: 'openai', model: 'gpt-4o-mini' }],
    ]);
    const firing = (await (await fetch(`${collector.url}/api/alerts?status=firing`)).json()) as {
      alerts: unknown[];
    };
    expect(firing.alerts).toEqual([]);
    expect((await fetch(`${collector.url}/api/alerts?status=nope`)).status).toBe(400);
  });
});
