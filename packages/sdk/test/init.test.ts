import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { flush, init, shutdown, stats } from '../src/index.js';
import { fakeOpenAI } from './harness.js';

const openai = fakeOpenAI();
afterEach(() => shutdown());

const listen = (server: Server | ReturnType<typeof createTcpServer>): Promise<number> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const call = () =>
  openai.client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
  });

describe('init()', () => {
  it('exports OTLP protobuf to <endpoint>/v1/traces with the Bearer project key and service name', async () => {
    const received: { url?: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    const port = await listen(sink);
    init({ endpoint: `http://127.0.0.1:${port}/`, apiKey: 'proj-key-1', serviceName: 'checkout-api' });
    await call();
    await flush();
    await shutdown();
    await shutdown(); // idempotent
    sink.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('/v1/traces');
    expect(received[0]?.headers.authorization).toBe('Bearer proj-key-1');
    expect(received[0]?.headers['content-type']).toBe('application/x-protobuf');
    const body = received[0]!.body.toString('latin1');
    expect(body).toContain('checkout-api');
    expect(body).toContain('gen_ai.usage.input_tokens');
    expect(stats()).toEqual({ spansEnded: 0, spansExported: 0, spansFailed: 0, spansDropped: 0 }); // reset after shutdown
  });

  it('exporter "json" sends OTLP/JSON', async () => {
    let contentType: string | undefined;
    const sink = createServer((req, res) => {
      contentType = req.headers['content-type'];
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    const port = await listen(sink);
    init({ endpoint: `http://127.0.0.1:${port}`, exporter: 'json' });
    await call();
    await flush();
    const s = stats();
    await shutdown();
    sink.close();
    expect(contentType).toBe('application/json');
    expect(s).toMatchObject({ spansEnded: 1, spansExported: 1 });
  });

  it('collector down (accepts, never answers): calls unaffected, queue bounded, drops counted', async () => {
    const sockets: Socket[] = [];
    const blackHole = createTcpServer((s) => void sockets.push(s));
    const port = await listen(blackHole);
    init({
      endpoint: `http://127.0.0.1:${port}`,
      maxQueueSize: 20,
      scheduledDelayMillis: 5,
      exportTimeoutMillis: 500,
    });
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const res = await call();
      latencies.push(performance.now() - t0);
      expect(res.choices[0]?.message.content).toBe('This is a deterministic reply from the fake server.');
    }
    const s = stats();
    expect(s.spansEnded + s.spansDropped).toBe(200);
    expect(s.spansEnded).toBeLessThanOrEqual(20 + s.spansFailed + s.spansExported);
    expect(s.spansDropped).toBeGreaterThanOrEqual(150);
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThan(250);
    // Let the hung exports fail fast so shutdown() returns promptly.
    for (const sock of sockets) sock.destroy();
    blackHole.close();
  });

  it('collector down (connection refused): export failures are counted, never thrown', async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    init({ endpoint: `http://127.0.0.1:${port}`, scheduledDelayMillis: 5, exportTimeoutMillis: 500 });
    for (let i = 0; i < 20; i++) await call();
    await flush();
    const s = stats();
    expect(s.spansEnded).toBe(20);
    expect(s.spansExported).toBe(0);
    expect(s.spansFailed).toBe(20);
  });

  it('does not keep the process alive: an app that never calls shutdown() exits, the collector being down, once its exit flush times out', async () => {
    const script = fileURLToPath(new URL('./fixtures/no-shutdown.ts', import.meta.url));
    const t0 = Date.now();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--conditions=@llmwatch/source', '--import', 'tsx', script, openai.fake.url],
        { timeout: 20_000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    expect(out.trim()).toBe('done');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
